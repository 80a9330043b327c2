"""kfws check [NAME...]: run images the way Kubeflow's notebook controller would and probe them
(the Kubeflow contract, kfws.check). Without names: every managed image the spawner offers.
Also the knobs `kfws apply` passes to its verify step."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kfws import output
from kfws.check import DEFAULT_TIMEOUT, CheckKind, offered_kinds
from kfws.commands.common import add_file_arg, load
from kfws.errors import KfwsError
from kfws.spec.model import Spec

if TYPE_CHECKING:
    from kfws.apply.verify import CheckTarget


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="managed image names or image references (default: every offered managed image)",
    )
    add_file_arg(p)
    p.add_argument(
        "--kind",
        choices=[k.value for k in CheckKind],
        help="the contract for images offered in no group (default: jupyter)",
    )
    p.add_argument(
        "--force", action="store_true", help="check again even if this digest passed before"
    )
    p.add_argument("--parallelism", type=int, default=2, help="checks at once (default: 2)")
    add_check_args(p, skip=False)
    p.set_defaults(run=run)


def add_check_args(p: argparse.ArgumentParser, *, skip: bool = True) -> None:
    p.add_argument(
        "--check-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long a server may take to answer on 8888 (default: %(default).0f)",
    )
    p.add_argument(
        "--probe-image",
        help="a small image with sh and wget that probes the server "
        "(default: $KFWS_PROBE_IMAGE, else busybox:1.36)",
    )
    if skip:
        p.add_argument(
            "--skip-check",
            action="append",
            default=[],
            metavar="NAME",
            help="offer this image without the contract check (repeatable)",
        )


def verify_options(args: argparse.Namespace, namespace: str) -> Any:
    from kfws.apply.verify import VerifyOptions

    if args.check_timeout <= 0:
        raise KfwsError("--check-timeout must be more than 0 seconds", where="kfws check")
    return VerifyOptions(
        namespace=namespace,
        timeout=args.check_timeout,
        skip=frozenset(getattr(args, "skip_check", ())),
        force=getattr(args, "force", False),
        # apply's --parallelism is for lookups and builds; JupyterLab start-ups share the CPU
        # with everything else, and 4 at once on 2 busy cores came within 2 s of the timeout
        parallelism=max(1, min(args.parallelism, 4)) if args.command == "check" else 2,
        prober=args.probe_image,
    )


def _architectures(spec: Spec, targets: list[CheckTarget], parallelism: int) -> dict[str, str]:
    """reference -> why no node of the cluster can run it (kfws.plan.arch), for the targets
    the registry holds; the images some nodes can't run, and a check that could not be made
    (nodes not readable: which permission enables it), are warnings."""
    from kfws.observe.arch import observe_refs_architectures
    from kfws.observe.registry import RegistryClient
    from kfws.plan.arch import judge

    # registries the workspace names (or builds into) only: a bare `kfws-test/x:1` must not
    # send kfws to Docker Hub; the contract check runs on what the engine holds either way
    hosts = set(spec.registries) | {i.registry_host for i in spec.images}
    refs: list[str] = []
    for t in targets:
        if t.digest is None and t.name != t.reference:
            continue  # built in the engine, not pushed: the registry can't say
        host = _registry_host(t.reference)
        if host in hosts:
            refs.append(t.reference)
        else:
            output.warn(
                f"the architecture of {t.reference} was not checked: its registry "
                f"({host or 'Docker Hub'}) is not in the workspace's `registry.registries`"
            )
    with RegistryClient(spec.registry_options) as client:
        nodes, platforms = observe_refs_architectures(
            client, refs, spec.cluster.context, parallelism
        )
    if nodes.skipped:
        output.warn(f"the architecture check was skipped: {nodes.skipped}")
    failures, notes = judge(platforms, nodes.archs)
    for note in notes:
        output.warn(note)
    return failures


def _registry_host(reference: str) -> str | None:
    from kfws.reference import ReferenceError, parse_reference

    try:
        return parse_reference(reference).repository_with_registry.split("/", 1)[0]
    except (ReferenceError, ValueError):
        return None


def run(args: argparse.Namespace) -> int:
    from kfws.apply.verify import CheckTarget, describe, failed, run_checks
    from kfws.observe.observe import observe

    spec = load(args.file)
    offered = offered_kinds(spec)
    default_kind = (CheckKind(args.kind),) if args.kind else (CheckKind.JUPYTER,)
    managed = {i.name for i in spec.images}
    names = args.names or list(offered)
    if not names:
        raise KfwsError(
            "the workspace offers no managed image in the spawner: nothing to check",
            where=str(spec.path),
            hint="name the images to check: `kfws check NAME...`",
        )
    unknown = [n for n in names if n not in managed and "/" not in n]
    if unknown:
        raise KfwsError(
            f"no managed image named {', '.join(unknown)} in the workspace",
            where=str(spec.path),
            hint=f"managed images: {', '.join(sorted(managed)) or 'none'}; or give a full "
            "image reference",
        )
    observed = observe(
        spec, with_cluster=False, offline=True, reporter=output
    )  # externals are not checked
    targets: list[CheckTarget] = []
    for name in names:
        if name not in managed:
            targets.append(CheckTarget(name, name, None, default_kind))
            continue
        state = observed.images[name]
        if state.registry_digest is None and state.engine_image_id is None:
            raise KfwsError(
                f"{state.reference} is neither in the registry nor built in the engine",
                where=f"image {name}",
                hint="build it first (`kfws apply`), then check it",
            )
        kinds = offered.get(name) or default_kind
        targets.append(CheckTarget(name, state.reference, state.registry_digest, kinds))
    options = verify_options(args, spec.cluster.namespace)
    wrong_arch = _architectures(spec, targets, options.parallelism)
    outcomes = run_checks([t for t in targets if t.reference not in wrong_arch], options, output)
    for line in describe(outcomes):
        output.out(line)
    for t in targets:
        if t.reference in wrong_arch:  # not run: the engine may run it, no node can
            output.out(f"  ✗ {t.name} ({t.reference}), architecture: FAILED")
            output.out(f"      - {wrong_arch[t.reference]}")
    count = len(failed(outcomes)) + len(wrong_arch)
    if count:
        raise KfwsError(
            f"{count} of {len(outcomes) + len(wrong_arch)} checks failed: Kubeflow would offer "
            f"{'these images' if count > 1 else 'this image'} but "
            f"{'they' if count > 1 else 'it'} would not work",
            where="kfws check",
            hint="fix what each failure names; `kfws apply` refuses to offer an image that "
            "fails (unless --skip-check NAME)",
        )
    output.out(f"All {len(outcomes)} checks passed.")
    return 0
