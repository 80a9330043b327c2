"""Apply runs image changes as a graph: bases before the images built on them, independent ones
at the same time, and an image whose base failed is not started (its result says why)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from kfws.apply.images import ImageResult, _waits_for, fallback_hint, run_in_order
from kfws.observe.last_built import Built, LastBuilt
from kfws.plan.model import Change, ChangeKind
from kfws.spec.model import GeneratedSpec, ImageSpec
from tests.unit.factories import BASE, spec


def change(name: str) -> Change:
    return Change(ChangeKind.BUILD_IMAGE, f"reg/{name}:t", "r", details={"name": name})


def on(name: str, base: str | None) -> ImageSpec:
    generated = GeneratedSpec(base=base or BASE, managed_base=base is not None)
    return ImageSpec(name, f"reg.example.com/team/{name}", None, None, generated, "ws.yaml:1")


def ok(c: Change) -> ImageResult:
    return ImageResult(str(c.details["name"]), c.target, True, True, "sha256:" + "a" * 64)


def test_waits_for_the_changed_bases_also_through_an_unchanged_one() -> None:
    s = spec(on("base", None), on("mid", "base"), on("top", "mid"), on("other", None))
    waits = _waits_for(s, [change("base"), change("top"), change("other")])
    assert waits == {"base": set(), "top": {"base"}, "other": set()}


def test_bases_finish_before_their_dependants_start() -> None:
    work = [change("top"), change("mid"), change("base")]
    waits = {"top": {"mid", "base"}, "mid": {"base"}, "base": set()}
    events: list[str] = []
    lock = threading.Lock()

    def run(c: Change) -> ImageResult:
        with lock:
            events.append(f"start {c.details['name']}")
        with lock:
            events.append(f"end {c.details['name']}")
        return ok(c)

    results = run_in_order(work, waits, run, parallelism=4)
    assert [r.name for r in results] == ["top", "mid", "base"]  # the order of the work
    assert events == ["start base", "end base", "start mid", "end mid", "start top", "end top"]


def test_independent_images_run_at_the_same_time() -> None:
    # a waits until b has started: with one at a time this would never finish
    b_started = threading.Event()
    seen: list[bool] = []

    def run(c: Change) -> ImageResult:
        if c.details["name"] == "b":
            b_started.set()
        else:
            seen.append(b_started.wait(timeout=60))  # a safety net only
        return ok(c)

    results = run_in_order([change("a"), change("b")], {}, run, parallelism=2)
    assert seen == [True]
    assert all(r.error is None for r in results)


def test_an_image_on_a_failed_base_is_not_started() -> None:
    started: list[str] = []

    def run(c: Change) -> ImageResult:
        name = str(c.details["name"])
        started.append(name)
        if name == "base":
            return ImageResult(name, c.target, False, False, None, error="the build failed")
        return ok(c)

    work = [change("base"), change("child"), change("grandchild"), change("other")]
    waits = {"child": {"base"}, "grandchild": {"child", "base"}, "base": set(), "other": set()}
    results = {r.name: r for r in run_in_order(work, waits, run, parallelism=1)}
    assert sorted(started) == ["base", "other"]
    assert results["child"].error == ("not built: the managed image it builds on (base) failed")
    assert results["grandchild"].error == (
        "not built: the managed image it builds on (base, child) failed"
    )
    assert results["other"].error is None and results["other"].pushed


def test_after_a_failed_build_the_hint_names_the_newest_build_the_search_found() -> None:
    asked: list[tuple[str, str]] = []
    found = LastBuilt(
        (
            Built(
                "reg:5000/team/nb:kfws1-old",
                "2026-11-20T06:00:00Z",  # BuildKit's `created` (kfws.images.built_at)
                None,
                datetime(2026, 11, 29, 6, 0, 0, 123456, tzinfo=UTC),  # its built-at label
            ),
            Built(
                "reg:5000/team/nb:kfws1-older",
                "2026-11-28T06:00:00Z",
                None,
                datetime(2026, 11, 28, 6, tzinfo=UTC),  # built before the label: `created`
            ),
        )
    )

    def search(repository: str, name: str) -> LastBuilt:
        asked.append((repository, name))
        return found

    failed = ImageResult("nb", "reg:5000/team/nb:kfws1-new", False, False, None, error="boom")
    hint = fallback_hint(failed, search)
    assert asked == [("reg:5000/team/nb", "nb")]  # the repository, port kept
    assert hint == (
        "  nb: the last image kfws built for it is still in the registry: "
        "reg:5000/team/nb:kfws1-old (built 2026-11-29 06:00:00 UTC). The spawner keeps offering "
        "what it offers now; to offer that image while the build is fixed, list "
        "reg:5000/team/nb:kfws1-old in place of nb in spawner options"
    )
    cut = LastBuilt(found.found[1:], note="the search … was cut short")
    assert "kfws1-older (built 2026-11-28 06:00:00 UTC) (the search … was cut short)." in (
        fallback_hint(failed, lambda r, n: cut)
    )
    assert fallback_hint(failed, lambda r, n: LastBuilt(note="could not list")) == ""
