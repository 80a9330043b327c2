"""The spawner YAML reader (config_yaml): both Kubeflow layouts read; hostile or broken live
text is refused at its line, bounded in size, depth and aliases."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kfws.errors import ClusterError
from kfws.targets.spawner.config_yaml import LiveGroup, LiveSpawner, read_spawner

SEED = Path(__file__).resolve().parents[4] / "hack" / "k8s" / "seed"
KF110 = (SEED / "spawner_ui_config-kf1.10.yaml").read_text()
KF10 = (SEED / "spawner_ui_config-kf1.0.yaml").read_text()


def test_reads_the_kubeflow_1_10_layout() -> None:
    live = read_spawner(KF110)
    assert [g.key for g in live.groups] == ["image", "imageGroupOne", "imageGroupTwo"]
    image = live.group("image")
    assert image is not None
    assert image.value == "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
    assert len(image.options) == 5
    assert (live.allow_custom_image, live.hide_registry, live.hide_tag) == (True, True, False)
    assert live.image_pull_policy == "IfNotPresent"  # the wrapped {readOnly, value} form


def test_reads_the_kubeflow_1_0_layout() -> None:
    live = read_spawner(KF10)
    assert [g.key for g in live.groups] == ["image"]
    assert live.legacy and live.image_pull_policy is None
    assert live.allow_custom_image is True  # `image.readOnly: false`: users may type their own
    assert live.groups[0].options[0] == live.groups[0].value


# ------------------------------------------------------------------------------------------
# the live text is hostile: bounded, located errors

CONFLICT = (
    "spawnerFormDefaults:\n"
    "  image:\n"
    "<<<<<<< HEAD\n"
    "    value: a:1\n"
    "=======\n"
    "    value: b:1\n"
    ">>>>>>> theirs\n"
    "    options: [a:1]\n"
)
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7)
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CONFLICT, "at line 3: a merge-conflict marker `<<<<<<<`"),
        (CONFLICT.replace("<<<<<<< HEAD\n", ""), "at line 4: a merge-conflict marker `=======`"),
        (
            "spawnerFormDefaults:\n  image:\n    options:\n      - a:1\n    value a:1\n  cpu: 1\n",
            "at line 6, column 3: could not find expected ':' (while scanning a simple key "
            "that began at line 5)",
        ),
        ("x: " + "[" * 70 + "]" * 70 + "\nspawnerFormDefaults: {}\n", "nested more than 64"),
        ("x: " + "[" * 5000 + "\n", "nest"),  # libyaml stops it first when present
        (BOMB + "spawnerFormDefaults: {}\n", "aliases expand to more than"),
        ("x: &x [*x]\nspawnerFormDefaults: {}\n", "an alias refers to a node that contains it"),
        ("x: !custom 1\nspawnerFormDefaults: {}\n", "could not determine a constructor"),
        ("x: " + "a" * (1 << 20) + "\n", "more than kfws reads"),
    ],
    ids=[
        "conflict",
        "conflict-middle",
        "missing-colon",
        "deep",
        "deeper",
        "bomb",
        "cycle",
        "tag",
        "huge",
    ],
)
def test_hostile_or_broken_text_is_refused_at_its_line(text: str, message: str) -> None:
    where = "configmap/kubeflow/jupyter-web-app-config key spawner_ui_config.yaml"
    with pytest.raises(ClusterError) as e:
        read_spawner(text, where=where)
    assert message in e.value.message
    assert e.value.where == where and "will not overwrite" in e.value.message


def refusal(text: str) -> str:
    """The whole message of the ClusterError reading `text` raises, which names the ConfigMap."""
    where = "configmap/kubeflow/jupyter-web-app-config key spawner_ui_config.yaml"
    with pytest.raises(ClusterError) as e:
        read_spawner(text, where=where)
    assert e.value.where == where
    return e.value.message


NOT_YAML = "the live spawner config is not valid YAML{}; kfws will not overwrite it"
SHAPE = "the live spawner config has an unexpected shape{}; kfws will not overwrite it"


def test_an_error_names_the_file_when_no_configmap_is_given_and_says_what_to_do() -> None:
    with pytest.raises(ClusterError) as e:
        read_spawner("")
    assert e.value.where == "spawner_ui_config.yaml"
    assert e.value.hint == "fix the ConfigMap by hand (kubectl edit), then re-run kfws plan"
    assert e.value.message == SHAPE.format(": the file is empty")


def test_the_size_bound_is_inclusive_and_its_message_gives_both_sizes() -> None:
    head = "spawnerFormDefaults: {}\n# "
    fits = head + "x" * (256 * 1024 - len(head))
    assert read_spawner(fits).groups == ()
    assert refusal(fits + "x") == NOT_YAML.format(
        ": it is 262,145 characters, more than kfws reads (262,144)"
    )


def test_the_depth_bound_is_inclusive_and_names_the_line() -> None:
    def nested(levels: int) -> str:  # the top mapping is one level
        return "spawnerFormDefaults: {}\nx: " + "[" * (levels - 1) + "]" * (levels - 1) + "\n"

    assert read_spawner(nested(64)).groups == ()
    assert refusal(nested(65)) == NOT_YAML.format(" at line 2: nested more than 64 levels deep")


def test_the_depth_is_counted_back_down_as_each_collection_closes() -> None:
    def after_closed(levels: int) -> str:  # a closed [] inside the open list counts no more
        inner = levels - 2
        return "spawnerFormDefaults: {}\nx: [[], [[]],\n " + "[" * inner + "]" * inner + "]\n"

    assert read_spawner(after_closed(64)).groups == ()
    assert refusal(after_closed(65)) == NOT_YAML.format(
        " at line 3: nested more than 64 levels deep"
    )


def expanding_to(nodes: int) -> str:
    """A document whose aliases expand to exactly `nodes` nodes (keys count): the root mapping
    (1), `spawnerFormDefaults: {}` (2), `b:` with 999 scalars (1 + 1000), `c:` with 498 aliases
    of b (1 + 1 + 498 * 1000), `d:` with the rest as scalars (1 + 1 + rest)."""
    rest = nodes - (1 + 2 + 1001 + 498_002 + 2)
    assert rest >= 0
    return (
        "spawnerFormDefaults: {}\n"
        f"b: &b [{', '.join(['x'] * 999)}]\n"
        f"c: [{', '.join(['*b'] * 498)}]\n"
        f"d: [{', '.join(['x'] * rest)}]\n"
    )


def test_the_alias_expansion_bound_is_inclusive() -> None:
    assert read_spawner(expanding_to(500_000)).groups == ()
    assert refusal(expanding_to(500_001)) == NOT_YAML.format(
        ": its aliases expand to more than 500,000 nodes"
    )


def test_a_shared_alias_outside_the_owned_part_is_read() -> None:
    text = "x: &a [1, 2]\ny: *a\nz: [*a, *a]\nspawnerFormDefaults:\n  hideTag: true\n"
    assert read_spawner(text).hide_tag is True


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # the parser's own words, at the place it gave up, and where the construct began
        (
            "a: {b\n",
            " at line 2, column 1: did not find expected ',' or '}' (while parsing a flow "
            "mapping that began at line 1)",
        ),
        # the construct began on the line it failed on: said once
        ("a: [b, {c: d]\n", " at line 1, column 13: did not find expected ',' or '}'"),
        # a cycle: no reader can expand it
        ("x: &x [*x]\nspawnerFormDefaults: {}\n", ": an alias refers to a node that contains it"),
        # a character YAML refuses: PyYAML gives only a position, kfws finds its line and column
        (
            "spawnerFormDefaults: {}\nx: 1\ny: caf\u00e9 a\x07b\n",
            " at line 3, column 10: U+0007 (a control character) is not allowed in YAML; delete "
            'it, or write it as "\\x07" inside a double-quoted string',
        ),
        # a lone surrogate (a JSON "\ud800" escape in the ConfigMap): libyaml can't even encode it
        (
            'spawnerFormDefaults: {}\nx: "a\ud800"\n',
            " at line 2, column 6: U+D800 (a lone surrogate) is not allowed in YAML; delete it",
        ),
        (
            "x: !custom 1\nspawnerFormDefaults: {}\n",
            " at line 1, column 4: could not determine a constructor for the tag '!custom'",
        ),
        # markers: seven characters at the start of a line, alone or before a space or tab
        (
            "spawnerFormDefaults: {}\n<<<<<<<\tHEAD\n",
            " at line 2: a merge-conflict marker "
            "`<<<<<<<` (a conflicted edit was pasted into the ConfigMap)",
        ),
        (
            "spawnerFormDefaults: {}\n||||||| base\n",
            " at line 2: a merge-conflict marker "
            "`|||||||` (a conflicted edit was pasted into the ConfigMap)",
        ),
        # counted from the first character: a blank first line is line 1
        (
            "\n<<<<<<< HEAD\nspawnerFormDefaults: {}\n",
            " at line 2: a merge-conflict marker `<<<<<<<` (a conflicted edit was pasted into "
            "the ConfigMap)",
        ),
        (
            "spawnerFormDefaults: {}\n>>>>>>>\n",
            " at line 2: a merge-conflict marker `>>>>>>>` "
            "(a conflicted edit was pasted into the ConfigMap)",
        ),
        # eight `=` is no marker: the parser's error, at its own line
        (
            "spawnerFormDefaults: {}\n========\n",
            " at line 3, column 1: could not find expected "
            "':' (while scanning a simple key that began at line 2)",
        ),
        (
            "spawnerFormDefaults: {}\n=======x\n",
            " at line 3, column 1: could not find expected "
            "':' (while scanning a simple key that began at line 2)",
        ),
    ],
)
def test_text_that_does_not_parse_is_refused_with_the_parsers_place(text: str, place: str) -> None:
    assert refusal(text) == NOT_YAML.format(place)


S = "spawnerFormDefaults:\n"
ANCHOR = ": it carries a YAML anchor (`&name`); kfws edits only plain values"
ALIAS = ": it is a YAML alias (`*name`); kfws edits only literal values"
ITEM = ": YAML anchors and aliases are not supported here"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("- a\n", ": expected a mapping at the top, found a list"),
        ("other: 1\n", ": there is no `spawnerFormDefaults` section"),
        (
            "spawnerFormDefaults: yes\n",
            " at `spawnerFormDefaults`: expected a mapping, found a boolean",
        ),
        (S, " at `spawnerFormDefaults`: expected a mapping, found nothing (null)"),
        (
            S + "  imageGroupTwo: x\n",
            " at `spawnerFormDefaults.imageGroupTwo`: expected a mapping, found a string",
        ),
        (
            S + "  image:\n    value: 1\n",
            " at `spawnerFormDefaults.image.value`: expected a "
            "string, found a value of type int ('1')",
        ),
        (
            S + "  imageGroupOne:\n    value: true\n",
            " at `spawnerFormDefaults.imageGroupOne.value`: expected a string, found a boolean",
        ),
        (
            S + "  image:\n    options: a\n",
            " at `spawnerFormDefaults.image.options`: expected a "
            "list of image references, found a string",
        ),
        (
            S + "  image:\n    options: {a: 1}\n",
            " at `spawnerFormDefaults.image.options`: "
            "expected a list of image references, found a mapping",
        ),
        (
            S + "  image:\n    options: [a, ~]\n",
            " at `spawnerFormDefaults.image.options[1]`: expected a string, found nothing (null)",
        ),
        (
            S + "  hideTag: 'yes'\n",
            " at `spawnerFormDefaults.hideTag`: expected true or false, found a string",
        ),
        (
            S + "  hideRegistry: 1.5\n",
            " at `spawnerFormDefaults.hideRegistry`: expected true or "
            "false, found a value of type float ('1.5')",
        ),
        (
            S + "  allowCustomImage: [true]\n",
            " at `spawnerFormDefaults.allowCustomImage`: expected true or false, found a list",
        ),
        (
            S + "  imagePullPolicy: true\n",
            " at `spawnerFormDefaults.imagePullPolicy`: expected a string, found a boolean",
        ),
        (
            S + "  hideTag: {value: x}\n",
            " at `spawnerFormDefaults.hideTag.value`: expected true or false, found a string",
        ),
        (
            S + "  image:\n    readOnly: 3\n",
            " at `spawnerFormDefaults.image.readOnly`: expected "
            "true or false, found a value of type int ('3')",
        ),
        # twice, merged
        ("a: 1\na: 2\n" + S, " at `a`: the key is there twice (lines 1 and 2)"),
        (
            S + "  image: {}\n\n  image: {}\n",
            " at `spawnerFormDefaults.image`: the key is there twice (lines 2 and 4)",
        ),
        (
            S + "  <<: {hideTag: true}\n",
            " at `spawnerFormDefaults`: merge keys (`<<`) are not supported in the owned sections",
        ),
        (
            S + "  image:\n    <<: {value: a}\n",
            " at `spawnerFormDefaults.image`: merge keys "
            "(`<<`) are not supported in the owned sections",
        ),
        (
            S + "  hideTag: {<<: {value: true}}\n",
            " at `spawnerFormDefaults.hideTag`: merge keys "
            "(`<<`) are not supported in the owned sections",
        ),
        # the lines of the keys, not of their values
        (
            S + "  image:\n    value: a\n  image: {}\n",
            " at `spawnerFormDefaults.image`: the key is there twice (lines 2 and 4)",
        ),
        # anchors and aliases on every owned node: an edit there would show up elsewhere
        ("x: &r {}\nspawnerFormDefaults: *r\n", " at `spawnerFormDefaults`" + ALIAS),
        ("spawnerFormDefaults: &r {}\n", " at `spawnerFormDefaults`" + ANCHOR),
        (S + "  image: &g {}\n", " at `spawnerFormDefaults.image`" + ANCHOR),
        (S + "  image: &g\n    value: a\n", " at `spawnerFormDefaults.image`" + ANCHOR),
        (
            S + "  image:\n    value: &v a\nx: *v\n",
            " at `spawnerFormDefaults.image.value`" + ANCHOR,
        ),
        (S + "  image:\n    options: &o [a]\n", " at `spawnerFormDefaults.image.options`" + ANCHOR),
        (
            "x: &a a\n" + S + "  image:\n    options: [a, *a]\n",
            " at `spawnerFormDefaults.image.options[1]`" + ITEM,
        ),
        (
            S + "  image:\n    options:\n      - a\n      - &b b\n",
            " at `spawnerFormDefaults.image.options[1]`" + ITEM,
        ),
        (
            S + "  image:\n    options: [&a a, *a]\n",
            " at `spawnerFormDefaults.image.options[0]`" + ITEM,
        ),
        (S + "  hideTag: &f true\nx: *f\n", " at `spawnerFormDefaults.hideTag`" + ANCHOR),
        (S + "  hideTag: !!bool &f true\n", " at `spawnerFormDefaults.hideTag`" + ANCHOR),
        (S + "  hideTag: {value: &f true}\n", " at `spawnerFormDefaults.hideTag.value`" + ANCHOR),
        (
            "x: &t true\n" + S + "  hideTag: {value: *t}\n",
            " at `spawnerFormDefaults.hideTag.value`" + ALIAS,
        ),
        (
            "x: &m {value: true}\n" + S + "  hideTag: *m\n",
            " at `spawnerFormDefaults.hideTag`" + ALIAS,
        ),
        (
            S + "  image:\n    readOnly: &r true\n",
            " at `spawnerFormDefaults.image.readOnly`" + ANCHOR,
        ),
    ],
)
def test_an_unexpected_shape_is_refused_naming_its_path(text: str, place: str) -> None:
    assert refusal(text) == SHAPE.format(place)


def test_comments_with_anchor_and_alias_signs_are_only_comments() -> None:
    text = (
        "spawnerFormDefaults: # &r *s\n"
        "  image: # &g\n"
        "    value: a:1 # &v *w\n"
        "    options: # *o\n"
        "      - a:1  # &x *y\n"
        "      - b:1\n"
        "  hideTag: # &h\n"
        "    value: true # *t\n"
    )
    live = read_spawner(text)
    assert live.groups[0].options == ("a:1", "b:1") and live.hide_tag is True


def test_null_and_empty_owned_values_are_read_as_absent() -> None:
    live = read_spawner(
        S + "  image:\n    value: ~\n    options:\n"
        "  imageGroupOne: {}\n"
        "  hideTag: ~\n  hideRegistry: {readOnly: true}\n  imagePullPolicy: {value: null}\n"
    )
    assert live.groups == (LiveGroup("image", None, ()), LiveGroup("imageGroupOne", None, ()))
    assert live.flags() == {
        "allowCustomImage": None,
        "hideRegistry": None,
        "hideTag": None,
        "imagePullPolicy": None,
    }
    assert live.owned() == {
        "image": {"value": None, "options": []},
        "imageGroupOne": {"value": None, "options": []},
    }


def test_yaml_1_1_booleans_and_explicit_string_tags_are_read_as_the_web_app_reads_them() -> None:
    live = read_spawner(
        S + "  imageGroupTwo:\n    value: !!str x:1\n    options: [!!str x:1, 'y:1']\n"
        "  image:\n    options: [a:1]\n"
        "  allowCustomImage: yes\n  hideRegistry: Off\n  hideTag: {value: ON}\n"
        "  imagePullPolicy: {readOnly: true, value: Never}\n"
    )
    # the groups come in GROUP_KEYS order, whatever the file's order
    assert live.groups == (
        LiveGroup("image", None, ("a:1",)),
        LiveGroup("imageGroupTwo", "x:1", ("x:1", "y:1")),
    )
    assert live.group("imageGroupOne") is None and live.group("imageGroupTwo") is live.groups[1]
    assert (live.allow_custom_image, live.hide_registry, live.hide_tag) == (True, False, True)
    assert live.owned() == {
        "image": {"value": None, "options": ["a:1"]},
        "imageGroupTwo": {"value": "x:1", "options": ["x:1", "y:1"]},
        "allowCustomImage": True,
        "hideRegistry": False,
        "hideTag": True,
        "imagePullPolicy": "Never",
    }
    assert not live.legacy


LEGACY = S + "  image:\n    options: [a:1]\n    readOnly: {}\n"


@pytest.mark.parametrize(("read_only", "allow"), [("true", False), ("false", True), ("~", None)])
def test_the_1_0_layout_reads_image_read_only_as_the_custom_image_flag(
    read_only: str, allow: bool | None
) -> None:
    live = read_spawner(LEGACY.format(read_only))
    assert live.legacy and live.allow_custom_image is allow


def test_the_1_0_layout_without_read_only_leaves_the_flag_unknown() -> None:
    live = read_spawner(S + "  image:\n    options: [a:1]\n")
    assert live.legacy and live.allow_custom_image is None


@pytest.mark.parametrize(
    "newer",
    [
        "allowCustomImage",
        "hideRegistry",
        "hideTag",
        "imagePullPolicy",
        "imageGroupOne",
        "imageGroupTwo",
    ],
)
def test_any_key_of_kubeflow_1_3_makes_image_read_only_only_the_image_fields_lock(
    newer: str,
) -> None:
    live = read_spawner(LEGACY.format("true") + f"  {newer}: {{}}\n")
    assert not live.legacy and live.allow_custom_image is None


def test_without_an_image_group_no_layout_is_legacy() -> None:
    live = read_spawner(S + "  imageGroupOne:\n    readOnly: true\n")
    assert not live.legacy and live.allow_custom_image is None


def test_what_is_read_is_immutable_and_an_empty_desired_state_leaves_everything_alone() -> None:
    """The parse is cached (a plan reads, then edits, the same text): what it returns can't be
    changed by a caller, and is hashable."""
    live = read_spawner(KF110)
    with pytest.raises(dataclasses.FrozenInstanceError):
        live.hide_tag = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        live.groups[0].value = "x"  # type: ignore[misc]
    assert hash(live) == hash(read_spawner(KF110))
    empty = LiveSpawner()
    assert (empty.groups, empty.legacy) == ((), False)
    assert empty.flags() == dict.fromkeys(
        ("allowCustomImage", "hideRegistry", "hideTag", "imagePullPolicy")
    )
    assert empty.owned() == {}


def test_the_layout_is_not_part_of_the_owned_state() -> None:
    """A 1.0 and a 1.3+ file with the same lists and flags own the same thing."""
    assert LiveSpawner(legacy=True) == LiveSpawner()
    assert read_spawner(LEGACY.format("false")) == LiveSpawner(
        (LiveGroup("image", None, ("a:1",)),), allow_custom_image=True
    )
