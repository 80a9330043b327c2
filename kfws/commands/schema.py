"""kfws schema: print the JSON Schema of workspace.yaml (for editors and other tools)."""

from __future__ import annotations

import argparse
import json

from kfws import output


def register(p: argparse.ArgumentParser) -> None:
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kfws.spec.load import workspace_schema

    output.out(json.dumps(workspace_schema(), indent=2))
    return 0
