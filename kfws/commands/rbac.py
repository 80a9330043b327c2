"""kfws rbac: print the Roles kfws needs (writer, read-only), narrowed to the web app's
Deployment and spawner ConfigMap by name, ready for `kubectl apply -n NS -f -`."""

from __future__ import annotations

import argparse

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, cluster_spec
from kfws.errors import KfwsError


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Print the ServiceAccount, Role and RoleBinding kfws needs, as YAML for `kubectl "
        "apply -n NAMESPACE -f -`. The writer Role may patch only the web app's Deployment "
        "and spawner ConfigMap (by name), its backup ConfigMap and the Lease kfws-apply; "
        "the read-only Role only gets and lists. Names come from the options, else from "
        "the workspace file's `cluster:`, else from --detect, else Kubeflow's defaults."
    )
    add_cluster_args(p)
    p.add_argument(
        "--role",
        choices=("both", "writer", "read-only", "usage", "nodes"),
        default="both",
        help="which identity to print (default: %(default)s); usage: the ClusterRole that lets "
        "the read-only identity see which notebooks use which image (kfws usage, plan, prune); "
        "nodes: the optional ClusterRole that lets plan read the nodes' architectures",
    )
    p.add_argument("--configmap", help="the spawner ConfigMap's name (hash suffix included)")
    p.add_argument("--deployment", help="the jupyter-web-app Deployment's name")
    p.add_argument(
        "--detect",
        action="store_true",
        help="read the Deployment and the ConfigMap it mounts from the cluster (needs read access)",
    )
    p.add_argument(
        "--workspacekinds",
        nargs="*",
        metavar="KIND",
        help="print the WorkspaceKind ClusterRoles instead (get/patch on these kinds by name; "
        "none given: the kinds the workspace file declares)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws import rbac

    spec = cluster_spec(args)
    if args.workspacekinds is not None:
        from kfws.targets.workspacekind.rbac import roles

        output.out(roles(args.workspacekinds, file=args.file, namespace=spec.namespace), end="")
        return 0
    configmap = args.configmap or spec.config_map
    deployment = args.deployment or spec.deployment
    if args.detect and not (configmap and deployment):
        from kfws.targets.spawner.observe import observe_cluster

        state = observe_cluster(spec, context=args.context)
        configmap = configmap or state.config_map
        deployment = deployment or state.deployment
    try:
        text = rbac.render(
            args.role,
            configmap=configmap or rbac.DEFAULT_CONFIGMAP,
            deployment=deployment or rbac.DEFAULT_DEPLOYMENT,
            namespace=spec.namespace,
        )
    except ValueError as e:
        raise KfwsError(
            str(e), where="kfws rbac", hint="pass the object's name as Kubernetes shows it"
        ) from None
    if not (configmap or args.role in ("read-only", "usage", "nodes")):
        output.warn(
            f"the writer Role names the ConfigMap {rbac.DEFAULT_CONFIGMAP} (Kubeflow 1.0); "
            "Kubeflow 1.3+ adds a hash suffix: pass --configmap NAME or --detect"
        )
    output.out(text, end="")
    return 0
