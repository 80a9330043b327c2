"""Executes the image changes of a plan: build (or reuse) and push, then check the registry.

All image work runs before the cluster is touched. A failure stops the apply: the report says
which images were built and pushed and which were not, and nothing is claimed that didn't happen.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kfws.errors import ApplyError, EngineError, KfwsError
from kfws.images.built_at import BUILT_AT_LABEL, stamp
from kfws.images.digest import INPUTS_LABEL
from kfws.observe.engine import (
    IMAGE_NAME_LABEL,
    INPUT_DIGEST_LABEL,
    BuildRequest,
    ensure_private_dir,
)
from kfws.observe.model import BuildInputs, Observed
from kfws.observe.registry import RegistryClient
from kfws.output import Reporter
from kfws.plan.arch import build_mismatches, mismatch
from kfws.plan.model import Change, ChangeKind
from kfws.spec import graph
from kfws.spec.model import ImageSpec, Spec

if TYPE_CHECKING:
    from kfws.build.builders import Builders, ImageBuilder
    from kfws.observe.last_built import LastBuilt


@dataclass(frozen=True)
class ImageResult:
    name: str
    reference: str
    built: bool
    pushed: bool
    digest: str | None
    error: str | None = None


def default_log_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kfws" / "logs"


def prepare_log_dir(log_dir: Path) -> None:
    """The build logs' folder, private (0700); kfws's own state folder around the default one
    too. Fails before any build starts, as a clear error."""
    state = default_log_dir().parent
    try:
        if log_dir.resolve().is_relative_to(state.resolve()):
            ensure_private_dir(state)
        ensure_private_dir(log_dir)
    except OSError as e:
        raise ApplyError(
            f"cannot create the build log folder {log_dir}: {e.strerror or e}; nothing was "
            "built and the cluster was not touched",
            where="apply",
            hint="pass --log-dir with a folder you can write to",
        ) from None


def apply_images(
    spec: Spec,
    inputs: Mapping[str, BuildInputs],
    changes: Sequence[Change],
    *,
    engine: Builders,
    registry: RegistryClient,
    parallelism: int,
    log_dir: Path,
    reporter: Reporter,
) -> list[ImageResult]:
    """Runs every image change; raises ApplyError (after all started work ended) if any failed."""
    work = [c for c in changes if c.kind.is_image]
    if not work:
        return []
    prepare_log_dir(log_dir)

    def run(change: Change) -> ImageResult:
        name = str(change.details["name"])
        image = spec.image(name)
        assert image is not None
        try:
            builder = engine.for_image(image)  # the Docker Engine or BuildKit (kfws.build)
            return _one(image, inputs[name], change, builder, registry, log_dir, reporter)
        except KfwsError as e:
            return ImageResult(name, change.target, False, False, None, error=e.render())

    try:
        results = run_in_order(work, _waits_for(spec, work), run, parallelism)
    except KeyboardInterrupt:
        # Don't wait for running builds (the engine finishes them on its own); start no more.
        engine.interrupt()  # BuildKit: the running buildctl processes cancel their builds
        reporter.err(
            "interrupted during the image builds: the cluster was not touched (it is exactly "
            "as it was); builds already started may still finish in the engine"
        )
        raise
    failed = [r for r in results if r.error]
    if failed:
        done = [r for r in results if not r.error]
        lines = [f"  {r.reference}: {r.error}" for r in failed]
        lines += [f"  {r.reference}: built and pushed ({r.digest})" for r in done]
        search = _search_registry(registry)
        lines += [h for r in failed if (h := fallback_hint(r, search))]
        raise ApplyError(
            f"{len(failed)} of {len(results)} images failed; the cluster was not touched "
            "(it is exactly as it was).\n" + "\n".join(lines),
            where="apply",
            hint="fix the failure and re-run; images already pushed are not rebuilt",
        )
    return results


def refuse_build_mismatches(
    observed: Observed, changes: Sequence[Change], skip: Collection[str] = ()
) -> None:
    """Before any build: an offered image whose build would produce platforms no node can run
    (kfws.plan.arch, the plan's warning) is refused, so nothing is built for nothing.
    `--skip-check NAME` lets one through."""
    problems = [p for name, p in build_mismatches(changes, observed).items() if name not in skip]
    if problems:
        raise ApplyError(
            f"{len(problems)} offered image{'s' if len(problems) != 1 else ''} this apply would "
            "build can't run on any node of the cluster; nothing was built or pushed and the "
            "cluster was not touched (it is exactly as it was).\n"
            + "\n".join(f"  - {p}" for p in problems),
            where="apply: architecture",
            hint="build the image for the nodes' architecture (`platform:`), or build and offer "
            "it anyway with `kfws apply --skip-check NAME`",
        )


def verify_architectures(
    spec: Spec,
    observed: Observed,
    registry: RegistryClient,
    pushed: Sequence[str],
    skip: Collection[str] = (),
) -> None:
    """Before the cluster step: every image the spawner will offer must run on some node
    (kfws.plan.arch). Images pushed by this apply are asked for again (their platforms are
    known only now); the others were read by the plan. `--skip-check NAME` lets one through."""
    if not observed.node_archs:
        return  # unknown: the plan said the check was skipped and why
    names = {i.name for i in spec.images}
    platforms = dict(observed.platforms)
    offered: dict[str, str] = {}  # reference -> name (or the reference, for an external)
    for group in spec.spawner.groups:
        for option in group.options:
            ref = observed.images[option].reference if option in names else option
            offered[ref] = option
    for ref in pushed:
        if ref in offered:
            repo, _, tag = ref.rpartition(":")
            try:
                platforms[ref] = tuple(registry.image_platforms(repo, tag))
            except KfwsError:
                platforms.pop(ref, None)  # unreadable: not judged (the check runs next)
    problems = [
        problem
        for ref, name in sorted(offered.items())
        if name not in skip and ref not in skip
        for problem in [mismatch(ref, platforms.get(ref, ()), observed.node_archs)]
        if problem
    ]
    if problems:
        raise ApplyError(
            f"{len(problems)} offered image{'s' if len(problems) != 1 else ''} can't run on any "
            "node of the cluster; the cluster was not touched (it is exactly as it was), so it "
            "is not offered.\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\n  pushed before this check: {', '.join(pushed) or 'none'}",
            where="apply: architecture",
            hint="build the image for the nodes' architecture (`platform:`), or offer it "
            "anyway with `kfws apply --skip-check NAME`",
        )


def _search_registry(registry: RegistryClient) -> Callable[[str, str], LastBuilt]:
    def search(repository: str, name: str) -> LastBuilt:
        from kfws.observe.last_built import find_last_built

        return find_last_built(registry, repository, name)

    return search


def fallback_hint(result: ImageResult, search: Callable[[str, str], LastBuilt]) -> str:
    """After a failed build: the last image kfws built for that name that the registry holds
    (found by its dev.kfws.image-name label, whichever builder built it: `search` is
    kfws.observe.last_built), and how to keep offering it. An explicit tag whose rebuild
    failed still holds its previous image, so it may be the failed reference itself."""
    from kfws.observe.observe import built_when

    found = search(result.reference.rpartition(":")[0], result.name)
    if not found.found:
        return ""
    last = found.found[0]
    cut = f" ({found.note})" if found.note else ""
    return (
        f"  {result.name}: the last image kfws built for it is still in the registry: "
        f"{last.reference}{built_when(last.built)}{cut}. The spawner keeps offering what it "
        f"offers now; to offer that image while the build is fixed, list {last.reference} in "
        f"place of {result.name} in spawner options"
    )


def _waits_for(spec: Spec, work: Sequence[Change]) -> dict[str, set[str]]:
    """Per image changed here: the managed images it builds on that this plan changes too
    (directly or through an unchanged image between them): it starts once they are pushed."""
    deps = graph.dependencies(spec.images)
    changed = {str(c.details["name"]) for c in work}
    return {name: (graph.closure(deps, deps.get(name, ())) & changed) - {name} for name in changed}


def run_in_order(
    work: Sequence[Change],
    waits_for: Mapping[str, set[str]],
    run: Callable[[Change], ImageResult],
    parallelism: int,
) -> list[ImageResult]:
    """Runs the changes as a graph: each once the images it waits for are done, independent
    ones in parallel (at most `parallelism`). An image whose base failed is not started: its
    result says so. Results come back in the order of `work`."""
    by_name = {str(c.details["name"]): c for c in work}
    results: dict[str, ImageResult] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, parallelism))
    running: dict[Future[ImageResult], str] = {}
    try:
        while len(results) < len(work):
            before = len(results)
            for name, change in by_name.items():
                if name in results or name in running.values():
                    continue
                failed = sorted(
                    d for d in waits_for.get(name, ()) if d in results and results[d].error
                )
                if failed:
                    why = f"not built: the managed image it builds on ({', '.join(failed)}) failed"
                    results[name] = ImageResult(name, change.target, False, False, None, why)
                elif all(d in results for d in waits_for.get(name, ())):
                    running[pool.submit(run, change)] = name
            if not running:
                if len(results) == before:  # nothing can start: a cycle the loader missed
                    raise ValueError(f"images wait for each other: {sorted(by_name)}")
                continue  # only skips were recorded: look again
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                results[running.pop(future)] = future.result()
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [results[str(c.details["name"])] for c in work]


def _one(
    image: ImageSpec,
    inputs: BuildInputs,
    change: Change,
    engine: ImageBuilder,
    registry: RegistryClient,
    log_dir: Path,
    reporter: Reporter,
) -> ImageResult:
    reference = change.target
    log_path = log_dir / f"{image.name}-{inputs.tag}.log"
    built = False
    if change.kind in (ChangeKind.BUILD_IMAGE, ChangeKind.REBUILD_IMAGE):
        reporter.progress(f"{reference}: building (log: {log_path})")
        _build(image, inputs, reference, engine, log_path, reporter)
        built = True
    reporter.progress(f"{reference}: pushing")
    digest = engine.push(reference, log_path, reporter.progress)
    repo, _, tag = reference.rpartition(":")
    info = registry.resolve(repo, tag)
    if info is None or info.digest != digest:
        raise EngineError(
            f"after the push, the registry serves {info.digest if info else 'nothing'} for "
            f"{reference}, not the pushed {digest}",
            where=f"image {reference}",
            hint="someone else pushed the same tag at the same time, or the registry lost it; "
            "re-run the apply",
        )
    reporter.progress(f"{reference}: pushed {digest}")
    return ImageResult(image.name, reference, built, True, digest)


def _build(
    image: ImageSpec,
    inputs: BuildInputs,
    reference: str,
    engine: ImageBuilder,
    log_path: Path,
    reporter: Reporter,
) -> None:
    labels = {
        INPUT_DIGEST_LABEL: inputs.input_digest,
        INPUTS_LABEL: inputs.manifest,  # why a later plan rebuilds it (kfws.plan.why)
        IMAGE_NAME_LABEL: image.name,
        # when kfws built it: BuildKit's `created` repeats across builds (kfws.images.built_at);
        # not an input, so it changes neither the content tag nor the input digest
        BUILT_AT_LABEL: stamp(),
        "org.opencontainers.image.title": image.name,
    }
    if image.build is not None:
        b = image.build
        request = BuildRequest(
            reference,
            b.context,
            b.dockerfile,
            inputs.args or b.args,  # with `{image: NAME}` args resolved to references
            b.target,
            b.platform,
            labels,
            image.network,
        )
        engine.build(request, log_path, reporter.progress)
        return
    assert image.generated is not None
    with tempfile.TemporaryDirectory(prefix="kfws-build-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(inputs.dockerfile, encoding="utf-8")
        for name, source in image.generated.files:  # what pip's -r/-c name, as the plan hashed
            (Path(tmp) / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, Path(tmp) / name)
        request = BuildRequest(
            reference,
            Path(tmp),
            dockerfile,
            {},
            None,
            image.generated.platform,
            labels,
            image.network,
        )
        engine.build(request, log_path, reporter.progress)
