"""kfws check [NAME...]: run images the way Kubeflow's notebook controller would and probe them
(the Kubeflow contract, kfws.check). Without names: every managed image the spawner offers.
Also the knobs `kfws apply` passes to its verify step."""

from __future__ import annotations

import argparse
from typing import Any

from kfws import output
from kfws.check import DEFAULT_TIMEOUT, CheckKind, offered_kinds
from kfws.commands.common import add_file_arg, load
from kfws.errors import KfwsError


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "check", help="run images as Kubeflow would and check they work there (the contract)"
    )
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
    outcomes = run_checks(targets, verify_options(args, spec.cluster.namespace), output)
    for line in describe(outcomes):
        output.out(line)
    bad = failed(outcomes)
    if bad:
        raise KfwsError(
            f"{len(bad)} of {len(outcomes)} checks failed: Kubeflow would offer "
            f"{'these images' if len(bad) > 1 else 'this image'} but "
            f"{'they' if len(bad) > 1 else 'it'} would not work",
            where="kfws check",
            hint="fix what each failure names; `kfws apply` refuses to offer an image that "
            "fails (unless --skip-check NAME)",
        )
    output.out(f"All {len(outcomes)} checks passed.")
    return 0
