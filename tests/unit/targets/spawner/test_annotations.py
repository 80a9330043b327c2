"""kfws.targets.spawner.annotations: the records kfws leaves on the ConfigMap are hostile
input when read back."""

from __future__ import annotations

import pytest

from kfws.targets.spawner.annotations import (
    ANN_DIGESTS,
    ANN_OWNED,
    applied_digests,
    owned_annotation,
)


@pytest.mark.parametrize("raw", ["[1]", "{not json", '{"a": 1}', ""])
def test_a_hostile_applied_digests_annotation_reads_as_nothing_recorded(raw: str) -> None:
    assert applied_digests({ANN_DIGESTS: raw}) == {}


def test_the_applied_digests_are_read_back() -> None:
    assert applied_digests({ANN_DIGESTS: '{"r/a:1": "sha256:aa"}'}) == {"r/a:1": "sha256:aa"}


@pytest.mark.parametrize("raw", ["[1]", "{not json", '"text"', ""])
def test_a_hostile_owned_record_reads_as_no_record(raw: str) -> None:
    assert owned_annotation({ANN_OWNED: raw}) is None


def test_the_owned_record_is_read_back() -> None:
    assert owned_annotation({ANN_OWNED: '{"image": {"value": "r/a:1"}}'}) == {
        "image": {"value": "r/a:1"}
    }
