"""The architecture check (pure): can some node of the cluster run each offered image?

An image provides platforms ("linux/amd64", "linux/arm64/v8": an index's entries, or a single
image's config); nodes report their CPU architecture (status.nodeInfo.architecture, else the
kubernetes.io/arch label). An image none of whose platforms' architectures is a node's can't
run anywhere: users would get an "exec format error" only once a notebook starts. A plan warns
(and apply refuses to offer it before the cluster step); an image that runs on some nodes only
is a warning (the scheduler may pick another node). When the nodes could not be read (the
ClusterRole is missing), the plan says the check was skipped and what enables it.

An offered image the plan builds is judged by the platforms its build will produce (the
workspace's `platform:` / `platforms:`, else the builder's default), before anything is built:
apply refuses it before its build starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kfws.observe.model import BuildPlatforms, Observed
from kfws.plan.model import Change

MAX_SHOWN = 8  # platforms listed per image; the rest are counted


def arch_of(platform: str) -> str:
    """ "linux/arm64/v8" -> "arm64"; a bare "arm64" stays itself."""
    parts = platform.split("/")
    return parts[1] if len(parts) >= 2 else parts[0]


def _platforms(platforms: Sequence[str]) -> str:
    shown = ", ".join(platforms[:MAX_SHOWN])
    more = f" and {len(platforms) - MAX_SHOWN} more" if len(platforms) > MAX_SHOWN else ""
    return shown + more  # never empty: mismatch and partial judge known platforms only


def _what(ref: str, verb: str, only: str, platforms: Sequence[str], source: str) -> str:
    """ "REF builds only linux/arm64 (as the workspace sets)": the start of both messages."""
    how = f" ({source})" if source else ""
    return f"{ref} {verb} {only}{_platforms(platforms)}{how}"


def mismatch(
    ref: str,
    platforms: Sequence[str],
    node_archs: Sequence[str],
    verb: str = "provides",
    source: str = "",
) -> str | None:
    """The message for an image no node can run, or None (it runs somewhere, or either side
    is unknown). `verb` "builds" with the `source` of the platforms for an image to build."""
    if not platforms or not node_archs:
        return None
    if {arch_of(p) for p in platforms} & set(node_archs):
        return None
    only = "only " if len(platforms) == 1 else ""
    return (
        f"{_what(ref, verb, only, platforms, source)}, and the cluster's nodes are "
        f"{', '.join(node_archs)}: no node can run it (build it for one of them, e.g. "
        f"`platform: linux/{node_archs[0]}`, or as a multi-platform image)"
    )


def partial(
    ref: str,
    platforms: Sequence[str],
    node_archs: Sequence[str],
    verb: str = "provides",
    source: str = "",
) -> str | None:
    """Runs on some nodes only: worth knowing, not an error."""
    archs = {arch_of(p) for p in platforms}
    missing = [a for a in node_archs if a not in archs]
    if not platforms or not missing or len(missing) == len(node_archs):
        return None
    return (
        f"{_what(ref, verb, '', platforms, source)}: notebooks with it run only on the "
        f"{', '.join(a for a in node_archs if a in archs)} nodes, not on the "
        f"{', '.join(missing)} ones"
    )


def arch_warnings(
    offered: Mapping[str, Sequence[str]],
    node_archs: Sequence[str],
    skipped: str | None,
    builds: Mapping[str, BuildPlatforms] | None = None,
) -> list[str]:
    """Plan warnings for the offered images whose platforms are known (`offered`: reference ->
    platforms), against the nodes' architectures; `builds` (reference -> what its build
    produces) stand in for what the registry holds under the same reference now."""
    if skipped:
        return [f"the architecture check was skipped: {skipped}"]
    builds = builds or {}
    out: list[str] = []
    for ref in sorted(set(offered) | set(builds)):
        built = builds.get(ref)
        platforms = built.platforms if built else offered[ref]
        verb, source = ("builds", built.source) if built else ("provides", "")
        problem = mismatch(ref, platforms, node_archs, verb, source) or partial(
            ref, platforms, node_archs, verb, source
        )
        if problem:
            out.append(problem)
    return out


def built_platforms(changes: Sequence[Change], observed: Observed) -> dict[str, BuildPlatforms]:
    """reference -> the platforms the build produces, for the image changes of a plan whose
    build platforms were observed (offered images, nodes known)."""
    out: dict[str, BuildPlatforms] = {}
    for change in changes:
        name = str(change.details.get("name"))
        if change.kind.is_image and name in observed.build_platforms:
            out[change.target] = observed.build_platforms[name]
    return out


def build_mismatches(changes: Sequence[Change], observed: Observed) -> dict[str, str]:
    """Managed name -> why no node can run the image its change builds (apply refuses it
    before any build starts)."""
    out: dict[str, str] = {}
    for change in changes:
        name = str(change.details.get("name"))
        built = observed.build_platforms.get(name)
        if change.kind.is_image and built is not None:
            problem = mismatch(
                change.target, built.platforms, observed.node_archs, "builds", built.source
            )
            if problem:
                out[name] = problem
    return out


def judge(
    platforms: Mapping[str, Sequence[str]], node_archs: Sequence[str]
) -> tuple[dict[str, str], list[str]]:
    """For `kfws check`: (reference -> why no node can run it, the notes on images some nodes
    can't run), for the references whose platforms are known."""
    failures: dict[str, str] = {}
    notes: list[str] = []
    for ref in sorted(platforms):
        if (problem := mismatch(ref, platforms[ref], node_archs)) is not None:
            failures[ref] = problem
        elif (note := partial(ref, platforms[ref], node_archs)) is not None:
            notes.append(note)
    return failures, notes
