"""The pure half of the search for the last image kfws built (kfws.observe.last_built): which
tags are read, which build is the newest, what the plan says of a search cut short."""

from __future__ import annotations

from datetime import UTC, datetime

from kfws.observe.last_built import candidates, newest, search_note
from kfws.observe.registry.facts import ImageFacts


def facts(
    name: str | None, created: str | None, inputs: str | None = None, built: str | None = None
) -> ImageFacts:
    labels = {"dev.kfws.image-name": name} if name else {}
    if inputs:
        labels["dev.kfws.inputs"] = inputs
    if built:
        labels["dev.kfws.built-at"] = built
    return ImageFacts("sha256:" + "1" * 64, labels, created, (), None)


def test_kfws_content_tags_are_read_first_and_the_rest_newest_looking_first() -> None:
    tags = ["v1", "kfws1-aa", "latest", "v2", "kfws1-ff", "kfws1-aa", "kfws2-zz", "gone"]
    chosen, eligible = candidates(tags, exclude={"gone"}, limit=4)
    assert chosen == ["kfws1-ff", "kfws1-aa", "v2", "v1"]
    assert eligible == 6  # repeats counted once, the excluded tag not at all
    assert candidates([], exclude=(), limit=4) == ([], 0)
    assert candidates(["a", "b"], exclude=(), limit=0) == ([], 2)


def test_the_newest_build_for_the_name_comes_first() -> None:
    found = newest(
        "reg/team/nb",
        "nb",
        {
            "kfws1-a": facts("nb", "2026-11-29T06:00:00Z", '{"v":1}'),
            "kfws1-b": facts("nb", "2026-11-29T09:00:00.5+02:00"),  # 07:00 UTC: the newest
            "kfws1-c": facts("other", "2026-11-30T00:00:00Z"),  # built for another name
            "kfws1-d": facts(None, "2026-11-30T00:00:00Z"),  # not built by kfws
            "kfws1-e": facts("nb", "not a time"),  # after every dated build
            "kfws1-f": None,  # gone between the listing and the read
        },
    )
    assert [(b.reference, b.inputs) for b in found] == [
        ("reg/team/nb:kfws1-b", None),
        ("reg/team/nb:kfws1-a", '{"v":1}'),
        ("reg/team/nb:kfws1-e", None),
    ]


def test_a_search_cut_short_says_how() -> None:
    assert search_note("r/nb", 5, False, 5, 5, 0) is None
    assert search_note("r/nb", 2000, True, 40, 1990, 3) == (
        "the search for the last image kfws built was cut short (listed only the first 2000 "
        "tags of r/nb; read the labels of 40 of 1990+ tags; 3 could not be read): a newer one "
        "may be among the others"
    )
    assert search_note("r/nb", 50, False, 40, 50, 0) == (
        "the search for the last image kfws built was cut short (read the labels of 40 of 50 "
        "tags): a newer one may be among the others"
    )


def test_buildkit_releases_with_one_created_are_ordered_by_when_kfws_built_them() -> None:
    # three releases differing only by an ENV line: BuildKit wrote the same `created` on each
    # (kfws.images.built_at); kfws's label tells them apart, in whatever order the tags sort
    same = "2026-12-07T00:35:46.188199234Z"
    found = newest(
        "reg/team/nb",
        "nb",
        {
            "kfws1-c": facts("nb", same, built="2026-12-07T00:40:01.000000Z"),
            "kfws1-a": facts("nb", same, built="2026-12-07T00:40:03.000000Z"),  # the newest
            "kfws1-b": facts("nb", same, built="2026-12-07T00:40:02.000000Z"),
            "kfws1-0": facts("nb", "2026-12-01T00:00:00Z"),  # built before the label
        },
    )
    assert [(b.reference, b.built) for b in found] == [
        ("reg/team/nb:kfws1-a", datetime(2026, 12, 7, 0, 40, 3, tzinfo=UTC)),
        ("reg/team/nb:kfws1-b", datetime(2026, 12, 7, 0, 40, 2, tzinfo=UTC)),
        ("reg/team/nb:kfws1-c", datetime(2026, 12, 7, 0, 40, 1, tzinfo=UTC)),
        ("reg/team/nb:kfws1-0", datetime(2026, 12, 1, tzinfo=UTC)),
    ]
    assert all(b.created in (same, "2026-12-01T00:00:00Z") for b in found)
