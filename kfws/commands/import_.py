"""kfws import [-o FILE]: write (or merge into) the `spawner` section of a workspace file from
the live spawner lists, so a team starts from what the cluster has; a plan right after shows no
spawner change. Merging keeps the file's comments and everything outside `spawner` (ruamel
round-trip); a group's other keys (`mode`, `pin`) are kept."""

from __future__ import annotations

import argparse
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, cluster_spec
from kfws.errors import KfwsError

if TYPE_CHECKING:  # the YAML editor loads only when the command runs
    from kfws.spawner_yaml import LiveSpawner


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "import", help="write the live spawner lists into the workspace file's `spawner`"
    )
    add_cluster_args(p)
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the file to write or merge into (default: the -f file; `-` for stdout)",
    )
    p.set_defaults(run=run)


def merge_spawner_section(text: str | None, live: LiveSpawner, *, namespace: str) -> str:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    if text and text.strip():
        try:
            doc, indent, block_seq_indent = load_yaml_guess_indent(text)
        except YAMLError as e:
            raise KfwsError(f"the workspace file is not valid YAML: {e}") from None
        if not isinstance(doc, dict):
            raise KfwsError("the workspace file's top level is not a mapping")
        ind = indent or 2
        bsi = block_seq_indent or 0
        yaml.indent(mapping=bsi or ind, sequence=ind, offset=bsi)
    else:
        doc = CommentedMap()
        doc["apiVersion"] = "kfws/v1alpha1"
        doc["kind"] = "Workspace"
        doc["cluster"] = CommentedMap(namespace=namespace)
        yaml.indent(mapping=2, sequence=4, offset=2)
    spawner = doc.get("spawner")
    if not isinstance(spawner, dict):
        spawner = CommentedMap()
        doc["spawner"] = spawner
    for group in live.groups:
        entry = spawner.get(group.key)
        if not isinstance(entry, dict):
            entry = CommentedMap()
            spawner[group.key] = entry
        default = group.value or (group.options[0] if group.options else None)
        if default is not None:
            entry["default"] = default
        entry["options"] = CommentedSeq(group.options)
    for name, value in live.flags().items():
        if value is not None:
            spawner[name] = value
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    from kfws.apply.spawner import import_spawner

    spec = cluster_spec(args)
    live = import_spawner(spec, context=args.context)
    target = args.output or args.file
    if target == "-":
        output.out(merge_spawner_section(None, live, namespace=spec.namespace), end="")
        return 0
    path = Path(target)
    text = path.read_text(encoding="utf-8") if path.exists() else None
    new = merge_spawner_section(text, live, namespace=spec.namespace)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=".kfws-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, path)
    groups = ", ".join(f"{g.key} ({len(g.options)})" for g in live.groups) or "no groups"
    output.out(f"{'Merged' if text else 'Wrote'} the live spawner lists into {path}: {groups}")
    return 0
