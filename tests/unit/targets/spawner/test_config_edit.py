"""The spawner YAML editor (config_edit): an edit changes only owned lines, in every layout and
style admins write (the reader's own tests: test_config_yaml.py)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfws.errors import ClusterError
from kfws.targets.spawner.config_edit import edit_spawner, owned_line_spans
from kfws.targets.spawner.config_yaml import LiveGroup, LiveSpawner, read_spawner

SEED = Path(__file__).resolve().parents[4] / "hack" / "k8s" / "seed"
KF110 = (SEED / "spawner_ui_config-kf1.10.yaml").read_text()
KF10 = (SEED / "spawner_ui_config-kf1.0.yaml").read_text()
NEW = "127.0.0.1:15001/ds-team/jupyter-sudo:kfws1-0123456789abcdef01234567"


def lines_in(spans: Iterable[tuple[str, int, int]]) -> set[int]:
    return {i for _, a, b in spans for i in range(a, b + 1)}


def assert_only_owned_lines_changed(old: str, new: str) -> None:
    """With the owned lines taken out of both texts (plus, in the new one, whole groups and
    flags that were not in the old one), what is left is identical, line for line and byte for
    byte."""
    owned_old = lines_in(owned_line_spans(old))
    had = {name for name, _, _ in owned_line_spans(old, whole_entries=True)}
    added = [s for s in owned_line_spans(new, whole_entries=True) if s[0] not in had]
    owned_new = lines_in([*owned_line_spans(new), *added])
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    kept_old = [ln for i, ln in enumerate(a) if i not in owned_old]
    kept_new = [ln for i, ln in enumerate(b) if i not in owned_new]
    # the last line may gain a line break when something is inserted after it
    if kept_old and kept_new and len(kept_old) == len(kept_new):
        kept_old[-1], kept_new[-1] = kept_old[-1].rstrip("\r\n"), kept_new[-1].rstrip("\r\n")
    assert kept_old == kept_new


def test_adding_one_image_adds_exactly_one_line_on_the_full_config() -> None:
    live = read_spawner(KF110)
    image = live.groups[0]
    desired = LiveSpawner(groups=(LiveGroup("image", image.value, (*image.options, NEW)),))
    new = edit_spawner(KF110, desired)
    diff = [
        d
        for d in difflib.unified_diff(KF110.splitlines(), new.splitlines(), lineterm="", n=0)
        if d[:1] in "+-" and not d.startswith(("+++", "---"))
    ]
    assert diff == [f"+      - {NEW}"]
    assert read_spawner(new).group("image") == LiveGroup(
        "image", image.value, desired.groups[0].options
    )


def test_no_change_returns_the_same_text() -> None:
    for text in (KF110, KF10):
        assert edit_spawner(text, read_spawner(text)) == text


def test_every_owned_change_at_once() -> None:
    text = KF110
    live = read_spawner(text)
    first = live.groups[0]
    desired = LiveSpawner(
        groups=(
            LiveGroup("image", NEW, (NEW, first.options[1], "weird: name #x")),
            LiveGroup("imageGroupOne", "code:1", ("code:1",)),
            LiveGroup("imageGroupTwo", None, ()),
        ),
        allow_custom_image=False,
        hide_tag=True,
        image_pull_policy="Always",
    )
    new = edit_spawner(text, desired)
    got = read_spawner(new)
    assert got.groups[0] == desired.groups[0]
    assert got.group("imageGroupOne") == desired.groups[1]
    assert got.group("imageGroupTwo") is not None
    assert got.group("imageGroupTwo").options == ()  # type: ignore[union-attr]
    assert (got.allow_custom_image, got.hide_tag, got.image_pull_policy) == (
        False,
        True,
        "Always",
    )
    assert_only_owned_lines_changed(text, new)
    assert edit_spawner(new, desired) == new


def test_a_wrapped_image_pull_policy_is_inserted_wrapped() -> None:
    text = "spawnerFormDefaults:\n  allowCustomImage: true\n  image:\n    options: [a:1]\n"
    new = edit_spawner(text, LiveSpawner(image_pull_policy="Always"))
    # Kubeflow reads imagePullPolicy wrapped: an inserted one is wrapped too
    assert yaml.safe_load(new)["spawnerFormDefaults"]["imagePullPolicy"] == {
        "readOnly": False,
        "value": "Always",
    }


def test_removed_item_takes_its_comment_and_kept_items_keep_theirs() -> None:
    text = (
        "spawnerFormDefaults:\n"
        "  image:\n"
        "    value: a:1\n"
        "    options:\n"
        "    - a:1   # the default\n"
        "    # b is deprecated\n"
        "    - 'b:1'\n"
        "\n"
        "    - c:1\n"
        "  cpu: {value: '0.5'}\n"
    )
    new = edit_spawner(
        text, LiveSpawner(groups=(LiveGroup("image", "a:1", ("c:1", "a:1", "d:1")),))
    )
    assert new == (
        "spawnerFormDefaults:\n"
        "  image:\n"
        "    value: a:1\n"
        "    options:\n"
        "\n"
        "    - c:1\n"
        "    - a:1   # the default\n"
        "    - d:1\n"
        "  cpu: {value: '0.5'}\n"
    )


@pytest.mark.parametrize(
    ("options_text", "expected"),
    [
        ("options: []", "options:\n      - n:1\n"),
        ("options:", "options:\n      - n:1\n"),
        ("options: ~  # none yet", "options:  # none yet\n      - n:1\n"),
        ("options: [a:1]", "options: [a:1, n:1]\n"),
    ],
)
def test_empty_and_flow_lists(options_text: str, expected: str) -> None:
    text = f"spawnerFormDefaults:\n  image:\n    value: a:1\n    {options_text}\n  x: 1\n"
    want = ("a:1", "n:1") if "a:1]" in options_text else ("n:1",)
    new = edit_spawner(text, LiveSpawner(groups=(LiveGroup("image", None, want),)))
    assert new == f"spawnerFormDefaults:\n  image:\n    value: a:1\n    {expected}  x: 1\n"


def test_flow_mapping_group_and_quoted_value_keep_their_style() -> None:
    text = 'spawnerFormDefaults: {image: {value: "a:1", options: ["a:1"]}, hideTag: no}\n'
    new = edit_spawner(
        text,
        LiveSpawner(groups=(LiveGroup("image", "b:2", ("a:1", "b:2")),), hide_tag=True),
    )
    assert (
        new == 'spawnerFormDefaults: {image: {value: "b:2", options: [a:1, b:2]}, hideTag: true}\n'
    )


def test_crlf_and_no_final_newline() -> None:
    text = "spawnerFormDefaults:\r\n  image:\r\n    options:\r\n      - a:1"
    new = edit_spawner(text, LiveSpawner(groups=(LiveGroup("image", None, ("a:1", "b:1")),)))
    assert new == "spawnerFormDefaults:\r\n  image:\r\n    options:\r\n      - a:1\r\n      - b:1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spawnerFormDefaults: [", "not valid YAML at line"),
        ("a: 1\nb: [\n", "not valid YAML"),
        ("", "empty"),
        ("- a\n", "expected a mapping at the top"),
        ("other: 1\n", "no `spawnerFormDefaults`"),
        ("spawnerFormDefaults: 3\n", "expected a mapping, found a value of type int"),
        ("spawnerFormDefaults:\n  image: [a]\n", "`spawnerFormDefaults.image`: expected a mapping"),
        ("spawnerFormDefaults:\n  image:\n    options: a:1\n", "expected a list"),
        ("spawnerFormDefaults:\n  image:\n    options: [1]\n", "options[0]`: expected a string"),
        ("spawnerFormDefaults:\n  image:\n    options: [{a: 1}]\n", "found a mapping"),
        ("spawnerFormDefaults:\n  image:\n    value: [a]\n", "value`: expected a string"),
        ("spawnerFormDefaults:\n  hideTag: maybe\n", "expected true or false"),
        ("spawnerFormDefaults:\n  hideTag: {value: 3}\n", "hideTag.value`: expected true or false"),
        ("spawnerFormDefaults:\n  image: {}\n  image: {}\n", "there twice (lines 2 and 3)"),
        ("x: &o [a]\nspawnerFormDefaults:\n  image:\n    options: *o\n", "alias"),
        ("spawnerFormDefaults:\n  image:\n    options: &o [a]\n", "anchor"),
        ("spawnerFormDefaults:\n  image:\n    <<: {value: a}\n", "merge keys"),
        ("spawnerFormDefaults:\n  image: !!python/object:os.system {}\n", "not valid YAML"),
        ("a: 1\n---\nb: 2\n", "not valid YAML"),
    ],
)
def test_unexpected_shapes_are_refused_naming_the_place(text: str, message: str) -> None:
    where = "configmap/kubeflow/jupyter-web-app-config key spawner_ui_config.yaml"
    with pytest.raises(ClusterError) as e:
        edit_spawner(text, LiveSpawner(groups=(LiveGroup("image", "n:1", ("n:1",)),)))
    assert message in e.value.message
    with pytest.raises(ClusterError) as e2:
        read_spawner(text, where=where)
    assert e2.value.where == where and "will not overwrite" in e2.value.message


# ------------------------------------------------------------------------------------------
# property: random configs in the styles admins write, random desired lists

REFS = st.sampled_from(
    [
        "a:1",
        "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
        "127.0.0.1:15001/team/nb@sha256:" + "a" * 64,
        "reg.example.com/x/y:kfws1-abc",
        "yes",  # a YAML 1.1 boolean when plain: must be quoted
        "x #y",
        "'quoted'",
        "b:2",
    ]
)
COMMENT = st.sampled_from(["", "# a comment", "#", "# - looks: like yaml", "   # indented"])


def scalar(value: str, quote: str) -> str:
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    try:
        plain_ok = yaml.safe_load(f"[{value}]") == [value] and "#" not in value
    except yaml.YAMLError:
        plain_ok = False
    return json.dumps(value) if quote == '"' or not plain_ok else value


@st.composite
def configs(draw: st.DrawFn) -> str:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    step = draw(st.sampled_from([2, 4]))
    compact = draw(st.booleans())  # `- item` at the key's column
    lines: list[str] = [c for c in draw(st.lists(COMMENT, max_size=2)) if c]
    lines.append("spawnerFormDefaults:")
    pad = " " * step
    sections: list[list[str]] = []
    for gk in draw(
        st.lists(st.sampled_from(["image", "imageGroupOne", "imageGroupTwo"]), unique=True)
    ):
        body = [f"{pad}{gk}:"]
        items = draw(st.lists(REFS, max_size=4))
        quote = draw(st.sampled_from(["", "'", '"']))
        body.append(f"{pad * 2}value: {scalar(draw(REFS), quote)}")
        if draw(st.booleans()):
            body.append("")
        for c in draw(st.lists(COMMENT, max_size=1)):
            if c:
                body.append(f"{pad * 2}{c}")
        style = draw(st.sampled_from(["block", "flow", "null"]))
        if style == "block" and items:
            body.append(f"{pad * 2}options:")
            ind = pad * 2 if compact else pad * 3
            for it in items:
                c = draw(COMMENT)
                if c and draw(st.booleans()):
                    body.append(f"{ind}{c}")
                body.append(f"{ind}- {scalar(it, quote)}")
        elif style == "flow":
            body.append(f"{pad * 2}options: [{', '.join(scalar(i, quote) for i in items)}]")
        else:
            body.append(f"{pad * 2}options:")
        if draw(st.booleans()):
            body.append(f"{pad * 2}readOnly: false")
        sections.append(body)
    for flag in draw(st.lists(st.sampled_from(["hideTag", "allowCustomImage"]), unique=True)):
        value = draw(st.sampled_from(["true", "false", "yes", "off"]))
        if draw(st.booleans()):
            sections.append(
                [f"{pad}{flag}:", f"{pad * 2}readOnly: true", f"{pad * 2}value: {value}"]
            )
        else:
            sections.append([f"{pad}{flag}: {value}  # {flag}"])
    sections.append([f"{pad}cpu:", f"{pad * 2}value: '0.5'", f"{pad * 2}# trailing"])
    order = draw(st.permutations(range(len(sections))))
    for i in order:
        lines.extend(sections[i])
        if draw(st.booleans()):
            lines.append("")
    text = nl.join(lines)
    return text + nl if draw(st.booleans()) else text


@st.composite
def desires(draw: st.DrawFn) -> LiveSpawner:
    groups = []
    for gk in draw(
        st.lists(st.sampled_from(["image", "imageGroupOne", "imageGroupTwo"]), unique=True)
    ):
        groups.append(
            LiveGroup(gk, draw(st.none() | REFS), tuple(draw(st.lists(REFS, max_size=5))))  # type: ignore[arg-type]
        )
    order = {"image": 0, "imageGroupOne": 1, "imageGroupTwo": 2}
    return LiveSpawner(
        groups=tuple(sorted(groups, key=lambda g: order[g.key])),
        hide_tag=draw(st.none() | st.booleans()),
        allow_custom_image=draw(st.none() | st.booleans()),
        image_pull_policy=draw(st.none() | st.sampled_from(["Always", "IfNotPresent"])),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), desires())
def test_property_only_owned_lines_change(text: str, desired: LiveSpawner) -> None:
    before = read_spawner(text)
    if before.legacy:  # the 1.0 layout: only `image`, and allowCustomImage as image.readOnly
        desired = LiveSpawner(
            groups=tuple(g for g in desired.groups if g.key == "image"),
            allow_custom_image=desired.allow_custom_image,
        )
    new = edit_spawner(text, desired)
    after = read_spawner(new)
    for g in desired.groups:
        got = after.group(g.key)
        assert got is not None and got.options == g.options
        old = before.group(g.key)
        assert got.value == (g.value if g.value is not None else old.value if old else None)
    for g in before.groups:
        if desired.group(g.key) is None:
            assert after.group(g.key) == g
    for name, value in desired.flags().items():
        assert after.flags()[name] == (value if value is not None else before.flags()[name])
    # every byte outside the owned lines is kept
    assert_only_owned_lines_changed(text, new)
    # the untouched document is the same to a YAML reader, the edit is idempotent, and a no-op
    # edit returns the text itself
    assert edit_spawner(new, desired) == new
    assert edit_spawner(text, before) == text


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "spawner"


@pytest.mark.parametrize("name", ["kf1.0.2.yaml", "value-commented-out.yaml", "four-spaces.yaml"])
def test_real_world_fixtures_read_and_edit_only_owned_lines(name: str) -> None:
    text = (FIXTURES / name).read_text()
    live = read_spawner(text)
    image = live.group("image")
    assert image is not None and image.options
    assert edit_spawner(text, live) == text
    desired = LiveSpawner(
        groups=(LiveGroup("image", None, (*image.options[1:], NEW)),),
        allow_custom_image=not live.allow_custom_image,
    )
    new = edit_spawner(text, desired)
    assert_only_owned_lines_changed(text, new)
    got = read_spawner(new)
    assert got.group("image") == LiveGroup("image", image.value, desired.groups[0].options)
    assert got.allow_custom_image is desired.allow_custom_image


def test_four_space_indentation_is_followed_for_new_lines() -> None:
    text = (FIXTURES / "four-spaces.yaml").read_text()
    desired = LiveSpawner(groups=(LiveGroup("imageGroupTwo", None, ("r:1",)),), hide_tag=True)
    new = edit_spawner(text, desired)
    assert new.endswith(
        "    memory:\n        value: 2Gi\n        readOnly: false\n"
        "    imageGroupTwo:\n        options:\n            - r:1\n"
        "    hideTag: true\n"
    )


def test_legacy_read_only_inserted_when_the_layout_has_none() -> None:
    text = "spawnerFormDefaults:\n  image:\n    value: a:1\n    options:\n    - a:1\n"
    assert read_spawner(text).legacy and read_spawner(text).allow_custom_image is None
    new = edit_spawner(text, LiveSpawner(allow_custom_image=False))
    assert new == text + "    readOnly: true\n"
    assert read_spawner(new).allow_custom_image is False
