"""The loader's refusals told in full: every problem of a file, its line:col and its whole
message, in the order they are reported, and the limits exactly at their boundary. (test_load
checks a fragment and a line per bad file; this pins each message and location.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.spec.load import MAX_BYTES, iter_problems, load_spec

HEAD = "apiVersion: kfws/v1alpha1\nkind: Workspace\n"
SPEC_HINT = "fix these in the workspace file; `kfws schema` prints the format"


def found(path: Path) -> list[tuple[str, str]]:
    """The problems, each as ("line:col", message), the file's own name taken off."""
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert e.value.hint == SPEC_HINT
    prefix = f"{path}:"
    assert all(where.startswith(prefix) for where, _ in e.value.problems), e.value.problems
    return [(where.removeprefix(prefix), message) for where, message in e.value.problems]


def refused(tmp: Path, content: str | bytes) -> list[tuple[str, str]]:
    path = tmp / "workspace.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return found(path)


BELL = 'delete it, or write it as "\\x07" inside a double-quoted string'
INDENT_TAB = "a tab in indentation; YAML indents with spaces"
ALIAS_BOMB = "more than 50000 values after expanding aliases (an alias bomb?)"
CONTROL = (
    "control and bidirectional-formatting characters are not allowed in the workspace file's "
    "strings"
)
TOP_KEYS = "apiVersion, build, cluster, images, kind, registry, spawner, workspaceKinds"

CASES: list[tuple[str, str | bytes, list[tuple[str, str]]]] = [
    (
        "not-utf8",
        HEAD.encode() + b"x: caf\xe9\n",
        [("3:7", "not UTF-8 text; save the file as UTF-8")],
    ),
    # the column counts from the last newline before the bad byte, not from the file's start
    ("not-utf8-after-empty-line", b"\n\xe9\n", [("2:1", "not UTF-8 text; save the file as UTF-8")]),
    ("not-utf8-first-line", b"ab\xe9\n", [("1:3", "not UTF-8 text; save the file as UTF-8")]),
    (
        "tabs",
        HEAD + "x:\n  \t- 1\n\ty: 2\n",
        [("4:3", INDENT_TAB), ("5:1", INDENT_TAB)],
    ),
    # a tab after other text is not indentation (and an X is not a space)
    (
        "tab-after-text",
        HEAD + "X\ty: 1\n",
        [
            ("3:1", f"'X\\ty': the key contains U+0009 (tab) at character 2; {CONTROL}"),
            ("3:1", f"X\ty: unknown key; allowed: {TOP_KEYS}"),
        ],
    ),
    (
        "syntax",
        HEAD + "x: [1,\n",
        [("4:1", "not valid YAML: did not find expected node content")],
    ),
    (
        "syntax-problem-mark-over-context-mark",
        HEAD + "x: {a: 1\ny: 2\n",
        [("4:2", "not valid YAML: did not find expected ',' or '}'")],
    ),
    # a character YAML refuses: PyYAML gives only a position (in bytes from libyaml), kfws
    # finds its line and column in the text it decoded
    (
        "reader-error",
        HEAD + "x: caf\u00e9 a\x07b\n",
        [("3:10", f"not valid YAML: U+0007 (a control character) is not allowed in YAML; {BELL}")],
    ),
    (
        "reader-error-after-bom",
        "\ufeffx: \x1b[31m\n",
        [("1:4", "not valid YAML: U+001B (escape) is not allowed in YAML; delete it, or write "
          'it as "\\x1b" inside a double-quoted string')],
    ),
    (
        "reader-error-non-character",
        HEAD + "\nx: a\uffffb\n",
        [("4:5", "not valid YAML: U+FFFF (not a character) is not allowed in YAML; delete it")],
    ),
    (
        "empty",
        "# nothing\n",
        [("1:1", "the file is empty; `kfws init` writes a starter workspace")],
    ),
    ("top-list", "- a\n", [("1:1", "the top level must be a mapping (apiVersion, kind, ...)")]),
    (
        "duplicate-key",
        "apiVersion: kfws/v1alpha1\napiVersion: x\nkind: Workspace\n",
        [("2:1", "(top level): duplicate key 'apiVersion' (first at line 1); YAML would keep "
          "only the last one")],
    ),
    (
        "duplicate-nested",
        HEAD + "cluster:\n  namespace: a\n\n  namespace: b\n  context: !!binary aGk=\n",
        [
            ("6:3", "cluster: duplicate key 'namespace' (first at line 4); YAML would keep only "
             "the last one"),
            # the keys after a duplicate are still read
            ("7:12", "cluster.context: the tag tag:yaml.org,2002:binary is not allowed (plain "
             "YAML only)"),
        ],
    ),
    (
        "merge-key",
        HEAD + "x: &b {a: 1}\ncluster:\n  <<: *b\n  namespace: kf\n  bad: [!!binary aGk=]\n",
        [
            ("5:3", "cluster: merge keys (<<) are not supported; write the values out"),
            ("7:9", "cluster.bad[0]: the tag tag:yaml.org,2002:binary is not allowed (plain YAML "
             "only)"),
        ],
    ),
    (
        "complex-key",
        HEAD + "cluster:\n  ? [a]\n  : 1\n  x: !!binary aGk=\n",
        [
            ("4:3", "cluster: mapping keys must be plain scalars"),
            ("6:6", "cluster.x: the tag tag:yaml.org,2002:binary is not allowed (plain YAML only)"),
        ],
    ),
    (
        "key-tag",
        HEAD + "cluster:\n  !!binary aGk=: 1\n  x: !!binary aGk=\n",
        [
            ("4:3", "cluster: the tag tag:yaml.org,2002:binary is not allowed"),
            ("5:6", "cluster.x: the tag tag:yaml.org,2002:binary is not allowed (plain YAML only)"),
        ],
    ),
    (
        "python-tag",
        HEAD + "x: !!python/object/apply:os.system [true]\n",
        [("3:4", "x: the tag tag:yaml.org,2002:python/object/apply:os.system is not allowed "
          "(plain YAML only)")],
    ),
    (
        "bad-value",
        HEAD + "x: [ok, !!int abc]\n",
        [("3:9", "x[1]: cannot read this value: invalid literal for int() with base 10: 'abc'")],
    ),
    (
        "loop",
        HEAD + "images: &x [*x]\n",
        [("3:9", "an alias that contains itself (a loop)")],
    ),
    # every plain YAML scalar type is read (only `x` itself is unknown)
    (
        "plain-types",
        HEAD + "x: [1, 1.5, true, null, 2001-12-14, a, {b: c}]\n",
        [("3:1", f"x: unknown key; allowed: {TOP_KEYS}")],
    ),
    (
        "unknown-keys-at-each-depth",
        HEAD
        + "imagse: []\n"
        + "registry:\n  registries:\n    h.example.com: {insecur: true, zzz: 1}\n"
        + "spawner:\n  image: {options: [x], mod: exact}\n",
        [
            ("3:1", "imagse: unknown key; did you mean 'images'?"),
            ("6:21", "registry.registries.h.example.com.insecur: unknown key; did you mean "
             "'insecure'?"),
            ("6:36", "registry.registries.h.example.com.zzz: unknown key; allowed: build, "
             "caFile, check, immutable, insecure"),
            ("8:25", "spawner.image.mod: unknown key; did you mean 'mode'?"),
        ],
    ),
    (
        "unknown-key-in-a-list-item",
        HEAD + "images:\n  - {name: nb, from: r.example.com/b:1, tga: v1}\n",
        [("4:41", "images[0].tga: unknown key; did you mean 'tag'?")],
    ),
    (
        "credential-key-before-another-unknown",
        HEAD + "registry:\n  default: r.example.com/t\n  apassword: x\n  zz: 1\n",
        [
            ("5:3", "registry.apassword: 'apassword' looks like a credential; workspace.yaml "
             "never holds secrets: use `docker login` or a credential helper for registries, and "
             "a kubeconfig for clusters"),
            ("6:3", "registry.zz: unknown key; allowed: default, registries"),
        ],
    ),
    (
        "an-unknown-key-and-other-schema-errors",
        HEAD + "zz: 1\ncluster: {restart: reboot, namespace: 5}\n",
        [
            ("3:1", f"zz: unknown key; allowed: {TOP_KEYS}"),
            ("4:11", "cluster.restart: 'reboot' is not one of 'rollout', 'delete-pods', 'none'"),
            ("4:28", "cluster.namespace: 5 is not of type string"),
        ],
    ),
    (
        "required",
        "kind: Workspace\n",
        [("1:1", "(top level): 'apiVersion' is required")],
    ),
    (
        "const",
        "apiVersion: kfws/v2\nkind: Workspace\n",
        [("1:1", "apiVersion: must be 'kfws/v1alpha1', not 'kfws/v2'")],
    ),
    (
        "pattern",
        HEAD + "images: [{name: NB, from: r.example.com/b:1}]\n",
        [("3:11", "images[0].name: 'NB' does not match the expected form ^[a-z0-9][a-z0-9._-]*$")],
    ),
    # `$` in a schema pattern is the end of the text (ECMA-262), not "before a final newline"
    (
        "pattern-dollar",
        HEAD + 'images: [{name: "nb\\n", from: r.example.com/b:1}]\n',
        [
            ("3:11", "images[0].name: 'nb\\n' does not match the expected form "
             "^[a-z0-9][a-z0-9._-]*$"),
            ("3:11", f"images[0].name: contains U+000A (newline) at character 3; {CONTROL}"),
        ],
    ),
    (
        "other-validator",
        HEAD + "spawner: {image: {options: []}}\n",
        [("3:19", "spawner.image.options: [] should be non-empty")],
    ),
    (
        "yaml-1.1-key",
        HEAD
        + "images:\n  - name: nb\n    from: r.example.com/b:1\n"
        + "    env: {ON: '1', \"A\\nB\": x}\n",
        [
            ("6:11", "images[0].env.True: this key is read as bool True, not as text; quote it"),
            ("6:20", f"images[0].env.'A\\nB': the key contains U+000A (newline) at character 2; "
             f"{CONTROL}"),
        ],
    ),
    (
        "control-in-a-list",
        HEAD + "images:\n  - name: nb\n    from: r.example.com/b:1\n    apt: [vim, \"a\\tb\"]\n",
        [
            ("6:16", f"images[0].apt[1]: contains U+0009 (tab) at character 2; {CONTROL}"),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("content", "problems"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_in_full_at_its_place(
    tmp_path: Path, content: str | bytes, problems: list[tuple[str, str]]
) -> None:
    assert refused(tmp_path, content) == problems


def test_problems_are_ordered_by_line_then_column(tmp_path: Path) -> None:
    # the messages sort the other way round: the order is the file's, not the alphabet's
    text = HEAD + "images:\n  - {name: nb, zz: 1, from: r.example.com/b:1, aa: 2}\n  - {yy: 1}\n"
    keys = "apt, build, buildEnv, cache, env, folders, from, name, network, pip, platform, " + (
        "platforms, repository, sudo, tag, user"
    )
    assert refused(tmp_path, text) == [
        ("4:16", f"images[0].zz: unknown key; allowed: {keys}"),
        ("4:48", f"images[0].aa: unknown key; allowed: {keys}"),
        ("5:5", "images[1]: 'name' is required"),
        ("5:6", f"images[1].yy: unknown key; allowed: {keys}"),
    ]


@pytest.mark.parametrize("depth", [64, 65])
def test_nesting_is_refused_beyond_64_levels(tmp_path: Path, depth: int) -> None:
    text = HEAD + "x: " + "[" * depth + "]" * depth + "\n"
    problems = refused(tmp_path, text)
    if depth <= 64:
        assert problems == [("3:1", f"x: unknown key; allowed: {TOP_KEYS}")]
    else:  # told at the first list too deep: the 65th `[`, column 3 + 65
        assert problems == [("3:68", "nested more than 64 levels deep")]


@pytest.mark.parametrize("items", [49_996, 49_997])
def test_at_most_50000_values_after_expanding_aliases(tmp_path: Path, items: int) -> None:
    # the top mapping, apiVersion's and kind's values, the list under x, and its items
    text = HEAD + "x: [" + "0," * items + "]\n"
    problems = refused(tmp_path, text)
    if 4 + items <= 50_000:
        assert problems == [("3:1", f"x: unknown key; allowed: {TOP_KEYS}")]
    else:
        assert problems == [("1:1", ALIAS_BOMB)]


def test_aliases_count_as_often_as_they_are_expanded(tmp_path: Path) -> None:
    text = HEAD + "a: &a [" + "0," * 99 + "0]\nx: [" + "*a," * 500 + "]\n"  # 3 + 101 + 1 + 500*101
    assert refused(tmp_path, text) == [("1:1", ALIAS_BOMB)]


@pytest.mark.parametrize("size", [MAX_BYTES])
def test_a_file_of_exactly_1_mib_is_read_whole(tmp_path: Path, size: int) -> None:
    path = tmp_path / "workspace.yaml"
    body = (HEAD + "cluster:\n  namespace: kf").encode()
    path.write_bytes(b"#" * (size - len(body) - 1) + b"\n" + body)
    assert path.stat().st_size == 1 << 20
    spec = load_spec(path)
    # the last byte was read: "kf", not "k"
    assert spec.cluster.namespace == "kf"
    assert spec.digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_one_byte_over_1_mib_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_bytes(HEAD.encode() + b"#" * ((1 << 20) + 1 - len(HEAD)))
    assert found(path) == [("1:1", "the file is 1048577 bytes; the limit is 1 MiB")]


def test_what_is_not_a_readable_file_is_told_at_its_name(tmp_path: Path) -> None:
    assert found(tmp_path / "nope.yaml") == [
        ("1:1", "no such file; `kfws init` writes a starter workspace")
    ]
    assert found(tmp_path) == [("1:1", "a folder, not a workspace file")]
    assert found(Path("/dev/zero")) == [("1:1", "not a regular file; give a workspace file")]
    assert found(tmp_path / ("x" * 300)) == [("1:1", "cannot read it: File name too long")]


def test_iter_problems_yields_every_problem_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text("kind: Workspaces\n")
    assert list(iter_problems(path)) == [
        (f"{path}:1:1", "(top level): 'apiVersion' is required"),
        (f"{path}:1:1", "kind: must be 'Workspace', not 'Workspaces'"),
    ]
    path.write_text(HEAD)
    assert list(iter_problems(path)) == []


def test_the_located_document_is_immutable(tmp_path: Path) -> None:
    import dataclasses

    from kfws.spec.load import parse_located

    path = tmp_path / "workspace.yaml"
    path.write_text(HEAD)
    located = parse_located(path)
    assert located.data == {"apiVersion": "kfws/v1alpha1", "kind": "Workspace"}
    assert located.where(("kind",)) == f"{path}:2:1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        located.data = {}  # type: ignore[misc]
