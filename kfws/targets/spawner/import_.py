"""The spawner target's import: write (or merge into) the `spawner` section of a workspace file
from the live spawner lists, so a team starts from what the cluster has (`kfws import`).

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

import io
from dataclasses import dataclass, field
from typing import Any

from kfws.errors import KfwsError
from kfws.reference import repository
from kfws.spec.model import ClusterSpec
from kfws.targets import base
from kfws.targets.spawner.config_yaml import LiveGroup, LiveSpawner, read_spawner
from kfws.targets.spawner.observe import observe_cluster

SCHEMA_LINE = "# yaml-language-server: $schema=./workspace.schema.json"
PLACEHOLDER_REGISTRY = "registry.example.com/team"
# hosts of the stock Kubeflow images: not where a team pushes its own
_PUBLIC = ("ghcr.io", "gcr.io", "docker.io", "quay.io", "public.ecr.aws", "registry.k8s.io")


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


def import_into(text: str | None, cluster: ClusterSpec, *, context: str | None) -> base.Imported:
    state = observe_cluster(cluster, context=context)
    live = read_spawner(
        state.config_text,
        where=f"configmap/{state.namespace}/{state.config_map} key {state.config_key}",
    )
    result = import_document(text, live, namespace=cluster.namespace)
    groups = ", ".join(f"{g.key} ({len(g.options)})" for g in live.groups) or "no groups"
    return base.Imported(result.text, tuple(result.notes), "the live spawner lists", groups)
