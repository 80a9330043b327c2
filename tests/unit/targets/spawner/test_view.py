"""The spawner change as a reviewer reads it: a list per group in the text and Markdown plans,
built from a real planned change; a hand-edited saved plan can't break out of the Markdown."""

from __future__ import annotations

import dataclasses

import pytest

from kfws.plan.model import Change, Plan
from kfws.render.markdown import render_markdown
from kfws.render.text import render_text
from kfws.sanitize import md_code
from kfws.spec.model import OptionsMode, SpawnerGroup
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.spawner.plan import plan_spawner
from kfws.targets.spawner.view import offered, show_value, spawner_brief, spawner_items, view
from tests.unit.targets.spawner.test_plan import (
    MERGED,
    OLD,
    SCIPY_11,
    SUDO,
    SUDO_B,
    live_options,
    with_record,
    workspace,
)


def planned() -> Plan:
    """A tag bump, a rebuilt managed image, an option kfws added and the workspace dropped
    (merge), a new option, and a flag."""
    live = live_options(MERGED)
    declared = (SCIPY_11, *live[1:3], "jupyter-sudo", "reg.example.com/team/new:1")
    ws = workspace(
        SpawnerGroup("image", None, declared, mode=OptionsMode.MERGE), allow_custom_image=False
    )
    part = plan_spawner(ws, {"jupyter-sudo": SUDO_B}, with_record(MERGED, {"image": [OLD, SUDO]}))
    return Plan("workspace.yaml", "sha256:" + "a" * 64, (), tuple(part.changes))


def test_text_lists_each_group_then_the_diff() -> None:
    text = render_text(planned())
    head = text[: text.index("--- a/spawner_ui_config.yaml")]
    assert head.splitlines()[1:-1] == [
        "      image: 1 replaced, 2 added, 1 removed; allowCustomImage: true -> false",
        "      image:",
        f"        replace {SUDO} -> {SUDO_B}",
        f"        add {SCIPY_11}",  # merge: the stock v1.10.0 was not added by kfws: it stays
        "        add reg.example.com/team/new:1",
        f"        remove {OLD} (added by kfws, no longer declared)",
        "      allowCustomImage: true -> false",
    ]


def test_markdown_cell_is_short_and_the_list_follows_the_table() -> None:
    md = render_markdown(planned())
    row = next(line for line in md.splitlines() if line.startswith("| update-spawner"))
    assert row.endswith(
        "| image: 1 replaced, 2 added, 1 removed; allowCustomImage: true -> false |"
    )
    listed = md[md.index("**Spawner**") : md.index("<details>")]
    assert listed.splitlines()[2:] == [
        "- **image**",
        f"  - replace `{SUDO}` -> `{SUDO_B}`",
        f"  - add `{SCIPY_11}`",
        "  - add `reg.example.com/team/new:1`",
        f"  - remove `{OLD}` (added by kfws, no longer declared)",
        "- **allowCustomImage**: `true` -> `false`",
        "",
    ]
    # the unified diff stays in the collapsed section
    assert md.index("<details>") < md.index("```diff")


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("a:1", "`a:1`"),
        ("a`b", "``a`b``"),
        ("`x", "`` `x ``"),
        ("x\n# heading", "`x\\x0a# heading`"),
        ("<img src=x>", "`<img src=x>`"),
        ("\x1b[31mred", "`\\x1b[31mred`"),
    ],
)
def test_md_code_holds_any_text(text: str, span: str) -> None:
    assert md_code(text) == span


@pytest.mark.parametrize(
    "diff",
    [
        None,
        "x",
        {"groups": "x", "flags": {}},
        {"groups": {"image": 3}, "flags": {}},
        {"groups": {"<b>x</b>": {"added": []}}, "flags": {}},
        {"groups": {}, "flags": {"**x**": {"before": 1, "after": 2}}},
    ],
)
def test_a_saved_plan_with_a_broken_diff_falls_back_to_the_reason(diff: object) -> None:
    change = planned().changes[0]
    broken = dataclasses.replace(change, details={**change.details, "diff": diff})
    assert spawner_brief(broken) == change.reason
    assert "**Spawner**" not in render_markdown(Plan("w.yaml", "sha256:" + "a" * 64, (), (broken,)))


def test_change_without_details_still_renders() -> None:
    bare = Change(UPDATE, "configmap/kf/cm", "image options changed", "a\n", "b\n")
    assert "image options changed" in render_text(Plan("w", "sha256:" + "a" * 64, (), (bare,)))


def _with_diff(diff: object) -> Change:
    return Change(UPDATE, "configmap/kf/cm", "the reason", "a\n", "b\n", {"diff": diff})


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "unset"), (True, "true"), (False, "false"), (0, "0"), ("Always", "Always")],
)
def test_flag_values_are_shown_as_yaml_writes_them(value: object, shown: str) -> None:
    assert show_value(value) == shown


@pytest.mark.parametrize(
    ("group", "items"),
    [
        # why/replaced of the wrong type are ignored, not trusted
        ({"why": "x", "replaced": "x", "added": ["a"]}, [("add", "a", None, None)]),
        (
            {"replaced": [{"before": "o", "after": "n"}, "junk"], "why": {"o": "old"}},
            [("replace", "o", "n", "old")],
        ),
        ({"removed": ["x"], "why": {"x": ""}}, [("remove", "x", None, None)]),
        ({"removed": ["x"], "why": {"x": 7}}, [("remove", "x", None, "7")]),
        ({"reordered": "yes"}, []),  # only a real true
        ({"reordered": True}, [("reorder", "", None, None)]),
        ({"default": {"before": "a", "after": None}}, [("default", "a", "unset", None)]),
        ({"default": "o"}, []),
        ({"default": {"after": True}}, [("default", "unset", "true", None)]),
        ({"added": "a"}, []),  # a list or nothing
    ],
)
def test_each_group_field_is_type_checked(group: object, items: list[object]) -> None:
    assert spawner_items(_with_diff({"groups": {"image": group}, "flags": {}})) == [
        ("image", items)
    ]


def test_flags_keep_a_written_as_note_only_when_it_is_text() -> None:
    flags = {
        "hideTag": {"before": None, "after": True, "writtenAs": 1},
        "hideRegistry": "junk",
        "imagePullPolicy": {"before": "A", "after": "B", "writtenAs": "B"},
    }
    assert spawner_items(_with_diff({"groups": {}, "flags": flags})) == [
        ("hideTag", [("set", "unset", "true", None)]),
        ("imagePullPolicy", [("set", "A", "B", "written as B")]),
    ]


def test_the_brief_of_a_group_with_nothing_countable_says_updated() -> None:
    diff = {"groups": {"imageGroupOne": {}, "imageGroupTwo": {"added": ["a", "b"]}}, "flags": {}}
    assert spawner_brief(_with_diff(diff)) == "imageGroupOne: updated; imageGroupTwo: 2 added"


def test_the_diff_names_the_key_and_defaults_to_the_spawner_key() -> None:
    def names(**details: object) -> list[str]:
        change = Change(UPDATE, "configmap/kf/cm", "r", "a\n", "b\n", details)
        return list(view(change, str, str).diff[:2])

    assert names(key="other.yaml") == ["--- a/other.yaml", "+++ b/other.yaml"]
    assert names() == ["--- a/spawner_ui_config.yaml", "+++ b/spawner_ui_config.yaml"]


EVERY_VERB = {
    "groups": {
        "image": {
            "replaced": [{"before": "o:1", "after": "n:1"}, {"before": "p:1", "after": "q:1"}],
            "added": ["a:1"],
            "removed": ["x:1", "y:1"],
            "why": {"o:1": "rebuilt", "x:1": "gone"},
            "reordered": True,
            "default": {"before": "o:1", "after": "n:1"},
        },
        "imageGroupOne": {"default": {"before": None, "after": "c:1"}},
    },
    "flags": {
        "hideTag": {"before": False, "after": True, "writtenAs": "true"},
        "imagePullPolicy": {"before": None, "after": "Always"},
    },
}


def test_each_item_passes_references_and_notes_through_the_callers_quoting() -> None:
    """References through `code`, notes through `text`: a group's lines and a flag's line."""
    view_ = view(_with_diff(EVERY_VERB), lambda s: f"<{s}>", lambda s: f"[{s}]")
    assert view_.title == "Spawner"
    assert view_.lists == (
        (
            "image",
            (
                "replace <o:1> -> <n:1> ([rebuilt])",
                "replace <p:1> -> <q:1>",
                "add <a:1>",
                "remove <x:1> ([gone])",
                "remove <y:1>",
                "reorder the options",
                "default <o:1> -> <n:1>",
            ),
            True,
        ),
        ("imageGroupOne", ("default <unset> -> <c:1>",), True),
        ("hideTag", ("<false> -> <true> ([written as true])",), False),
        ("imagePullPolicy", ("<unset> -> <Always>",), False),
    )
    assert view_.brief == (
        "image: 2 replaced, 1 added, 2 removed, reordered, default changed; "
        "imageGroupOne: default changed; hideTag: false -> true; imagePullPolicy: unset -> Always"
    )
    assert view_.lines == ()
    assert view_.diff == (
        "--- a/spawner_ui_config.yaml",
        "+++ b/spawner_ui_config.yaml",
        "@@ -1 +1 @@",
        "-a",
        "+b",
    )


def test_an_empty_new_value_is_shown_empty() -> None:
    """A hand-edited saved plan may name "" as a new option, default or flag: shown as it is."""
    diff = {
        "groups": {
            "image": {
                "replaced": [{"before": "o:1", "after": ""}],
                "default": {"before": "o:1", "after": ""},
            }
        },
        "flags": {"imagePullPolicy": {"before": "Always", "after": ""}},
    }
    assert view(_with_diff(diff), lambda s: f"<{s}>", str).lists == (
        ("image", ("replace <o:1> -> <>", "default <o:1> -> <>"), True),
        ("imagePullPolicy", ("<Always> -> <>",), False),
    )


def test_a_change_without_a_usable_diff_has_no_lists_and_its_reason_as_brief() -> None:
    view_ = view(_with_diff({"groups": {"other": {}}, "flags": {}}), str, str)
    assert (view_.brief, view_.lists) == ("the reason", ())
    assert spawner_items(Change(UPDATE, "c", "r", None, None, "junk")) is None  # type: ignore[arg-type]


def test_the_restart_shows_its_mode_and_defaults_to_a_rollout() -> None:
    def shown(**details: object) -> tuple[str, tuple[str, ...], str]:
        v = view(Change(RESTART, "deployment/kf/jwa", "reload", None, None, details), repr, str)
        return v.brief, v.lines, v.title

    assert shown() == ("reload", ("mode 'rollout'",), "")
    assert shown(mode="none") == ("reload", ("mode 'none'",), "")


def test_offers_pair_each_new_option_with_the_one_it_replaces() -> None:
    assert offered(_with_diff(EVERY_VERB)) == [("n:1", "o:1"), ("q:1", "p:1"), ("a:1", None)]
    assert view(_with_diff(EVERY_VERB), str, str).offers == (
        ("n:1", "o:1"),
        ("q:1", "p:1"),
        ("a:1", None),
    )


def test_offers_keep_the_first_replacement_and_an_added_option_does_not_undo_it() -> None:
    diff = {
        "groups": {
            "image": {"replaced": [{"before": "o:1", "after": "n:1"}], "added": ["a:1"]},
            "imageGroupOne": {
                "replaced": [{"before": "p:1", "after": "n:1"}],
                "added": ["n:1", "a:1", "b:1"],
            },
        },
        "flags": {},
    }
    assert offered(_with_diff(diff)) == [("n:1", "o:1"), ("a:1", None), ("b:1", None)]


@pytest.mark.parametrize(
    "diff",
    [
        None,
        {"groups": ["image"]},
        {"groups": {"image": "junk", "imageGroupOne": {"added": "a:1"}}},
        {"groups": {"image": {"replaced": [{"after": "n:1"}, {"before": "o:1"}, "x"]}}},
        {"groups": {"image": {"replaced": None}}},
    ],
)
def test_offers_of_a_hostile_saved_plan_skip_what_is_not_the_planners_shape(diff: object) -> None:
    assert offered(_with_diff(diff)) == []


def test_offers_of_a_saved_plan_read_what_is_well_formed_next_to_junk() -> None:
    diff = {
        "groups": {
            "image": "junk",
            "imageGroupOne": {"replaced": [{"after": "n:1"}, {"before": "o:1", "after": "m:1"}]},
        }
    }
    assert offered(_with_diff(diff)) == [("m:1", "o:1")]
