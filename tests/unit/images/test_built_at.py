"""When kfws built an image (kfws.images.built_at): the label's format, its parse, and the
newest-first order prune and the last-built search share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from kfws.images.built_at import BUILT_AT_LABEL, built_time, newest_first_key, parse_time, stamp


def test_the_stamp_is_utc_with_microseconds_and_reads_back_exactly() -> None:
    when = datetime(2026, 12, 7, 2, 35, 46, 188199, tzinfo=timezone(timedelta(hours=2)))
    assert stamp(when) == "2026-12-07T00:35:46.188199Z"
    assert parse_time(stamp(when)) == when
    now = parse_time(stamp())
    assert now is not None and now.tzinfo == UTC


def test_times_as_builders_write_them() -> None:
    assert parse_time("2026-11-29T10:01:02.123456789Z") == datetime(
        2026, 11, 29, 10, 1, 2, 123456, tzinfo=UTC
    )
    assert parse_time("2026-11-29T12:01:02+02:00") == datetime(2026, 11, 29, 10, 1, 2, tzinfo=UTC)
    for odd in (None, "", "yesterday", "2026-13-40T99:00:00Z", "2026-11-29T10:01:02"):
        assert parse_time(odd) is None, odd


def test_the_label_wins_over_created_and_an_odd_label_counts_as_absent() -> None:
    created = "2026-11-01T00:00:00Z"
    labelled = {BUILT_AT_LABEL: "2026-12-01T08:00:00.000001Z"}
    assert built_time(labelled, created) == datetime(2026, 12, 1, 8, 0, 0, 1, tzinfo=UTC)
    assert built_time({}, created) == datetime(2026, 11, 1, tzinfo=UTC)
    assert built_time({BUILT_AT_LABEL: "soon"}, created) == datetime(2026, 11, 1, tzinfo=UTC)
    assert built_time({BUILT_AT_LABEL: "soon"}, None) is None


def test_newest_first_by_label_then_created_ties_by_tag_undated_last() -> None:
    same = "2026-12-07T00:35:46.188199234Z"  # what BuildKit wrote on three releases
    images = {
        "kfws1-aaa": ({BUILT_AT_LABEL: "2026-12-07T00:40:00.000002Z"}, same),
        "kfws1-fff": ({BUILT_AT_LABEL: "2026-12-07T00:40:00.000001Z"}, same),  # 1 µs older
        "kfws1-ccc": ({BUILT_AT_LABEL: "2026-12-07T00:41:00Z"}, same),  # the newest
        "kfws1-bbb": ({BUILT_AT_LABEL: "2026-12-07T00:40:00.000001Z"}, same),  # a tie: by tag
        "kfws1-old": ({}, "2026-11-01T00:00:00Z"),  # built before the label: its `created`
        "kfws1-tie-a": ({}, "2026-10-01T00:00:00Z"),
        "kfws1-tie-b": ({}, "2026-10-01T02:00:00+02:00"),  # the same instant, by tag
        "kfws1-none": ({}, None),  # no time at all: after every dated one
        "kfws1-bad": ({BUILT_AT_LABEL: "x"}, "not a time"),
    }
    order = sorted(images, key=lambda t: newest_first_key(*images[t], t), reverse=True)
    assert order == [
        "kfws1-ccc",
        "kfws1-aaa",
        "kfws1-fff",
        "kfws1-bbb",
        "kfws1-old",
        "kfws1-tie-b",
        "kfws1-tie-a",
        "kfws1-none",
        "kfws1-bad",
    ]
