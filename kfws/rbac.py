"""The two Roles kfws ships (package data, so a pip install has them too), with the names of
the objects they narrow to filled in for a given cluster.

The packaged YAML is written for Kubeflow's default names (ConfigMap `jupyter-web-app-config`,
Deployment `jupyter-web-app-deployment`, namespace `kubeflow`); `render` replaces those names as
whole words only (`kfws-backup-<configmap>` follows the ConfigMap). deploy/rbac/ holds the same
files rendered with the defaults, byte for byte (a unit test keeps them equal).

Standard library only, on purpose: hack/env-k8s.sh renders the environment's Roles with the
system python3 before any virtualenv exists.
"""

from __future__ import annotations

import json
import re
from importlib import resources

WRITER = "kfws-role.yaml"
READ_ONLY = "kfws-readonly-role.yaml"
NODES = "kfws-nodes-clusterrole.yaml"  # optional, cluster-wide: the architecture check
NODES_BINDING = "kfws-nodes-reader-"
USAGE = "kfws-usage-clusterrole.yaml"  # cluster-wide: notebooks and their pods (kfws usage)
ROLES = {
    "writer": (WRITER,),
    "read-only": (READ_ONLY,),
    "both": (WRITER, READ_ONLY),
    "usage": (USAGE,),
    "nodes": (NODES,),
}
WORKSPACEKINDS = "kfws-workspacekinds-role.yaml"
DEFAULT_KINDS = ("jupyterlab",)
WSK_BACKUP_PREFIX = "kfws-backup-workspacekind-"
DEFAULT_CONFIGMAP = "jupyter-web-app-config"
DEFAULT_DEPLOYMENT = "jupyter-web-app-deployment"
DEFAULT_NAMESPACE = "kubeflow"
BACKUP_PREFIX = "kfws-backup-"
# a DNS-1123 subdomain: what Kubernetes accepts as a ConfigMap/Deployment/namespace name
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


def packaged(filename: str) -> str:
    return resources.files("kfws").joinpath("data", filename).read_text(encoding="utf-8")


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")


def valid_name(name: str) -> bool:
    return len(name) <= 253 and _NAME.fullmatch(name) is not None


def render(
    role: str = "both",
    *,
    configmap: str = DEFAULT_CONFIGMAP,
    deployment: str = DEFAULT_DEPLOYMENT,
    namespace: str = DEFAULT_NAMESPACE,
) -> str:
    """The Role(s) as one YAML stream, naming `configmap`, its backup, `deployment`, and the
    ServiceAccount in `namespace`. Names must be valid Kubernetes names (ValueError otherwise:
    they end up in YAML, so nothing else may get in)."""
    for what, name in (("ConfigMap", configmap), ("Deployment", deployment)):
        if not valid_name(name):
            raise ValueError(f"{name!r} is not a valid {what} name")
    if not valid_name(namespace) or "." in namespace or len(namespace) > 63:
        raise ValueError(f"{namespace!r} is not a valid namespace name")
    texts = []
    for filename in ROLES[role]:
        text = packaged(filename)
        text = _word(BACKUP_PREFIX + DEFAULT_CONFIGMAP).sub((BACKUP_PREFIX + configmap)[:253], text)
        text = _word(DEFAULT_CONFIGMAP).sub(configmap, text)
        text = _word(DEFAULT_DEPLOYMENT).sub(deployment, text)
        # the nodes ClusterRoleBinding is cluster-wide: one per namespace's identities
        text = _word(NODES_BINDING + DEFAULT_NAMESPACE).sub(NODES_BINDING + namespace, text)
        texts.append(_word(DEFAULT_NAMESPACE).sub(namespace, text))
    return "---\n".join(texts)


def render_workspacekinds(
    kinds: tuple[str, ...] = DEFAULT_KINDS, *, namespace: str = DEFAULT_NAMESPACE
) -> str:
    """The WorkspaceKind ClusterRoles (writer and read-only) and the backup Role, naming `kinds`
    (get/patch by name) and their backup ConfigMaps in `namespace`. ValueError on a bad name."""
    if not kinds:
        raise ValueError("no WorkspaceKind named")
    for kind in kinds:
        if not valid_name(kind):
            raise ValueError(f"{kind!r} is not a valid WorkspaceKind name")
    if not valid_name(namespace) or "." in namespace or len(namespace) > 63:
        raise ValueError(f"{namespace!r} is not a valid namespace name")
    names = sorted(set(kinds))
    backups = [(WSK_BACKUP_PREFIX + k)[:253] for k in names]
    text = packaged(WORKSPACEKINDS)
    # JSON lists are YAML flow sequences: the names (checked above) land there quoted
    text = text.replace(f'["{WSK_BACKUP_PREFIX}jupyterlab"]', json.dumps(backups))
    text = text.replace('["jupyterlab"]', json.dumps(names))
    return _word(DEFAULT_NAMESPACE).sub(namespace, text)


# python3 -m kfws.rbac ROLE CONFIGMAP | workspacekinds KIND... | usage NAMESPACE (hack/)
if __name__ == "__main__":
    import sys

    if sys.argv[1] == "workspacekinds":
        print(render_workspacekinds(tuple(sys.argv[2:])), end="")
    elif sys.argv[1] == "usage":  # the ClusterRoleBinding names the ServiceAccounts' namespace
        print(render("usage", namespace=sys.argv[2]), end="")
    else:
        print(render(sys.argv[1], configmap=sys.argv[2]), end="")
