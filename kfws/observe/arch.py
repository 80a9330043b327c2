"""What the architecture check (kfws.plan.arch) compares: the CPU architectures of the cluster's
nodes, and the platforms each offered image provides (from its registry manifest).

Nodes are cluster-scoped: reading them needs the ClusterRole `kfws-nodes-reader` (get/list
nodes; `kfws rbac --role nodes`), which the namespaced Roles can't grant. Without it, or on any
other failure, the answer says what could not be seen and the plan reports the check as skipped:
an architecture check is never a reason for a plan to fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from kfws.errors import KfwsError
from kfws.observe.cluster import load_api
from kfws.observe.model import Observed
from kfws.observe.registry import RegistryClient
from kfws.reference import parse_reference
from kfws.spec.model import Spec

ARCH_LABEL = "kubernetes.io/arch"
NODES_ROLE = "kfws-nodes-reader"
NODES = "/api/v1/nodes"


@dataclass(frozen=True)
class NodeArchs:
    archs: tuple[str, ...] = ()  # sorted, each once ("amd64", "arm64")
    skipped: str | None = None  # why they are unknown: the plan says the check was skipped


def node_arch(status_arch: object, labels: object) -> str | None:
    """A node's architecture: the kubelet's report (status.nodeInfo.architecture), else the
    kubernetes.io/arch label. Node objects are cluster input: anything odd reads as unknown."""
    if isinstance(status_arch, str) and status_arch.strip():
        return status_arch.strip()[:64]
    if isinstance(labels, dict):
        label = labels.get(ARCH_LABEL)
        if isinstance(label, str) and label.strip():
            return label.strip()[:64]
    return None


def observe_node_archs(context: str | None) -> NodeArchs:
    # read as JSON through the official ApiClient, not the typed CoreV1Api, whose import builds
    # ~180 models (kfws/observe/kube_api.py says why; a plan reads nodes on every run)
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from kfws.observe import kube_api

    try:
        api = load_api(context)
        nodes = list(kube_api.list_pages(api, NODES))
    except ApiException as e:
        if e.status in (401, 403):
            return NodeArchs(
                skipped=(
                    f"listing nodes is forbidden ({e.status}); bind the ClusterRole "
                    f"{NODES_ROLE} (get/list nodes: `kfws rbac --role nodes`) to enable it"
                )
            )
        return NodeArchs(skipped=f"listing nodes failed ({e.status} {e.reason or ''})".strip())
    except KfwsError as e:
        return NodeArchs(skipped=f"listing nodes failed: {e.message}")
    except (HTTPError, OSError, ValueError) as e:
        return NodeArchs(skipped=f"listing nodes failed ({type(e).__name__})")
    archs: set[str] = set()
    unknown = 0
    for node in nodes:
        arch = node_arch(
            kube_api.field(node, "status", "nodeInfo", "architecture"),
            kube_api.str_map(kube_api.field(node, "metadata", "labels")),
        )
        if arch is None:
            unknown += 1
        else:
            archs.add(arch)
    if not archs:
        what = f"{unknown} nodes report no architecture" if unknown else "the cluster has no nodes"
        return NodeArchs(skipped=what)
    return NodeArchs(archs=tuple(sorted(archs)))


def observe_platforms(
    client: RegistryClient, refs: Sequence[str], parallelism: int
) -> dict[str, tuple[str, ...]]:
    """reference -> the platforms its image provides, for those the registry answered; an image
    whose platforms can't be read is left out (its check is then not made, never failed)."""

    def one(ref: str) -> tuple[str, ...] | None:
        try:
            parsed = parse_reference(ref)
            reference = parsed.digest or parsed.tag or "latest"
            return tuple(client.image_platforms(parsed.repository_with_registry, reference))
        except (KfwsError, ValueError):
            return None

    unique = sorted(set(refs))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(unique)))) as pool:
        found = dict(zip(unique, pool.map(one, unique), strict=True))
    return {ref: platforms for ref, platforms in found.items() if platforms}


def offered_refs(spec: Spec, observed: Observed) -> list[str]:
    """The references the spawner will offer whose image the registry already holds: managed
    images not (re)built by this plan, and external options that resolved."""
    names = {i.name for i in spec.images}
    refs: set[str] = set()
    for group in spec.spawner.groups:
        for option in group.options:
            if option in names:
                state = observed.images[option]
                if state.registry_digest is not None:
                    refs.add(state.reference)
            elif (ext := observed.externals.get(option)) is not None and ext.digest is not None:
                refs.add(option)
    return sorted(refs)


def observe_architectures(
    spec: Spec, observed: Observed, client: RegistryClient, *, context: str | None, parallelism: int
) -> Observed:
    nodes = observe_node_archs(context)
    platforms: dict[str, tuple[str, ...]] = {}
    if nodes.archs:
        platforms = observe_platforms(client, offered_refs(spec, observed), parallelism)
    return dataclasses.replace(
        observed, node_archs=nodes.archs, node_archs_skipped=nodes.skipped, platforms=platforms
    )
