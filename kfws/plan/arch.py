"""The architecture check (pure): can some node of the cluster run each offered image?

An image provides platforms ("linux/amd64", "linux/arm64/v8": an index's entries, or a single
image's config); nodes report their CPU architecture (status.nodeInfo.architecture, else the
kubernetes.io/arch label). An image none of whose platforms' architectures is a node's can't
run anywhere: users would get an "exec format error" only once a notebook starts. A plan warns
(and apply refuses to offer it before the cluster step); an image that runs on some nodes only
is a warning (the scheduler may pick another node). When the nodes could not be read (the
ClusterRole is missing), the plan says the check was skipped and what enables it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MAX_SHOWN = 8  # platforms listed per image; the rest are counted


def arch_of(platform: str) -> str:
    """ "linux/arm64/v8" -> "arm64"; a bare "arm64" stays itself."""
    parts = platform.split("/")
    return parts[1] if len(parts) >= 2 else parts[0]


def _platforms(platforms: Sequence[str]) -> str:
    shown = ", ".join(platforms[:MAX_SHOWN])
    more = f" and {len(platforms) - MAX_SHOWN} more" if len(platforms) > MAX_SHOWN else ""
    return (shown + more) or "no platform"


def mismatch(ref: str, platforms: Sequence[str], node_archs: Sequence[str]) -> str | None:
    """The message for an image no node can run, or None (it runs somewhere, or either side
    is unknown)."""
    if not platforms or not node_archs:
        return None
    if {arch_of(p) for p in platforms} & set(node_archs):
        return None
    only = "only " if len(platforms) == 1 else ""
    return (
        f"{ref} provides {only}{_platforms(platforms)}, and the cluster's nodes are "
        f"{', '.join(node_archs)}: no node can run it (build it for one of them, e.g. "
        f"`platform: linux/{node_archs[0]}`, or as a multi-platform image)"
    )


def partial(ref: str, platforms: Sequence[str], node_archs: Sequence[str]) -> str | None:
    """Runs on some nodes only: worth knowing, not an error."""
    archs = {arch_of(p) for p in platforms}
    missing = [a for a in node_archs if a not in archs]
    if not platforms or not missing or len(missing) == len(node_archs):
        return None
    return (
        f"{ref} provides {_platforms(platforms)}: notebooks with it run only on the "
        f"{', '.join(a for a in node_archs if a in archs)} nodes, not on the "
        f"{', '.join(missing)} ones"
    )


def arch_warnings(
    offered: Mapping[str, Sequence[str]], node_archs: Sequence[str], skipped: str | None
) -> list[str]:
    """Plan warnings for the offered images whose platforms are known (`offered`: reference ->
    platforms), against the nodes' architectures."""
    if skipped:
        return [f"the architecture check was skipped: {skipped}"]
    out: list[str] = []
    for ref in sorted(offered):
        problem = mismatch(ref, offered[ref], node_archs) or partial(ref, offered[ref], node_archs)
        if problem:
            out.append(problem)
    return out
