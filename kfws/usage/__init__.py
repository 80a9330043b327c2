"""Who uses which image: Kubeflow notebooks (and the digests their pods run) matched against the
images kfws offers and builds (pure; kfws.observe.notebooks reads the cluster)."""
