"""kfws validate: check workspace.yaml (schema and semantic checks; no network). Exit 0 valid,
1 with every problem listed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kfws import output
from kfws.commands.common import add_format_arg
from kfws.errors import SpecError

HINT = "fix these in the workspace file; `kfws schema` prints the format"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-f", "--file", action="append", help="the workspace file(s) (default: workspace.yaml)"
    )
    add_format_arg(p, ("text", "json"))
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.spec.load import load_spec

    files = args.file or ["workspace.yaml"]
    results: list[dict[str, Any]] = []
    for name in files:
        try:
            load_spec(Path(name))
            results.append({"file": name, "valid": True, "problems": []})
        except SpecError as e:
            results.append(
                {
                    "file": name,
                    "valid": False,
                    "problems": [{"location": w, "message": m} for w, m in e.problems],
                }
            )
    if args.format == "json":
        output.out(json.dumps(results, indent=2))
    else:
        for r in results:
            if r["valid"]:
                output.out(f"{r['file']}: valid")
            else:
                found = [(p["location"], p["message"]) for p in r["problems"]]
                output.error(SpecError(found, hint=HINT).render())
    return 0 if all(r["valid"] for r in results) else 1
