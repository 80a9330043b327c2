"""The strict loader and the checks: a corpus of bad files, each with its message and location,
and the good examples. Files are written to tmp_path (real files, real paths)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.spec.load import load_spec, read_yaml_text
from kfws.spec.model import OptionsMode, PinMode, RestartMode

REPO = Path(__file__).parents[3]

GOOD = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry:
  default: reg.example.com/team
images:
  - name: nb
    from: reg.example.com/base/nb:1
    env: {A: "1"}
  - name: tools
    build: {context: images/tools}
spawner:
  image:
    default: nb
    options: [nb, tools, ghcr.io/kubeflow/nb:v1]
"""


def write(tmp: Path, text: str | bytes) -> Path:
    (tmp / "images" / "tools").mkdir(parents=True, exist_ok=True)
    (tmp / "images" / "tools" / "Dockerfile").write_text("FROM scratch\n")
    path = tmp / "workspace.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text))
    return path


def problems(tmp: Path, text: str | bytes) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        load_spec(write(tmp, text))
    return e.value.problems


def replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# (id, file text, expected message fragment, expected line)
BAD: list[tuple[str, str | bytes, str, int]] = [
    ("duplicate-key", GOOD + "kind: Workspace\n", "duplicate key 'kind' (first at line 2)", 15),
    (
        "duplicate-nested",
        replace('    env: {A: "1"}', '    env: {A: "1", A: "2"}'),
        "duplicate key 'A'",
        8,
    ),
    ("tab", replace("  default: reg", "\tdefault: reg"), "a tab in indentation", 4),
    ("not-utf8", GOOD.encode() + b"# caf\xe9\n", "not UTF-8", 15),
    ("too-big", GOOD + "#" + "x" * (1 << 20) + "\n", "limit is 1 MiB", 1),
    (
        "alias-bomb",
        GOOD + "x: &a [1,1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "z: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "v: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
        "alias bomb",
        1,
    ),
    ("top-list", "- a\n- b\n", "top level must be a mapping", 1),
    ("empty", "# nothing\n", "empty", 1),
    ("python-tag", GOOD + "x: !!python/object/apply:os.system [true]\n", "is not allowed", 15),
    ("syntax", replace("options: [nb, tools", "options: [nb, tools,, {"), "not valid YAML", 14),
    ("api-version", replace("kfws/v1alpha1", "kfws/v2"), "must be 'kfws/v1alpha1'", 1),
    ("kind", replace("kind: Workspace", "kind: Workspaces"), "must be 'Workspace'", 2),
    ("missing-api", GOOD.split("\n", 1)[1], "'apiVersion' is required", 1),
    ("unknown-top", GOOD + "imagse: []\n", "did you mean 'images'", 15),
    (
        "unknown-image-key",
        replace("    env: {A", "    tga: v1\n    env: {A"),
        "did you mean 'tag'",
        8,
    ),
    ("name-pattern", replace("name: nb", "name: NB"), "does not match", 6),
    ("dup-name", replace("name: tools", "name: nb"), "already used by images[0]", 9),
    (
        "build-and-from",
        replace("    build: {context", "    from: reg.example.com/b:1\n    build: {context"),
        "exactly one of",
        9,
    ),
    ("neither", replace("    build: {context: images/tools}", "    tag: v1"), "exactly one of", 9),
    (
        "build-with-pip",
        replace("    build: {context", "    pip: [pandas]\n    build: {context"),
        "only apply to generated",
        9,
    ),
    ("context-missing", replace("images/tools}", "images/nope}"), "is not a folder", 10),
    ("context-escape", replace("images/tools}", "../..}"), "leaves the workspace folder", 10),
    (
        "dockerfile-missing",
        replace("images/tools}", "images/tools, dockerfile: Nope}"),
        "does not exist",
        10,
    ),
    ("env-name", replace('{A: "1"}', '{1BAD: "1"}'), "not a valid environment variable name", 8),
    (
        "pip",
        replace('    env: {A: "1"}', '    pip: ["pandas>>=2"]'),
        "not a valid pip requirement",
        8,
    ),
    ("apt", replace('    env: {A: "1"}', "    apt: [Vim!]"), "is not a Debian package", 8),
    ("folder", replace('    env: {A: "1"}', "    folders: [data]"), "must be an absolute path", 8),
    (
        "unknown-option",
        replace("[nb, tools,", "[nb, nosuch, tools,"),
        "neither a managed image's name",
        14,
    ),
    (
        "bad-reference",
        replace("ghcr.io/kubeflow/nb:v1", "ghcr.io/Kubeflow/nb:v1"),
        "lower case",
        14,
    ),
    (
        "bad-tag",
        replace("ghcr.io/kubeflow/nb:v1", "ghcr.io/kubeflow/nb:-v1"),
        "1-128 characters",
        14,
    ),
    (
        "default-not-option",
        replace("[nb, tools,", "[tools,"),
        "not among the group's options",
        13,
    ),
    ("dup-option", replace("[nb, tools,", "[nb, nb, tools,"), "listed more than once", 14),
    (
        "mode",
        replace("    default: nb\n", "    mode: replace\n    default: nb\n"),
        "is not one of 'exact', 'merge'",
        13,
    ),
    ("restart", GOOD + "cluster: {restart: reboot}\n", "is not one of 'rollout'", 15),
    (
        "pull-policy",
        GOOD.replace("spawner:\n", "spawner:\n  imagePullPolicy: Sometimes\n"),
        "is not one of 'Always'",
        12,
    ),
    (
        "password-key",
        replace(
            "  default: reg.example.com/team",
            "  default: reg.example.com/team\n  password: hunter2",
        ),
        "looks like a credential",
        5,
    ),
    ("secret-env", replace('{A: "1"}', '{GITHUB_TOKEN: "x"}'), "looks like a credential", 8),
    (
        "ca-missing",
        replace(
            "  default: reg.example.com/team",
            "  default: reg.example.com/team\n  registries:\n"
            "    reg.example.com: {caFile: nope.pem}",
        ),
        "the CA file",
        6,
    ),
    (
        "repo-with-tag",
        replace("    env: {A", "    repository: reg.example.com/team/nb:1\n    env: {A"),
        "must not carry a tag",
        8,
    ),
    (
        "repo-no-host",
        replace("    env: {A", "    repository: team/nb\n    env: {A"),
        "must start with a registry host",
        8,
    ),
    ("tag-pattern", replace("    env: {A", "    tag: v1/2\n    env: {A"), "does not match", 8),
    ("images-not-list", GOOD.split("images:")[0] + "images: {nb: 1}\n", "is not of type array", 5),
    ("merge-key", GOOD + "x: &base {a: 1}\ny:\n  <<: *base\n", "merge keys", 17),
    (
        "no-default-registry",
        replace("registry:\n  default: reg.example.com/team\n", ""),
        "needed",
        1,
    ),
]


@pytest.mark.parametrize(
    ("text", "fragment", "line"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_files_are_refused_with_message_and_location(
    tmp_path: Path, text: str | bytes, fragment: str, line: int
) -> None:
    found = problems(tmp_path, text)
    matching = [(where, msg) for where, msg in found if fragment in msg]
    assert matching, f"no problem mentions {fragment!r}: {found}"
    where = matching[0][0]
    assert where.startswith(str(tmp_path / "workspace.yaml") + ":")
    assert int(where.rsplit(":", 2)[1]) == line, found


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = GOOD.replace("name: nb", "name: NB").replace("kfws/v1alpha1", "v2") + "imagse: 1\n"
    found = problems(tmp_path, text)
    lines = [int(w.rsplit(":", 2)[1]) for w, _ in found]
    assert len(found) >= 3 and lines == sorted(lines)


def test_paths_name_the_field(tmp_path: Path) -> None:
    found = problems(tmp_path, replace("images/tools}", "images/nope}"))
    assert any(msg.startswith("images[1].build.context:") for _, msg in found)


def test_symlink_escaping_the_workspace_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    os.symlink(outside, ws / "link")
    (ws / "workspace.yaml").write_text(replace("images/tools}", "link}"))
    with pytest.raises(SpecError) as e:
        load_spec(ws / "workspace.yaml")
    assert "leaves the workspace folder" in e.value.message


def test_a_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        load_spec(tmp_path / "workspace.yaml")
    assert "kfws init" in e.value.message


def test_good_file_becomes_the_spec(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, GOOD))
    nb, tools = spec.images
    assert nb.repository == "reg.example.com/team/nb" and nb.tag is None
    assert nb.generated is not None and nb.generated.env == {"A": "1"}
    assert tools.build is not None and tools.build.context == (tmp_path / "images/tools").resolve()
    assert tools.build.dockerfile.name == "Dockerfile"
    (group,) = spec.spawner.groups
    assert group.key == "image" and group.default == "nb"
    assert group.mode is OptionsMode.EXACT and group.pin is PinMode.TAG
    assert spec.cluster.namespace == "kubeflow" and spec.cluster.restart is RestartMode.ROLLOUT
    assert spec.cluster.config_map is None  # auto
    assert spec.spawner.allow_custom_image is None  # absent: left alone
    assert spec.digest.startswith("sha256:") and len(spec.digest) == 71


def test_same_bytes_same_digest_and_a_byte_changes_it(tmp_path: Path) -> None:
    a = load_spec(write(tmp_path, GOOD)).digest
    assert load_spec(write(tmp_path, GOOD)).digest == a
    assert load_spec(write(tmp_path, GOOD + "# note\n")).digest != a


@pytest.mark.parametrize("example", ["workspace.yaml"])
def test_the_repository_examples_are_valid(example: str) -> None:
    spec = load_spec(REPO / example)
    assert {g.key for g in spec.spawner.groups} == {"image", "imageGroupOne", "imageGroupTwo"}


def test_the_starter_written_by_init_is_valid(tmp_path: Path) -> None:
    from kfws.cli import main

    assert main(["init", "-f", str(tmp_path / "workspace.yaml")]) == 0
    load_spec(tmp_path / "workspace.yaml")


@pytest.mark.parametrize("content", ["", "# only a comment\n", "spawner: {}\n", "- a list\n"])
def test_read_yaml_text_takes_any_yaml_a_merge_may_start_from(tmp_path: Path, content: str) -> None:
    # kfws import merges into a file still being filled in: YAML is enough, the schema is not
    path = tmp_path / "workspace.yaml"
    path.write_text(content, encoding="utf-8")
    assert read_yaml_text(path) == content


def test_read_yaml_text_places_what_is_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text("a: 1\nb: \x07\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        read_yaml_text(path)
    assert e.value.problems == [
        (
            f"{path}:2:4",
            "not valid YAML: U+0007 (a control character) is not allowed in YAML; delete it, or "
            'write it as "\\x07" inside a double-quoted string',
        )
    ]
