from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path

import pytest
import yaml

from kfws.plan.model import PENDING_DIGEST
from kfws.spec.model import (
    ClusterSpec,
    OptionsMode,
    RestartMode,
    SpawnerGroup,
    SpawnerSpec,
    Spec,
)
from kfws.targets.fingerprint import text_hash
from kfws.targets.spawner.annotations import ANN_ADDED
from kfws.targets.spawner.config_yaml import read_spawner
from kfws.targets.spawner.kinds import RESTART, UPDATE
from kfws.targets.spawner.plan import plan_spawner
from kfws.targets.spawner.state import SpawnerState
from tests.unit.factories import cluster_state, image, spec

SEED = Path(__file__).resolve().parents[4] / "hack" / "k8s" / "seed"
KF110 = (SEED / "spawner_ui_config-kf1.10.yaml").read_text()
KF10 = (SEED / "spawner_ui_config-kf1.0.yaml").read_text()
SCIPY = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
SUDO = "reg.example.com/team/jupyter-sudo:kfws1-aaaaaaaaaaaaaaaaaaaaaaaa"


def cluster(text: str = KF110, gitops: str | None = None) -> SpawnerState:
    return cluster_state(text, gitops_owner=gitops)


def live_options(text: str, key: str = "image") -> tuple[str, ...]:
    group = read_spawner(text).group(key)
    assert group is not None
    return group.options


def workspace(
    *groups: SpawnerGroup, restart: RestartMode = RestartMode.ROLLOUT, **flags: object
) -> Spec:
    s = spec(image("jupyter-sudo"), spawner=SpawnerSpec(groups=groups, **flags))  # type: ignore[arg-type]
    return dataclasses.replace(s, cluster=ClusterSpec(restart=restart))


def test_adding_a_managed_image_plans_exactly_that() -> None:
    options = (*live_options(KF110), "jupyter-sudo")
    ws = workspace(SpawnerGroup("image", SCIPY, options))
    part = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster())
    update, restart = part.changes
    assert update.kind is UPDATE
    assert update.target == "configmap/kubeflow/jupyter-web-app-config-abc"
    assert update.before == KF110
    changed = [
        d
        for d in difflib.unified_diff(KF110.splitlines(), update.after.splitlines(), n=0)
        if d[:1] in "+-" and d[:3] not in ("+++", "---")
    ]
    assert changed == [f"+      - {SUDO}"]
    diff = update.details["diff"]
    assert diff == {
        "groups": {"image": {"added": [SUDO], "removed": [], "replaced": [], "reordered": False}},
        "flags": {},
    }
    assert update.details["resourceVersion"] == "812"
    assert update.details["afterHash"] == text_hash(update.after)
    assert update.reason == f"image: add {SUDO}"
    json.dumps(dict(update.details))  # JSON-able
    assert restart.kind is RESTART
    assert restart.target == "deployment/kubeflow/jupyter-web-app-deployment"
    assert restart.details["mode"] == "rollout"
    assert restart.details["configHash"] == update.details["afterHash"]
    assert {o.key: o.value for o in part.observations} == {
        "configmap:kubeflow/jupyter-web-app-config-abc": "rv=812 sha256="
        + text_hash(KF110).removeprefix("sha256:"),
        "deployment:kubeflow/jupyter-web-app-deployment": "generation=3",
    }
    assert part.warnings == ()


def test_what_the_cluster_has_already_plans_nothing() -> None:
    live = read_spawner(KF110)
    groups = tuple(SpawnerGroup(g.key, g.value or "", g.options) for g in live.groups)
    ws = workspace(*groups, allow_custom_image=True, image_pull_policy="IfNotPresent")
    part = plan_spawner(ws, {}, cluster())
    assert (part.changes, part.observations, part.warnings) == ((), (), ())


def test_exact_removes_and_reorders_merge_keeps_existing_first() -> None:
    old = live_options(KF110)
    exact = workspace(SpawnerGroup("image", "jupyter-sudo", ("jupyter-sudo", old[1], old[0])))
    diff = plan_spawner(exact, {"jupyter-sudo": SUDO}, cluster()).changes[0].details["diff"]
    assert diff["groups"]["image"] == {
        "added": [SUDO],
        "removed": list(old[2:]),
        "replaced": [],
        "reordered": True,
        "default": {"before": SCIPY, "after": SUDO},
    }
    merge = workspace(
        SpawnerGroup("image", SCIPY, ("jupyter-sudo", old[0]), mode=OptionsMode.MERGE)
    )
    part = plan_spawner(merge, {"jupyter-sudo": SUDO}, cluster())
    assert live_options(part.changes[0].after) == (*old, SUDO)


def test_pinned_group_gets_the_pending_digest_and_other_groups_the_tag() -> None:
    ws = workspace(
        SpawnerGroup("image", SCIPY, (SCIPY, "jupyter-sudo")),
        SpawnerGroup("imageGroupOne", "jupyter-sudo", ("jupyter-sudo",)),
    )
    pinned = f"reg.example.com/team/jupyter-sudo@{PENDING_DIGEST}"
    part = plan_spawner(
        ws,
        {"jupyter-sudo": SUDO},
        cluster(),
        group_refs={"imageGroupOne": {"jupyter-sudo": pinned}},
    )
    after = part.changes[0].after
    assert live_options(after) == (SCIPY, SUDO)
    assert live_options(after, "imageGroupOne") == (pinned,)


def test_restart_none_and_flags_and_a_new_group() -> None:
    text = "spawnerFormDefaults:\n  allowCustomImage: true\n  image:\n    options: [a:1]\n"
    ws = workspace(
        SpawnerGroup("imageGroupOne", "code:1", ("code:1",)),
        restart=RestartMode.NONE,
        hide_tag=True,
    )
    part = plan_spawner(ws, {}, cluster(text))
    (update,) = part.changes
    assert update.details["diff"] == {
        "groups": {
            "imageGroupOne": {
                "added": ["code:1"],
                "removed": [],
                "replaced": [],
                "reordered": False,
                "created": True,
                "default": {"before": None, "after": "code:1"},
            }
        },
        "flags": {"hideTag": {"before": None, "after": True}},
    }
    assert update.details["owned"] == {
        "imageGroupOne": {"value": "code:1", "options": ["code:1"]},
        "hideTag": True,
    }
    assert [o.key for o in part.observations] == ["configmap:kubeflow/jupyter-web-app-config-abc"]
    assert "hideTag: unset -> true" in update.reason


def test_gitops_owned_config_map_warns_where_the_change_belongs() -> None:
    ws = workspace(SpawnerGroup("image", SCIPY, (SCIPY,)))
    part = plan_spawner(ws, {}, cluster(gitops="Argo CD (application kubeflow)"))
    (warning,) = part.warnings
    assert "Argo CD (application kubeflow)" in warning and "revert" in warning
    assert "Git source" in warning
    assert part.changes[0].details["gitopsOwner"] == "Argo CD (application kubeflow)"


def test_same_inputs_same_plan() -> None:
    ws = workspace(SpawnerGroup("image", SCIPY, (SCIPY, "jupyter-sudo")))
    a = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster())
    b = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster())
    assert a == b


def test_malformed_live_config_names_the_config_map() -> None:
    from kfws.errors import ClusterError

    ws = workspace(SpawnerGroup("image", SCIPY, (SCIPY,)))
    with pytest.raises(ClusterError) as e:
        plan_spawner(ws, {}, cluster("spawnerFormDefaults:\n  image: [\n"))
    assert e.value.where == (
        "configmap/kubeflow/jupyter-web-app-config-abc key spawner_ui_config.yaml"
    )


# ------------------------------------------------------------------------------------------
# real-world configs: the default, and the `value` line

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "spawner"
KF102 = (FIXTURES / "kf1.0.2.yaml").read_text()  # its default is not among its options
NO_VALUE = (FIXTURES / "value-commented-out.yaml").read_text()
FOUR = (FIXTURES / "four-spaces.yaml").read_text()
TF14 = (
    "gcr.io/kubeflow-images-public/tensorflow-1.14.0-notebook-cpu:"
    "v-base-ef41372-1177829795472347138"
)
TF15 = "gcr.io/kubeflow-images-public/tensorflow-1.15.2-notebook-cpu:1.0.0"
OTHER = "reg.example.com/team/other:v1"
EXACT, MERGE = OptionsMode.EXACT, OptionsMode.MERGE


def changed_lines(before: str, after: str) -> list[str]:
    return [
        d
        for d in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
        if d[:1] in "+-" and d[:3] not in ("+++", "---")
    ]


@pytest.mark.parametrize(
    ("case", "text", "default", "options", "mode", "value_after", "lines"),
    [
        # `value` commented out: no default declared never adds a `value` line
        ("no-value same list", NO_VALUE, None, None, EXACT, None, []),
        ("no-value add exact", NO_VALUE, None, ("+", OTHER), EXACT, None, [f"+      - {OTHER}"]),
        ("no-value add merge", NO_VALUE, None, (OTHER,), MERGE, None, [f"+      - {OTHER}"]),
        # Kubeflow 1.0.2: the default is not among the options
        ("1.0.2 merge keeps it", KF102, None, (OTHER,), MERGE, TF14, [f"+      - {OTHER}"]),
        ("1.0.2 declared as is", KF102, TF14, None, EXACT, TF14, []),
        (
            "1.0.2 exact: first option",
            KF102,
            None,
            None,
            EXACT,
            TF15,
            [f"-    value: {TF14}", f"+    value: {TF15}"],
        ),
        # 1.10: exact without a default keeps the live default while it is offered
        ("1.10 reorder keeps it", KF110, None, ("reverse",), EXACT, SCIPY, ["reorder"]),
        ("1.10 dropped: first option", KF110, None, ("drop-first",), EXACT, None, ["first"]),
        ("1.10 merge no default", KF110, None, (OTHER,), MERGE, SCIPY, [f"+      - {OTHER}"]),
        # four-space indentation and quoted scalars keep their style
        (
            "four spaces",
            FOUR,
            OTHER,
            ("+", OTHER),
            EXACT,
            OTHER,
            [
                "-        value: 'registry.corp.example/ml/jupyter-base:2024.10'",
                f"+        value: '{OTHER}'",
                f"+            - '{OTHER}'",
            ],
        ),
    ],
)
def test_default_and_value_line_on_real_world_configs(
    case: str,
    text: str,
    default: str | None,
    options: tuple[str, ...] | None,
    mode: OptionsMode,
    value_after: str | None,
    lines: list[str],
) -> None:
    live = read_spawner(text).group("image")
    assert live is not None
    if options is None:
        opts = live.options
    elif options[0] == "+":
        opts = (*live.options, *options[1:])
    elif options == ("reverse",):
        opts = tuple(reversed(live.options))
    elif options == ("drop-first",):
        opts = live.options[1:]
    else:
        opts = options
    part = plan_spawner(
        workspace(SpawnerGroup("image", default, opts, mode=mode)), {}, cluster(text)
    )
    after = part.changes[0].after if part.changes else text
    got = read_spawner(after).group("image")
    assert got is not None
    if lines == ["first"]:  # the live default is gone: the first option is preselected
        assert got.value == opts[0] and got.value != live.value
        return
    assert got.value == value_after
    if lines == ["reorder"]:
        assert (
            got.options == opts and part.changes[0].details["diff"]["groups"]["image"]["reordered"]
        )
        assert "default" not in part.changes[0].details["diff"]["groups"]["image"]
        return
    assert changed_lines(text, after) == lines


# ------------------------------------------------------------------------------------------
# the structured diff tells the whole truth

SCIPY_11 = SCIPY.replace("v1.10.0", "v1.11.0")
SUDO_B = SUDO.replace("a" * 24, "b" * 24)
PYTORCH = "      - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-full:v1.10.0\n"
LIVE_SUDO = KF110.replace(PYTORCH, f"{PYTORCH}      - {SUDO}\n", 1)


def _replace_first(options: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if o == old else o for o in options)


@pytest.mark.parametrize(
    ("case", "text", "group", "refs", "flags", "expected_group", "expected_flags", "reason"),
    [
        (
            "a tag bump is a replacement, not nothing",
            KF110,
            lambda live: SpawnerGroup("image", SCIPY_11, _replace_first(live, SCIPY, SCIPY_11)),
            {},
            {},
            {
                "added": [],
                "removed": [],
                "replaced": [{"before": SCIPY, "after": SCIPY_11}],
                "reordered": False,
                "default": {"before": SCIPY, "after": SCIPY_11},
            },
            {},
            f"image: replace {SCIPY} -> {SCIPY_11}, default {SCIPY} -> {SCIPY_11}",
        ),
        (
            "a managed image whose content tag changed",
            LIVE_SUDO,
            lambda live: SpawnerGroup("image", SCIPY, _replace_first(live, SUDO, "jupyter-sudo")),
            {"jupyter-sudo": SUDO_B},
            {},
            {
                "added": [],
                "removed": [],
                "replaced": [{"before": SUDO, "after": SUDO_B}],
                "reordered": False,
            },
            {},
            f"image: replace {SUDO} -> {SUDO_B}",
        ),
        (
            "added, removed, replaced and a flag at once",
            KF110,
            lambda live: SpawnerGroup("image", None, (SCIPY_11, OTHER, *live[2:])),
            {},
            {"hide_registry": False},
            {
                "added": [OTHER],
                "removed": [SCIPY.replace("scipy", "pytorch-full")],
                "replaced": [{"before": SCIPY, "after": SCIPY_11}],
                "reordered": False,
                "default": {"before": SCIPY, "after": SCIPY_11},
            },
            {"hideRegistry": {"before": True, "after": False}},
            None,
        ),
    ],
)
def test_structured_diff_lists_every_change(
    case: str,
    text: str,
    group: object,
    refs: dict[str, str],
    flags: dict[str, object],
    expected_group: dict[str, object],
    expected_flags: dict[str, object],
    reason: str | None,
) -> None:
    live = live_options(text)
    ws = workspace(group(live), **flags)  # type: ignore[operator]
    (update, _) = plan_spawner(ws, refs, cluster(text)).changes
    diff = update.details["diff"]
    assert diff == {"groups": {"image": expected_group}, "flags": expected_flags}
    if reason is not None:
        assert update.reason == reason
    json.dumps(diff)


def test_legacy_layout_writes_allow_custom_image_as_image_read_only() -> None:
    ws = workspace(restart=RestartMode.NONE, allow_custom_image=False)
    (update,) = plan_spawner(ws, {}, cluster(KF10)).changes
    assert changed_lines(KF10, update.after) == ["-    readOnly: false", "+    readOnly: true"]
    assert update.details["diff"]["flags"] == {
        "allowCustomImage": {"before": True, "after": False, "writtenAs": "image.readOnly: true"}
    }
    assert "allowCustomImage" not in yaml.safe_load(update.after)["spawnerFormDefaults"]
    # the same declaration on the 1.10 layout is the top-level flag
    (update,) = plan_spawner(ws, {}, cluster(KF110)).changes
    assert changed_lines(KF110, update.after) == [
        "-  allowCustomImage: true",
        "+  allowCustomImage: false",
    ]


@pytest.mark.parametrize(
    ("group", "flags", "named"),
    [
        (SpawnerGroup("imageGroupOne", "code:1", ("code:1",)), {}, "`imageGroupOne`"),
        (None, {"hide_tag": True}, "`hideTag`"),
        (None, {"image_pull_policy": "Always"}, "`imagePullPolicy`"),
    ],
)
def test_legacy_layout_refuses_what_its_web_app_ignores(
    group: SpawnerGroup | None, flags: dict[str, object], named: str
) -> None:
    from kfws.errors import ClusterError

    ws = workspace(*([group] if group else []), **flags)
    with pytest.raises(ClusterError) as e:
        plan_spawner(ws, {}, cluster(KF10))
    assert "Kubeflow 1.0 layout" in e.value.message and named in e.value.message
    assert "remove" in (e.value.hint or "")


# ------------------------------------------------------------------------------------------
# merge owns what it adds

OLD = "reg.example.com/team/jupyter-old:kfws1-" + "c" * 24
MERGED = KF110.replace(
    "      - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-tensorflow-cuda-full:v1.10.0\n",
    "      - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-tensorflow-cuda-full:v1.10.0\n"
    f"      - {OLD}\n      - {SUDO}\n      - {OTHER}\n",
    1,
)


def with_record(text: str, record: object) -> SpawnerState:
    raw = record if isinstance(record, str) else json.dumps(record)
    return dataclasses.replace(cluster(text), config_annotations={ANN_ADDED: raw})


@pytest.mark.parametrize(
    ("case", "record", "declared", "refs", "options_after", "why"),
    [
        (
            "drops what kfws added and keeps what others added",
            {"image": [OLD, SUDO]},
            ("jupyter-sudo",),
            {"jupyter-sudo": SUDO},
            ("stock", SUDO, OTHER),
            {OLD: "added by kfws, no longer declared"},
        ),
        (
            "a rebuilt managed image takes its old place",
            {"image": [OLD, SUDO]},
            ("jupyter-sudo", "jupyter-old"),
            {"jupyter-sudo": SUDO, "jupyter-old": OLD.replace("c" * 24, "d" * 24)},
            ("stock", OLD.replace("c" * 24, "d" * 24), SUDO, OTHER),
            None,
        ),
        ("no record: nothing is removed", None, (OTHER,), {}, None, None),
        ("a record that is not JSON", "{nope", (OTHER,), {}, None, None),
        ("a record of the wrong shape", {"image": "x"}, (OTHER,), {}, None, None),
        ("a record of other groups", {"imageGroupOne": [OLD]}, (OTHER,), {}, None, None),
        ("a huge record", "[" + " " * 70_000 + "]", (OTHER,), {}, None, None),
    ],
)
def test_merge_removes_only_what_kfws_added(
    case: str,
    record: object,
    declared: tuple[str, ...],
    refs: dict[str, str],
    options_after: tuple[str, ...] | None,
    why: dict[str, str] | None,
) -> None:
    ws = workspace(SpawnerGroup("image", None, declared, mode=MERGE))
    state = cluster(MERGED) if record is None else with_record(MERGED, record)
    part = plan_spawner(ws, refs, state)
    stock = live_options(KF110)
    if options_after is None:  # everything declared is there and nothing may go
        assert part.changes == ()
        return
    expected = tuple(o for x in options_after for o in (stock if x == "stock" else (x,)))
    update = part.changes[0]
    assert live_options(update.after) == expected
    group = update.details["diff"]["groups"]["image"]
    assert group.get("why") == why
    assert f"remove {OLD} (added by kfws, no longer declared)" in update.reason or group["replaced"]
    # the default is left alone in merge mode without a declared one
    assert read_spawner(update.after).group("image").value == SCIPY  # type: ignore[union-attr]
    # what kfws will have added: the record, less what went, plus what it adds now
    assert update.details["kfwsAdded"]["image"] == [
        o for o in expected if o not in stock and o != OTHER
    ]


def test_what_kfws_adds_is_recorded_for_the_next_plan() -> None:
    ws = workspace(SpawnerGroup("image", None, ("jupyter-sudo",), mode=MERGE))
    (update, _) = plan_spawner(ws, {"jupyter-sudo": SUDO}, cluster()).changes
    assert update.details["kfwsAdded"] == {"image": [SUDO]}
    # applied: the next plan, with the workspace dropping it, removes it
    applied = dataclasses.replace(
        cluster(update.after),
        config_annotations={ANN_ADDED: json.dumps(update.details["kfwsAdded"])},
    )
    ws2 = workspace(SpawnerGroup("image", None, (SCIPY,), mode=MERGE))
    (update2, _) = plan_spawner(ws2, {}, applied).changes
    assert live_options(update2.after) == live_options(KF110)
    assert update2.reason == f"image: remove {SUDO} (added by kfws, no longer declared)"
    assert update2.details["kfwsAdded"] == {"image": []}


# property: any config, any declaration, either mode: once applied (text and record), the next
# plan of the same workspace is empty, and merge never removes an option kfws did not add
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.unit.targets.spawner.test_config_edit import configs  # noqa: E402

POOL = st.sampled_from(
    [SCIPY, SCIPY_11, SUDO, SUDO_B, OTHER, OLD, "a.io/x:1", "a.io/x:2", "b.io/y@sha256:" + "e" * 64]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=configs(),
    first=st.lists(POOL, min_size=1, max_size=4, unique=True),
    second=st.lists(POOL, min_size=1, max_size=4, unique=True),
    mode=st.sampled_from([EXACT, MERGE]),
    default=st.none() | POOL,
)
def test_property_plans_converge_and_merge_keeps_others(
    text: str, first: list[str], second: list[str], mode: OptionsMode, default: str | None
) -> None:
    live = read_spawner(text)
    if live.legacy:
        return  # the editor's own property covers that layout
    state = cluster(text)
    others = set(live.group("image").options if live.group("image") else ())
    for declared in (first, second):
        dflt = default if default in declared or default is None else None
        ws = workspace(SpawnerGroup("image", dflt, tuple(declared), mode=mode))
        part = plan_spawner(ws, {}, state)
        if not part.changes:
            continue
        update = part.changes[0]
        after = read_spawner(update.after).group("image")
        assert after is not None
        assert set(declared) <= set(after.options)
        if mode is MERGE:
            assert others <= set(after.options)  # nobody else's option goes
        state = dataclasses.replace(
            cluster(update.after),
            config_annotations={ANN_ADDED: json.dumps(update.details["kfwsAdded"])},
        )
        assert plan_spawner(ws, {}, state).changes == ()  # applied: nothing left to do


PINNED = "reg.example.com/team/jupyter-sudo@sha256:" + "9" * 64


@pytest.mark.parametrize(
    ("added", "expected"),
    [
        (None, None),  # a rollback carries no record: the old one is kept
        ("x", None),
        ({"image": [SUDO]}, {"image": [SUDO]}),
        # pin: digest of an image built in the same apply: the text has the real digest
        ({"image": [f"reg.example.com/team/jupyter-sudo@{PENDING_DIGEST}"]}, {"image": [PINNED]}),
        ({"image": ["gone.example.com/x:1"]}, {"image": []}),
        ({"image": [SUDO], "imageGroupTwo": [SUDO]}, {"image": [SUDO]}),  # no such live group
    ],
)
def test_the_record_apply_writes_comes_from_the_written_text(
    added: object, expected: object
) -> None:
    from kfws.targets.spawner.plan import record_for

    text = f"spawnerFormDefaults:\n  image:\n    options:\n      - {SUDO}\n      - {PINNED}\n"
    assert record_for(added, text) == expected
