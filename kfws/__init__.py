"""kfws: config-as-code reconciler for Kubeflow notebook workspaces."""

__version__ = "0.1.0"
