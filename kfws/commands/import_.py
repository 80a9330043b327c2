"""kfws import [-o FILE]: write (or merge into) the `spawner` section of a workspace file from
the live spawner lists, so a team starts from what the cluster has.

The contract: the file written is one kfws accepts (it is validated before it replaces
anything), and a plan right after it shows no spawner change, for every config kfws can read:
- a live default that is not among the options is written as it is (Kubeflow preselects it);
  a group without a live default gets none (so no `value` line appears later);
- an option (or default) that is the image of one of the file's managed images is written as
  that image's *name*, so the next content change is built and offered;
- an option or default kfws can't declare (not a valid image reference) is left out, and the
  file says so in a comment above its group; such a group is written with `mode: merge` (unless
  the file already sets a mode), which keeps what the live list has beyond the declaration;
- groups and flags the file declares but the cluster lacks are dropped (they would be changes).
Merging keeps the file's comments, everything outside `spawner`, each group's `mode` and `pin`,
and the file's permissions. A new file gets the schema line, `apiVersion`/`kind`, the
`registry.default` that images added later need, and `cluster.namespace`.
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfws import output
from kfws.commands.cluster_args import add_cluster_args, cluster_spec
from kfws.errors import KfwsError

if TYPE_CHECKING:  # the YAML editor loads only when the command runs
    from kfws.spawner_yaml import LiveGroup, LiveSpawner

SCHEMA_LINE = "# yaml-language-server: $schema=./workspace.schema.json"
PLACEHOLDER_REGISTRY = "registry.example.com/team"
# hosts of the stock Kubeflow images: not where a team pushes its own
_PUBLIC = ("ghcr.io", "gcr.io", "docker.io", "quay.io", "public.ecr.aws", "registry.k8s.io")


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


@dataclass
class Imported:
    text: str
    notes: list[str] = field(default_factory=list)  # what was left out or dropped, and why


def _managed(doc: Any) -> dict[str, str]:
    """repository -> managed image name, as the spec resolves it."""
    registry = doc.get("registry") if isinstance(doc.get("registry"), dict) else {}
    prefix = str(registry.get("default") or "").rstrip("/")
    found: dict[str, str] = {}
    for raw in doc.get("images") or []:
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            name = raw["name"]
            found.setdefault(str(raw.get("repository") or f"{prefix}/{name}"), name)
    return found


def _shown(text: str) -> str:
    """A live value in a comment: one line, control characters escaped."""
    return repr(text) if not text.isprintable() or "#" in text else text


def _declare(ref: str, managed: dict[str, str], names: set[str]) -> tuple[str | None, str | None]:
    """(what to write, why it can't be written)."""
    from kfws.plan.spawner import repository
    from kfws.spec.checks import reference_problem

    name = managed.get(repository(ref))
    if name is not None:
        return name, None
    problem = reference_problem(ref, names)
    if problem is not None or ref in names:  # a bare word would be read as a managed name
        return None, problem or f"{ref!r} would be read as the managed image of that name"
    return ref, None


def _group_entry(
    group: LiveGroup, managed: dict[str, str], names: set[str]
) -> tuple[list[str], str | None, list[str]]:
    """(options, default, left-out lines) to declare for one live group."""
    options: list[str] = []
    left: list[str] = []
    for ref in group.options:
        wanted, problem = _declare(ref, managed, names)
        if wanted is not None and wanted in options:  # two tags of one managed image
            wanted, problem = (ref, None) if ref not in options else (None, "listed twice")
        if wanted is None:
            left.append(f"option {_shown(ref)}: {problem}")
        else:
            options.append(wanted)
    default: str | None = None
    if group.value is not None:
        default, problem = _declare(group.value, managed, names)
        if default is not None and default in names and default not in options:
            default = group.value  # a managed name must be offered; the reference need not
        if default is None:
            left.append(f"default {_shown(group.value)}: {problem}")
    return options, default, left


def import_document(text: str | None, live: LiveSpawner, *, namespace: str) -> Imported:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    notes: list[str] = []
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
        yaml.indent(mapping=2, sequence=4, offset=2)
    doc.setdefault("apiVersion", "kfws/v1alpha1")
    doc.setdefault("kind", "Workspace")
    if not isinstance(doc.get("registry"), dict) or not doc["registry"].get("default"):
        registry = doc["registry"] if isinstance(doc.get("registry"), dict) else CommentedMap()
        guess = _guess_registry(live)
        registry["default"] = guess or PLACEHOLDER_REGISTRY
        registry.yaml_add_eol_comment(
            "where kfws pushes the images you add"
            + (" (guessed from the live options)" if guess else ": set it to your registry"),
            "default",
        )
        doc["registry"] = registry
    managed = _managed(doc)
    names = set(managed.values())
    if "cluster" not in doc:
        doc["cluster"] = CommentedMap(namespace=namespace)
    spawner = doc.get("spawner")
    if not isinstance(spawner, dict):
        spawner = CommentedMap()
        doc["spawner"] = spawner
    for key in ("image", "imageGroupOne", "imageGroupTwo"):
        if key in spawner and live.group(key) is None:
            del spawner[key]
            notes.append(f"dropped spawner.{key}: the cluster has no such group")
    for group in live.groups:
        options, default, left = _group_entry(group, managed, names)
        if not options:  # a declared group needs an option; absent, it is left alone
            if group.key in spawner:
                del spawner[group.key]
            notes.append(
                f"{group.key}: not written (no option kfws can declare; an absent group is left "
                "alone on the cluster)" + "".join(f"; left out {line}" for line in left)
            )
            continue
        entry = spawner.get(group.key)
        if not isinstance(entry, dict):
            entry = CommentedMap()
            spawner[group.key] = entry
        if default is not None and "default" not in entry:  # before the options, as people write it
            keys = list(entry)
            entry.insert(
                keys.index("options") if "options" in keys else len(keys), "default", default
            )
        elif default is not None:
            entry["default"] = default
        elif "default" in entry:
            del entry["default"]
        entry["options"] = CommentedSeq(options)
        if left:
            mode = entry.get("mode")
            if mode is None:
                entry.insert(0, "mode", "merge", comment="keeps the live options left out above")
            how = (
                "mode: merge keeps them on the cluster"
                if (mode or "merge") == "merge"
                else "mode: exact, so the next apply removes or replaces them"
            )
            comment = [f"kfws import left out of {group.key}, as not valid to declare ({how}):"]
            comment += [f"  {line}" for line in left]
            spawner.yaml_set_comment_before_after_key(
                group.key, before="\n".join(comment), indent=yaml.map_indent or 2
            )
            notes.extend(f"{group.key}: left out {line}" for line in left)
    for name, value in live.flags().items():
        if value is not None:
            spawner[name] = value
        elif name in spawner:
            del spawner[name]
            notes.append(f"dropped spawner.{name}: the cluster does not set it")
    buf = io.StringIO()
    yaml.dump(doc, buf)
    out = buf.getvalue()
    if "yaml-language-server:" not in out:
        out = f"{SCHEMA_LINE}\n{out}"
    return Imported(out, notes)


def _guess_registry(live: LiveSpawner) -> str | None:
    for group in live.groups:
        for ref in group.options:
            head = ref.split("@", 1)[0].rpartition("/")[0]
            host = head.split("/", 1)[0]
            if "/" in head and "." in host and not host.endswith(_PUBLIC) and head.isprintable():
                return head
    return None


def merge_spawner_section(text: str | None, live: LiveSpawner, *, namespace: str) -> str:
    return import_document(text, live, namespace=namespace).text


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
    from kfws.apply.spawner import import_spawner

    spec = cluster_spec(args)
    live = import_spawner(spec, context=args.context)
    target = args.output or args.file
    if target == "-":
        result = import_document(None, live, namespace=spec.namespace)
        output.out(result.text, end="")
        for note in result.notes:
            output.err(f"note: {note}")
        return 0
    path = Path(target)
    text = path.read_text(encoding="utf-8") if path.exists() else None
    result = import_document(text, live, namespace=spec.namespace)
    _write(path, result.text)
    schema = path.with_name("workspace.schema.json")
    if not schema.exists():  # what the file's yaml-language-server line points editors at
        data = resources.files("kfws").joinpath("data", "workspace.schema.json")
        schema.write_text(data.read_text("utf-8"), encoding="utf-8")
    groups = ", ".join(f"{g.key} ({len(g.options)})" for g in live.groups) or "no groups"
    output.out(f"{'Merged' if text else 'Wrote'} the live spawner lists into {path}: {groups}")
    for note in result.notes:
        output.out(f"  note: {note}")
    return 0
