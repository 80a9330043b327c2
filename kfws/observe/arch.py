"""What the architecture check (kfws.plan.arch) compares: the CPU architectures of the cluster's
nodes, the platforms each offered image provides (from its registry manifest), and the platforms
each offered image a plan may build will provide (the workspace's `platform:` / `platforms:`,
else the builder's own: the Docker Engine's `version`, BuildKit's first worker), so a plan says
it before anything is built.

Nodes are cluster-scoped: reading them needs the ClusterRole `kfws-nodes-reader` (get/list
nodes; `kfws rbac --role nodes`), which the namespaced Roles can't grant. Without it, or on any
other failure, the answer says what could not be seen and the plan reports the check as skipped:
an architecture check is never a reason for a plan to fail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfws.build.choose import buildkit_hosts, engine_for
from kfws.errors import KfwsError
from kfws.observe.cluster import load_api
from kfws.observe.model import BuildPlatforms, Observed
from kfws.reference import parse_reference
from kfws.spec.model import Spec

if TYPE_CHECKING:
    from kfws.observe.registry import RegistryClient

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


def observe_refs_architectures(
    client: RegistryClient, refs: Sequence[str], context: str | None, parallelism: int
) -> tuple[NodeArchs, dict[str, tuple[str, ...]]]:
    """For `kfws check`: the nodes' architectures and, when they are known, the platforms of
    `refs` (those the registry answered)."""
    nodes = observe_node_archs(context)
    if not nodes.archs:
        return nodes, {}
    return nodes, observe_platforms(client, refs, parallelism)


def offered_options(spec: Spec) -> set[str]:
    """What the workspace offers users, through every target (a managed image's name or a
    full reference; kfws.targets.dispatch.declared_offers)."""
    from kfws.targets.dispatch import declared_offers

    return {o.image for o in declared_offers(spec)}


def offered_refs(spec: Spec, observed: Observed) -> list[str]:
    """The references the workspace will offer whose image the registry already holds: managed
    images not (re)built by this plan, and external options that resolved."""
    names = {i.name for i in spec.images}
    refs: set[str] = set()
    for option in offered_options(spec):
        if option in names:
            state = observed.images[option]
            if state.registry_digest is not None:
                refs.add(state.reference)
        elif (ext := observed.externals.get(option)) is not None and ext.digest is not None:
            refs.add(option)
    return sorted(refs)


def may_build(spec: Spec, observed: Observed) -> list[str]:
    """The managed images the workspace offers that a plan builds, rebuilds or pushes (the tag
    is missing, or an explicit tag holds other inputs): their platforms are the build's."""
    offered = offered_options(spec)
    out: list[str] = []
    for image in spec.images:
        state, inputs = observed.images.get(image.name), observed.inputs.get(image.name)
        if image.name not in offered or state is None or inputs is None:
            continue
        stale = image.tag is not None and state.registry_input_digest != inputs.input_digest
        if state.registry_digest is None or stale:
            out.append(image.name)
    return out


def worker_platform(text: str) -> str | None:
    """The default platform of `buildctl debug workers --format '{{json .}}'`: the first
    worker's first platform (its native one). Anything odd reads as unknown."""
    try:
        workers = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    first = workers[0] if isinstance(workers, list) and workers else None
    platforms = first.get("platforms") if isinstance(first, dict) else None
    native = platforms[0] if isinstance(platforms, list) and platforms else None
    if not isinstance(native, dict):
        return None
    parts = [native.get(k) for k in ("os", "architecture", "variant")]
    if not all(isinstance(p, str) and 0 < len(p) <= 64 for p in parts[:2]):
        return None
    return "/".join(p for p in parts if isinstance(p, str) and 0 < len(p) <= 64)


def buildkit_platform(environ: Mapping[str, str]) -> str | None:
    """The default platform of the first BuildKit daemon named (builds without a platform
    produce it); None when it can't be asked."""
    from kfws.build.buildctl_args import connection_flags
    from kfws.observe.buildkit import default_tls_dir, find_buildctl

    hosts = buildkit_hosts(environ)
    if not hosts:
        return None
    try:
        cmd = [find_buildctl(environ), *connection_flags(hosts[0], default_tls_dir(environ))]
        r = subprocess.run(
            [*cmd, "debug", "workers", "--format", "{{json .}}"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (KfwsError, OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0 or len(r.stdout) > 1 << 20:
        return None
    return worker_platform(r.stdout)


def docker_platform() -> str | None:
    from kfws.observe.engine import EngineClient

    try:
        return EngineClient().default_platform()
    except KfwsError:
        return None


def observe_build_platforms(
    spec: Spec,
    names: Sequence[str],
    environ: Mapping[str, str],
    defaults: Mapping[str, Callable[[], str | None]] | None = None,
) -> dict[str, BuildPlatforms]:
    """name -> the platforms its build produces. A builder is asked once, and only for images
    without a platform of their own; one that can't be asked leaves its images out (not
    judged here; apply reads the pushed image's platforms again)."""
    ask = defaults or {"docker": docker_platform, "buildkit": lambda: buildkit_platform(environ)}
    words = {"docker": "the Docker Engine's platform", "buildkit": "BuildKit's default platform"}
    asked: dict[str, str | None] = {}
    hosts = buildkit_hosts(environ)
    out: dict[str, BuildPlatforms] = {}
    for name in names:
        image = spec.image(name)
        assert image is not None
        how = image.build or image.generated
        own = how.platform if how is not None else None
        if own:
            out[name] = BuildPlatforms(tuple(own.split(",")), "as the workspace sets")
            continue
        engine = engine_for(spec, image, hosts)
        if engine not in asked:
            asked[engine] = ask[engine]()
        if (default := asked[engine]) is not None:
            out[name] = BuildPlatforms((default,), words[engine])
    return out


def observe_architectures(
    spec: Spec, observed: Observed, client: RegistryClient, *, context: str | None, parallelism: int
) -> Observed:
    nodes = observe_node_archs(context)
    platforms: dict[str, tuple[str, ...]] = {}
    builds: dict[str, BuildPlatforms] = {}
    if nodes.archs:
        platforms = observe_platforms(client, offered_refs(spec, observed), parallelism)
        builds = observe_build_platforms(spec, may_build(spec, observed), os.environ)
    return dataclasses.replace(
        observed,
        node_archs=nodes.archs,
        node_archs_skipped=nodes.skipped,
        platforms=platforms,
        build_platforms=builds,
    )
