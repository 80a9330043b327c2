"""kfws import [-o FILE]: write (or merge into) a target's section of a workspace file from
what the cluster has now, so a team starts from it (the first target in kfws.targets.all_targets
unless --target names another). The target writes its section (kfws.targets.NAME); this command
validates the result and replaces the file atomically, keeping its permissions.
"""

from __future__ import annotations

import argparse
import os
import stat
import tempfile
from importlib import resources
from pathlib import Path

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, add_target_arg, cluster_spec, target_named
from kfws.errors import KfwsError


def register(p: argparse.ArgumentParser) -> None:
    add_cluster_args(p)
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the file to write or merge into (default: the -f file; `-` for stdout)",
    )
    add_target_arg(p)
    p.set_defaults(run=run)


def _write(path: Path, text: str) -> None:
    """Atomically, keeping the file's permissions (a temporary file is private: 0600); a new
    file gets the usual ones (0666 less the umask). Validated first: kfws must accept it."""
    from kfws.errors import SpecError
    from kfws.spec.load import load_spec

    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kfws-import-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        try:
            load_spec(Path(tmp))
        except SpecError as e:
            raise KfwsError(
                "the imported workspace would not validate, so it was not written "
                f"(a bug in kfws import: please report it): {e.message}",
                where=str(path),
            ) from None
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run(args: argparse.Namespace) -> int:
    from kfws.spec.load import read_yaml_text

    spec = cluster_spec(args)
    target = target_named(args)
    dest = args.output or args.file
    if dest == "-":
        result = target.import_into(None, spec, context=args.context)
        output.out(result.text, end="")
        for note in result.notes:
            output.err(f"note: {note}")
        return 0
    path = Path(dest)
    text = read_yaml_text(path) if path.exists() else None
    result = target.import_into(text, spec, context=args.context)
    _write(path, result.text)
    schema = path.with_name("workspace.schema.json")
    if not schema.exists():  # what the file's yaml-language-server line points editors at
        data = resources.files("kfws").joinpath("data", "workspace.schema.json")
        schema.write_text(data.read_text("utf-8"), encoding="utf-8")
    output.out(f"{'Merged' if text else 'Wrote'} {result.what} into {path}: {result.detail}")
    for note in result.notes:
        output.out(f"  note: {note}")
    return 0
