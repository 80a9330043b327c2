"""Which offered images a plan checks (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from kfws.check import CheckKind, cache_key
from kfws.observe.model import ImageState, Observed
from kfws.plan.checks import plan_checks
from kfws.plan.model import Change, ChangeKind
from kfws.spec.model import SpawnerGroup, SpawnerSpec
from kfws.targets.spawner.kinds import UPDATE
from tests.unit import factories as f

DIGEST = "sha256:" + "d" * 64


def setup() -> tuple[object, Observed]:
    groups = (
        SpawnerGroup("image", "lab", ("lab", "tf")),
        SpawnerGroup("imageGroupOne", "code", ("code", "lab")),
    )
    ws = f.spec(
        f.image("lab"), f.image("tf"), f.image("code"), f.image("base"), spawner=SpawnerSpec(groups)
    )
    pairs = [
        (f.inputs(n), f.state(f"{f.REGISTRY}/team/{n}:kfws1-x", registry=DIGEST))
        for n in ("lab", "tf", "code", "base")
    ]
    return ws, f.observed(*pairs)


def spawner_change() -> Change:
    return Change(UPDATE, "configmap/kubeflow/cm", "options")


def remembering(
    obs: Observed, digest: str, *kinds: CheckKind, images: Mapping[str, ImageState] | None = None
) -> Observed:
    """`obs`, with passes of `kinds` for `digest` remembered on this machine."""
    passed = frozenset(cache_key(digest, k) for k in kinds)
    return Observed(obs.inputs, images or obs.images, checks=passed)


def test_nothing_to_change_checks_nothing() -> None:
    ws, obs = setup()
    assert plan_checks(ws, obs, []) == []  # type: ignore[arg-type]


def test_every_offered_image_is_checked_for_each_group_kind_and_unoffered_ones_not() -> None:
    ws, obs = setup()
    checks = plan_checks(ws, obs, [spawner_change()])  # type: ignore[arg-type]
    assert {c.details["name"]: c.details["kinds"] for c in checks} == {
        "code": ["web"],
        "lab": ["jupyter", "web"],
        "tf": ["jupyter"],
    }
    assert all(c.kind is ChangeKind.CHECK_IMAGE and c.after == DIGEST for c in checks)


def test_a_remembered_pass_for_the_same_digest_is_not_checked_again() -> None:
    ws, obs = setup()
    remembered = remembering(obs, DIGEST, CheckKind.JUPYTER, CheckKind.WEB)
    assert plan_checks(ws, remembered, [spawner_change()]) == []  # type: ignore[arg-type]


def test_an_image_this_plan_builds_is_checked_even_if_its_old_digest_passed() -> None:
    ws, obs = setup()
    remembered = remembering(obs, DIGEST, CheckKind.JUPYTER, CheckKind.WEB)
    build = Change(ChangeKind.BUILD_IMAGE, "x", "missing", details={"name": "tf"})
    (check,) = plan_checks(ws, remembered, [build])  # type: ignore[arg-type]
    assert check.details == {"name": "tf", "kinds": ["jupyter"], "digest": None}
    assert "checked after the push" in check.reason


def test_an_offered_unchanged_image_is_checked_in_full() -> None:
    ws, obs = setup()
    checks = plan_checks(ws, obs, [spawner_change()])  # type: ignore[arg-type]
    lab = next(c for c in checks if c.details["name"] == "lab")
    assert lab == Change(
        kind=ChangeKind.CHECK_IMAGE,
        target=f"{f.REGISTRY}/team/lab:kfws1-x",
        reason="offered; this digest has not passed the Jupyter and VS Code / RStudio contract "
        "check here yet",
        before=None,
        after=DIGEST,
        details={"name": "lab", "kinds": ["jupyter", "web"], "digest": DIGEST},
    )


def test_an_image_this_plan_pushes_is_checked_after_the_push_in_full() -> None:
    ws, obs = setup()
    push = Change(ChangeKind.PUSH_IMAGE, "x", "local", details={"name": "code"})
    checks = plan_checks(ws, obs, [push])  # type: ignore[arg-type]
    code = next(c for c in checks if c.details["name"] == "code")
    assert code == Change(
        kind=ChangeKind.CHECK_IMAGE,
        target=f"{f.REGISTRY}/team/code:kfws1-x",
        reason="built by this plan: the VS Code / RStudio contract is checked after the push, "
        "before the spawner changes",
        before=None,
        after=None,
        details={"name": "code", "kinds": ["web"], "digest": None},
    )


def test_a_pass_of_one_kind_leaves_only_the_other_kind_to_check() -> None:
    ws, obs = setup()
    remembered = remembering(obs, DIGEST, CheckKind.JUPYTER)
    checks = plan_checks(ws, remembered, [spawner_change()])  # type: ignore[arg-type]
    assert {c.details["name"]: c.details["kinds"] for c in checks} == {
        "code": ["web"],
        "lab": ["web"],
    }
    assert "the VS Code / RStudio contract check" in checks[0].reason


def test_a_pass_remembered_for_another_digest_does_not_count() -> None:
    ws, obs = setup()
    other = "sha256:" + "e" * 64
    remembered = remembering(obs, other, CheckKind.JUPYTER, CheckKind.WEB)
    checks = plan_checks(ws, remembered, [spawner_change()])  # type: ignore[arg-type]
    assert sorted(c.details["name"] for c in checks) == ["code", "lab", "tf"]


def test_a_check_change_is_not_an_image_this_plan_produces() -> None:
    ws, obs = setup()
    remembered = remembering(obs, DIGEST, CheckKind.JUPYTER, CheckKind.WEB)
    old = Change(ChangeKind.CHECK_IMAGE, "x", "offered", details={"name": "tf"})
    assert plan_checks(ws, remembered, [old]) == []  # type: ignore[arg-type]


def test_an_offered_image_missing_from_the_registry_is_checked_without_a_digest() -> None:
    ws, obs = setup()
    missing = dict(obs.images)
    missing["tf"] = f.state(f"{f.REGISTRY}/team/tf:kfws1-x")
    remembered = remembering(obs, DIGEST, CheckKind.JUPYTER, CheckKind.WEB, images=missing)
    (check,) = plan_checks(ws, remembered, [spawner_change()])  # type: ignore[arg-type]
    assert check.details == {"name": "tf", "kinds": ["jupyter"], "digest": None}
    assert check.reason.startswith("offered; this digest has not passed the Jupyter contract")
