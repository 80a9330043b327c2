from __future__ import annotations

import dataclasses

import pytest

from kfws.errors import PlanError
from kfws.plan.images import plan_images, spawner_refs
from kfws.plan.model import PENDING_DIGEST, Change, ChangeKind
from kfws.spec.model import ImageSpec, PinMode, SpawnerGroup, SpawnerSpec
from tests.unit.factories import REGISTRY, image, inputs, observed, spec, state

DIGEST = "sha256:" + "d" * 64


def ref(name: str, tag: str) -> str:
    return f"{REGISTRY}/team/{name}:{tag}"


@pytest.mark.parametrize(
    ("explicit_tag", "registry", "label", "engine", "expected"),
    [
        # content-addressed tag: present means done, absent means build (or push if local)
        (None, None, None, None, ChangeKind.BUILD_IMAGE),
        (None, None, None, "sha256:local", ChangeKind.PUSH_IMAGE),
        (None, DIGEST, None, None, None),
        # explicit tag: compare the input-digest label of what the registry holds
        ("v1", None, None, None, ChangeKind.BUILD_IMAGE),
        ("v1", DIGEST, "sha256:" + "1" * 64, None, None),
        ("v1", DIGEST, "sha256:" + "2" * 64, None, ChangeKind.REBUILD_IMAGE),
        ("v1", DIGEST, None, None, ChangeKind.REBUILD_IMAGE),
    ],
)
def test_image_actions(
    explicit_tag: str | None,
    registry: str | None,
    label: str | None,
    engine: str | None,
    expected: ChangeKind | None,
) -> None:
    ins = inputs("nb", "1", tag=explicit_tag)
    obs = observed((ins, state(ref("nb", ins.tag), registry=registry, label=label, engine=engine)))
    part = plan_images(spec(image("nb", explicit_tag)), obs)
    kinds = [c.kind for c in part.changes]
    assert kinds == ([expected] if expected else [])
    if expected:
        change = part.changes[0]
        assert change.target == ref("nb", ins.tag)
        assert change.after == ins.input_digest
        assert change.reason


def test_rebuild_on_an_immutable_registry_is_refused_with_the_location() -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), registry=DIGEST, label="sha256:" + "2" * 64)))
    with pytest.raises(PlanError) as e:
        plan_images(spec(image("nb", "v1"), immutable=True), obs)
    assert "immutable" in e.value.message
    assert e.value.where == "workspace.yaml:12"
    assert e.value.hint and "tag" in e.value.hint


def test_fingerprint_holds_inputs_and_registry_state_of_every_image() -> None:
    a, b = inputs("aa", "1"), inputs("bb", "2")
    obs = observed((a, state(ref("aa", a.tag), registry=DIGEST)), (b, state(ref("bb", b.tag))))
    part = plan_images(spec(image("aa"), image("bb")), obs)
    facts = {o.key: o.value for o in part.observations}
    assert facts == {
        "inputs:aa": a.input_digest,
        "inputs:bb": b.input_digest,
        f"registry:{ref('aa', a.tag)}": DIGEST,
        f"registry:{ref('bb', b.tag)}": None,
    }


def test_digest_refs_are_pending_for_images_this_plan_builds() -> None:
    a, b = inputs("aa", "1"), inputs("bb", "2")
    obs = observed((a, state(ref("aa", a.tag), registry=DIGEST)), (b, state(ref("bb", b.tag))))
    part = plan_images(spec(image("aa"), image("bb")), obs)
    assert part.refs_by_digest == {
        "aa": f"{REGISTRY}/team/aa@{DIGEST}",
        "bb": f"{REGISTRY}/team/bb@{PENDING_DIGEST}",
    }
    assert part.refs_by_tag == {"aa": ref("aa", a.tag), "bb": ref("bb", b.tag)}


@pytest.mark.parametrize(
    ("label", "applied", "says", "never"),
    [
        # someone pushed over the tag kfws applied: the reason says so, with both digests
        (None, "sha256:" + "a" * 64, "overwritten since kfws applied it", "inputs are now"),
        (
            "sha256:" + "2" * 64,
            "sha256:" + "a" * 64,
            "overwritten since kfws applied",
            "inputs are",
        ),
        # no record of an apply, and no kfws label: pushed or overwritten by hand
        (None, None, "kfws did not build", "inputs are now"),
        # the tag holds what kfws applied, built from other inputs: the workspace changed
        ("sha256:" + "2" * 64, DIGEST, "workspace.yaml changed the image's inputs", "overwritten"),
    ],
)
def test_a_rebuild_says_whether_the_tag_was_overwritten_or_the_inputs_changed(
    label: str | None, applied: str | None, says: str, never: str
) -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), registry=DIGEST, label=label)))
    record = {ref("nb", "v1"): applied} if applied else {}
    obs = dataclasses.replace(obs, applied_digests=record)
    (change,) = plan_images(spec(image("nb", "v1")), obs).changes
    assert change.kind is ChangeKind.REBUILD_IMAGE
    assert says in change.reason and never not in change.reason


def test_an_image_built_on_a_managed_image_this_plan_builds_says_it_waits() -> None:
    base, mid, top = image("base"), image("mid"), image("top")
    mid = dataclasses.replace(
        mid, generated=dataclasses.replace(mid.generated, base="base", managed_base=True)
    )  # type: ignore[arg-type]
    top = dataclasses.replace(
        top, generated=dataclasses.replace(top.generated, base="mid", managed_base=True)
    )  # type: ignore[arg-type]
    # base and top are built; mid (between them) is already in the registry
    pairs = [
        (inputs("base", "1"), state(ref("base", "kfws1-" + "1" * 24))),
        (inputs("mid", "2"), state(ref("mid", "kfws1-" + "2" * 24), registry=DIGEST)),
        (inputs("top", "3"), state(ref("top", "kfws1-" + "3" * 24))),
    ]
    part = plan_images(spec(base, mid, top), observed(*pairs))
    reasons = {c.details["name"]: c.reason for c in part.changes}
    assert reasons == {
        "base": "the tag is not in the registry",
        "top": "the tag is not in the registry; built after base (changed by this plan too)",
    }


def _built_on(img: ImageSpec, base: str) -> ImageSpec:
    assert img.generated is not None
    return dataclasses.replace(
        img, generated=dataclasses.replace(img.generated, base=base, managed_base=True)
    )


def test_a_build_change_is_written_in_full() -> None:
    ins = inputs("nb", "1")
    obs = observed((ins, state(ref("nb", ins.tag))))
    (change,) = plan_images(spec(image("nb")), obs).changes
    assert change == Change(
        kind=ChangeKind.BUILD_IMAGE,
        target=ref("nb", ins.tag),
        reason="the tag is not in the registry",
        before=None,
        after="sha256:" + "1" * 64,
        details={
            "name": "nb",
            "repository": f"{REGISTRY}/team/nb",
            "tag": ins.tag,
            "input_digest": "sha256:" + "1" * 64,
            "generated": True,
        },
    )


def test_a_push_change_is_written_in_full_and_says_the_engine_has_the_image() -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), engine="sha256:local")))
    (change,) = plan_images(
        spec(dataclasses.replace(image("nb", "v1"), generated=None)), obs
    ).changes
    assert change.kind is ChangeKind.PUSH_IMAGE
    assert change.reason == (
        "the engine already holds this image built from the same inputs; "
        "the registry does not have the tag"
    )
    assert (change.before, change.after) == (None, "sha256:" + "1" * 64)
    assert change.details == {
        "name": "nb",
        "repository": f"{REGISTRY}/team/nb",
        "tag": "v1",
        "input_digest": "sha256:" + "1" * 64,
        "generated": False,  # a build: context, not a generated Dockerfile
    }


def test_a_rebuild_keeps_the_registry_digest_as_before() -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), registry=DIGEST, label="sha256:" + "2" * 64)))
    (change,) = plan_images(spec(image("nb", "v1")), obs).changes
    assert (change.kind, change.target) == (ChangeKind.REBUILD_IMAGE, ref("nb", "v1"))
    assert (change.before, change.after) == (DIGEST, "sha256:" + "1" * 64)
    assert change.details["tag"] == "v1" and change.details["generated"] is True


@pytest.mark.parametrize(
    ("label", "found"),
    [
        ("sha256:" + "2" * 64, "built from inputs " + "2" * 12),
        (None, "not built by kfws (no input-digest label)"),
    ],
)
def test_the_immutable_refusal_names_the_tag_what_it_holds_and_the_new_inputs(
    label: str | None, found: str
) -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), registry=DIGEST, label=label)))
    with pytest.raises(PlanError) as e:
        plan_images(spec(image("nb", "v1"), immutable=True), obs)
    assert e.value.message == (
        f"{ref('nb', 'v1')} exists ({found}) but workspace.yaml now describes other inputs "
        f"({'1' * 12}), and {REGISTRY} is marked immutable"
    )
    assert e.value.hint == (
        "give the image a new `tag` (or drop `tag` to use content-addressed tags)"
    )


def test_an_immutable_registry_still_lets_a_matching_tag_and_a_missing_tag_through() -> None:
    same = inputs("same", "1", tag="v1")
    new = inputs("new", "2", tag="v1")
    obs = observed(
        (same, state(ref("same", "v1"), registry=DIGEST, label=same.input_digest)),
        (new, state(ref("new", "v1"))),
    )
    part = plan_images(spec(image("same", "v1"), image("new", "v1"), immutable=True), obs)
    assert [(c.kind, c.details["name"]) for c in part.changes] == [(ChangeKind.BUILD_IMAGE, "new")]


@pytest.mark.parametrize(
    ("label", "applied", "reason"),
    [
        (
            None,
            "sha256:" + "a" * 64,
            f"the tag was overwritten since kfws applied it ({'a' * 12} then, {'d' * 12} now) "
            "with an image kfws did not build: rebuild and re-push what workspace.yaml describes",
        ),
        (
            "sha256:" + "2" * 64,
            "sha256:" + "a" * 64,
            f"the tag was overwritten since kfws applied it ({'a' * 12} then, {'d' * 12} now) "
            f"with a build of other inputs ({'2' * 12}): rebuild and re-push what "
            "workspace.yaml describes",
        ),
        (
            None,
            None,
            "the tag holds an image kfws did not build (no dev.kfws.input-digest label): it was "
            "pushed or overwritten by hand; rebuild and re-push what workspace.yaml describes",
        ),
        (
            # the record says kfws applied what the tag still holds: not overwritten
            None,
            DIGEST,
            "the tag holds an image kfws did not build (no dev.kfws.input-digest label): it was "
            "pushed or overwritten by hand; rebuild and re-push what workspace.yaml describes",
        ),
        (
            "sha256:" + "2" * 64,
            DIGEST,
            f"workspace.yaml changed the image's inputs: the tag was built from inputs "
            f"{'2' * 12}, they are now {'1' * 12}",
        ),
    ],
)
def test_the_rebuild_reason_in_full(label: str | None, applied: str | None, reason: str) -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), registry=DIGEST, label=label)))
    record = {ref("nb", "v1"): applied} if applied else {}
    obs = dataclasses.replace(obs, applied_digests=record)
    (change,) = plan_images(spec(image("nb", "v1")), obs).changes
    assert change.reason == reason


def test_the_applied_record_of_another_reference_is_not_read() -> None:
    ins = inputs("nb", "1", tag="v1")
    obs = observed((ins, state(ref("nb", "v1"), registry=DIGEST)))
    obs = dataclasses.replace(obs, applied_digests={ref("nb", "v0"): "sha256:" + "a" * 64})
    (change,) = plan_images(spec(image("nb", "v1")), obs).changes
    assert "overwritten since kfws applied" not in change.reason
    assert change.reason.startswith("the tag holds an image kfws did not build")


def test_an_image_waits_for_every_changed_image_below_it_sorted_and_a_push_never_waits() -> None:
    # top builds on mid, mid on base; zeta stands alone; zeta, base and top are built, mid
    # (on base) is pushed from the engine: only top waits, for both images below it
    base, zeta = image("base"), image("zeta")
    mid = _built_on(image("mid"), "base")
    top = _built_on(image("top"), "mid")
    pairs = [
        (inputs("zeta", "4"), state(ref("zeta", "kfws1-" + "4" * 24))),
        (inputs("base", "1"), state(ref("base", "kfws1-" + "1" * 24))),
        (inputs("mid", "2"), state(ref("mid", "kfws1-" + "2" * 24), engine="sha256:local")),
        (inputs("top", "3"), state(ref("top", "kfws1-" + "3" * 24))),
    ]
    part = plan_images(spec(zeta, base, mid, top), observed(*pairs))
    reasons = {c.details["name"]: c.reason for c in part.changes}
    assert reasons["mid"].endswith("the registry does not have the tag")  # a push: nothing built
    assert reasons["top"] == (
        "the tag is not in the registry; built after base, mid (changed by this plan too)"
    )
    assert [c.details["name"] for c in part.changes] == ["zeta", "base", "mid", "top"]


def test_each_spawner_group_writes_tags_or_digests_as_its_pin_says() -> None:
    a, b = inputs("aa", "1"), inputs("bb", "2")
    obs = observed((a, state(ref("aa", a.tag), registry=DIGEST)), (b, state(ref("bb", b.tag))))
    ws = spec(
        image("aa"),
        image("bb"),
        spawner=SpawnerSpec(
            groups=(
                SpawnerGroup("image", "aa", ("aa", "bb")),
                SpawnerGroup("imageGroupOne", "aa", ("aa",), pin=PinMode.DIGEST),
            )
        ),
    )
    refs = spawner_refs(ws, plan_images(ws, obs))
    assert refs == {
        "image": {"aa": ref("aa", a.tag), "bb": ref("bb", b.tag)},
        "imageGroupOne": {
            "aa": f"{REGISTRY}/team/aa@{DIGEST}",
            "bb": f"{REGISTRY}/team/bb@{PENDING_DIGEST}",
        },
    }


def test_the_images_part_handed_to_the_cluster_targets_is_immutable() -> None:
    ins = inputs("nb", "1")
    part = plan_images(spec(image("nb")), observed((ins, state(ref("nb", ins.tag)))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        part.changes = ()  # type: ignore[misc]
