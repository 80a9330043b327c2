"""The sizes half of the planner: each image built or offered, and what it replaces."""

from __future__ import annotations

import dataclasses

from kfws.observe.model import ImageSize
from kfws.plan.build import make_plan
from kfws.plan.model import Change, ChangeKind
from kfws.spec.model import SpawnerGroup, SpawnerSpec
from kfws.targets.spawner.kinds import UPDATE
from tests.unit.factories import REGISTRY, cluster_state, image, inputs, observed, spec, state

NB_NEW = f"{REGISTRY}/team/nb:kfws1-{'1' * 24}"
NB_OLD = f"{REGISTRY}/team/nb:kfws1-{'0' * 24}"
TOOLS_NEW, TOOLS_OLD = f"{REGISTRY}/team/tools:v1", f"{REGISTRY}/team/tools:v0"
EXT_NEW, EXT_OLD = f"{REGISTRY}/ext/r:2", f"{REGISTRY}/ext/r:1"
LIVE = f"""spawnerFormDefaults:
  image:
    value: {NB_OLD}
    options:
    - {NB_OLD}
    - {TOOLS_OLD}
    - {EXT_OLD}
"""


def _plan(nb_engine: str | None = None, sizes: dict[str, ImageSize] | None = None) -> list[Change]:
    ws = spec(
        image("nb"),
        image("tools", tag="v1"),
        spawner=SpawnerSpec(groups=(SpawnerGroup("image", "nb", ("nb", "tools", EXT_NEW)),)),
    )
    seen = observed(
        (inputs("nb", "1"), state(NB_NEW, engine=nb_engine)),
        (
            inputs("tools", "2", tag="v1"),
            state(TOOLS_NEW, registry="sha256:" + "9" * 64, label="sha256:" + "2" * 64),
        ),
    )
    default_sizes = {
        NB_OLD: ImageSize(1_610_000_000, "registry"),
        TOOLS_NEW: ImageSize(1_920_000_000, "registry"),
        TOOLS_OLD: ImageSize(1_608_000_000, "registry"),
        EXT_NEW: ImageSize(None, "registry"),  # the registry answered nonsense
        EXT_OLD: ImageSize(500, "registry"),
    }
    seen = dataclasses.replace(
        seen, targets={"spawner": cluster_state(LIVE)}, sizes={**default_sizes, **(sizes or {})}
    )
    return list(make_plan(ws, seen, spec_path="workspace.yaml").changes)


def _kind(changes: list[Change], kind: ChangeKind) -> Change:
    return next(c for c in changes if c.kind is kind)


def test_a_build_is_known_after_build_and_names_what_it_replaces() -> None:
    build = _kind(_plan(), ChangeKind.BUILD_IMAGE)
    assert build.details["size"] == {
        "bytes": None,
        "source": "pending",
        "replaces": NB_OLD,
        "replacesBytes": 1_610_000_000,
    }


def test_a_push_has_the_engine_size() -> None:
    push = _kind(
        _plan(nb_engine="sha256:local", sizes={NB_NEW: ImageSize(3_000_000_000, "engine")}),
        ChangeKind.PUSH_IMAGE,
    )
    assert push.details["size"]["bytes"] == 3_000_000_000
    assert push.details["size"]["source"] == "engine"


def test_the_spawner_change_sizes_each_offered_image_against_the_one_it_replaces() -> None:
    spawner = _kind(_plan(), UPDATE)
    rows = {r["image"]: r for r in spawner.details["sizes"]}
    assert rows[TOOLS_NEW] == {
        "image": TOOLS_NEW,
        "bytes": 1_920_000_000,
        "source": "registry",
        "replaces": TOOLS_OLD,
        "replacesBytes": 1_608_000_000,
    }
    assert rows[NB_NEW]["source"] == "pending"
    assert rows[EXT_NEW] == {
        "image": EXT_NEW,
        "bytes": None,
        "source": "unknown",
        "replaces": EXT_OLD,
        "replacesBytes": 500,
    }


def test_a_rebuild_replaces_what_its_tag_holds_now() -> None:
    ws = spec(image("tools", tag="v1"))
    seen = dataclasses.replace(
        observed(
            (
                inputs("tools", "2", tag="v1"),
                state(TOOLS_NEW, registry="sha256:" + "9" * 64, label="sha256:" + "3" * 64),
            )
        ),
        sizes={TOOLS_NEW: ImageSize(7, "registry")},
    )
    (rebuild,) = make_plan(ws, seen, spec_path="workspace.yaml").changes
    assert rebuild.details["size"] == {
        "bytes": None,
        "source": "pending",
        "replaces": TOOLS_NEW,
        "replacesBytes": 7,
    }


def test_sizes_never_make_a_saved_plan_stale() -> None:
    from kfws.plan.compare import compare_plans

    saved = make_plan(spec(image("nb")), observed((inputs("nb"), state(NB_NEW))), spec_path="w")
    changed = dataclasses.replace(
        saved,
        changes=tuple(
            dataclasses.replace(c, details={**c.details, "size": {"bytes": 1}})
            for c in saved.changes
        ),
    )
    assert not compare_plans(saved, changed, declared_images=["nb"]).stale


def _rebuild(previous: dict[str, tuple[str, str | None]], *, engine: str | None = None) -> Change:
    ws = spec(image("tools", tag="v1"))
    tools = dataclasses.replace(inputs("tools", "2", tag="v1"), manifest='{"v":1,"dockerfile":"b"}')
    seen = dataclasses.replace(
        observed(
            (
                tools,
                state(
                    TOOLS_NEW,
                    registry="sha256:" + "9" * 64,
                    label="sha256:" + "3" * 64,
                    engine=engine,
                ),
            )
        ),
        previous_inputs=previous,
    )
    (change,) = make_plan(ws, seen, spec_path="workspace.yaml").changes
    return change


def test_a_rebuild_says_why_from_the_replaced_image_s_recorded_inputs() -> None:
    rebuild = _rebuild({"tools": (TOOLS_NEW, '{"v":1,"dockerfile":"a"}')})
    assert rebuild.kind is ChangeKind.REBUILD_IMAGE
    assert rebuild.details["why"] == ["the Dockerfile changed"]
    assert "why" not in _rebuild({}).details  # nothing recorded to compare with
    assert "why" not in _rebuild({"other": (TOOLS_NEW, '{"v":1,"dockerfile":"a"}')}).details


def test_a_push_never_says_why_and_a_build_replaces_the_live_option_of_its_own_repository() -> None:
    manifest = '{"v":1,"dockerfile":"b"}'
    nb = dataclasses.replace(inputs("nb", "1"), manifest=manifest)
    seen = dataclasses.replace(
        observed((nb, state(NB_NEW, engine="sha256:local"))),
        previous_inputs={"nb": (NB_OLD, '{"v":1,"dockerfile":"a"}')},
    )
    (push,) = make_plan(spec(image("nb")), seen, spec_path="w").changes
    assert push.kind is ChangeKind.PUSH_IMAGE and "why" not in push.details
    ws = spec(image("tools", tag="v1"))
    seen = dataclasses.replace(
        observed((inputs("tools", "2", tag="v1"), state(TOOLS_NEW))),
        targets={"spawner": cluster_state(LIVE)},
    )
    build = _kind(list(make_plan(ws, seen, spec_path="w").changes), ChangeKind.BUILD_IMAGE)
    assert build.details["size"]["replaces"] == TOOLS_OLD  # not the first live option (nb)


def test_the_notes_of_a_comparison_with_the_last_build_come_first_and_stand_alone() -> None:
    note = f"compared with {TOOLS_OLD}, the last image kfws built for tools"
    cut = "the search for the last image kfws built was cut short (…)"
    ws = spec(image("tools", tag="v1"))
    tools = dataclasses.replace(inputs("tools", "2", tag="v1"), manifest='{"v":1,"dockerfile":"b"}')
    seen = dataclasses.replace(
        observed((tools, state(TOOLS_NEW))),
        previous_inputs={"tools": (TOOLS_OLD, '{"v":1,"dockerfile":"a"}')},
        previous_notes={"tools": (note, cut)},
    )
    (build,) = make_plan(ws, seen, spec_path="w").changes
    assert build.details["why"] == [note, cut, "the Dockerfile changed"]
    # nothing found, but the search was cut short: the reader is told
    alone = dataclasses.replace(seen, previous_inputs={}, previous_notes={"tools": (cut,)})
    (build,) = make_plan(ws, alone, spec_path="w").changes
    assert build.details["why"] == [cut]
