"""Which offered images a plan checks (pure)."""

from __future__ import annotations

from kfws.check import CheckKind, cache_key
from kfws.observe.model import Observed
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
    passed = frozenset({cache_key(DIGEST, CheckKind.JUPYTER), cache_key(DIGEST, CheckKind.WEB)})
    remembered = Observed(obs.inputs, obs.images, checks=passed)
    assert plan_checks(ws, remembered, [spawner_change()]) == []  # type: ignore[arg-type]


def test_an_image_this_plan_builds_is_checked_even_if_its_old_digest_passed() -> None:
    ws, obs = setup()
    passed = frozenset({cache_key(DIGEST, CheckKind.JUPYTER), cache_key(DIGEST, CheckKind.WEB)})
    remembered = Observed(obs.inputs, obs.images, checks=passed)
    build = Change(ChangeKind.BUILD_IMAGE, "x", "missing", details={"name": "tf"})
    (check,) = plan_checks(ws, remembered, [build])  # type: ignore[arg-type]
    assert check.details == {"name": "tf", "kinds": ["jupyter"], "digest": None}
    assert "checked after the push" in check.reason
