"""kfws init: write a commented starter workspace.yaml (never over an existing file without
--force)."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from kfws import output
from kfws.errors import KfwsError


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--file", default="workspace.yaml", help="where (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.exists() and not args.force:
        raise KfwsError(
            "already exists; not overwriting it",
            where=str(path),
            hint="pass --force to replace it, or -f to write elsewhere",
        )
    data = resources.files("kfws").joinpath("data")
    path.write_text(data.joinpath("starter-workspace.yaml").read_text("utf-8"), encoding="utf-8")
    # beside it, the schema its yaml-language-server line points at: editors complete and check
    schema = path.with_name("workspace.schema.json")
    if not schema.exists() or args.force:
        schema.write_text(data.joinpath("workspace.schema.json").read_text("utf-8"), "utf-8")
    output.out(
        f"Wrote {path} and {schema.name}. Next: edit it, then `kfws validate` and `kfws plan`."
    )
    return 0
