"""Reading Notebook objects the API server returns (kfws.observe.notebooks): odd or hostile
shapes read as "no image", never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from kfws.observe.notebooks import _image, _name


def nb(spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns", "name": "x"}, "spec": spec}


@pytest.mark.parametrize(
    ("spec", "image"),
    [
        (
            {"template": {"spec": {"containers": [{"name": "x", "image": "reg.io/a:1"}]}}},
            "reg.io/a:1",
        ),
        (
            {"template": {"spec": {"containers": [{"name": "x", "image": "a:1"}, {"image": "s"}]}}},
            "a:1",
        ),
        ({"template": {"spec": {"containers": []}}}, ""),
        ({"template": {"spec": {"containers": ["a:1"]}}}, ""),
        ({"template": {"spec": {"containers": [{"image": 7}]}}}, ""),
        ({"template": "a:1"}, ""),
        ("a:1", ""),
        (None, ""),
    ],
)
def test_the_image_is_the_first_containers_or_none(spec: Any, image: str) -> None:
    assert _image(nb(spec)) == image


def test_a_name_is_read_from_metadata_whatever_its_shape() -> None:
    assert _name(nb(None)) == ("ns", "x")
    assert _name({"metadata": "odd"}) == ("", "")
