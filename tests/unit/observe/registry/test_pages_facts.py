"""The pure readers of tag-list pages and image facts: a registry's answer is untrusted."""

from __future__ import annotations

import pytest
import requests

from kfws.errors import RegistryError
from kfws.observe.registry.facts import blobs_of, image_config
from kfws.observe.registry.pages import next_page, tag_page

D1, D2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def response(link: str | None) -> requests.Response:
    r = requests.Response()
    if link is not None:
        r.headers["Link"] = link
    return r


@pytest.mark.parametrize(
    ("body", "tags"),
    [
        (b'{"name": "x", "tags": ["a", "b"]}', ["a", "b"]),
        (b'{"name": "x", "tags": null}', []),
        (b'{"name": "x"}', []),
    ],
)
def test_a_page_lists_its_tags(body: bytes, tags: list[str]) -> None:
    assert tag_page(body, "reg", "the tags of reg/x") == tags


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"tags": "a"}',
        b'{"tags": [1]}',
        b'{"tags": [""]}',
        b'{"tags": ["' + b"a" * 129 + b'"]}',
        b"\xff",
    ],
)
def test_a_page_in_another_form_is_refused(body: bytes) -> None:
    with pytest.raises(RegistryError) as e:
        tag_page(body, "reg", "the tags of reg/x")
    assert (
        e.value.message == "registry reg sent the tags of reg/x in a form kfws does not understand"
    )


@pytest.mark.parametrize(
    ("link", "path"),
    [
        (None, None),
        ('</v2/x/tags/list?n=2&last=b>; rel="next"', "/v2/x/tags/list?n=2&last=b"),
        ('<http://reg:5000/v2/x/tags/list?last=b>; rel="next"', "/v2/x/tags/list?last=b"),
        ('</v2/x/tags/list?n=2&last=b>; rel="prev"', None),
    ],
)
def test_the_next_page_is_where_the_link_points(link: str | None, path: str | None) -> None:
    assert next_page(response(link), "reg:5000", "the tags of x", "reg:5000") == path


@pytest.mark.parametrize(
    "link",
    [
        '<https://elsewhere.example/v2/x/tags/list?last=b>; rel="next"',
        '</steal?last=b>; rel="next"',
    ],
)
def test_a_next_page_elsewhere_is_refused(link: str) -> None:
    with pytest.raises(RegistryError):
        next_page(response(link), "reg:5000", "the tags of x", "reg:5000")


def test_image_config_reads_labels_and_creation_time() -> None:
    got = image_config({"created": "2026-11-01T00:00:00Z", "config": {"Labels": {"a": 1}}})
    assert (dict(got.labels), got.created) == ({"a": "1"}, "2026-11-01T00:00:00Z")
    assert image_config({"config": {}}).created is None
    assert image_config({"created": "x" * 65}).created is None  # not a timestamp
    with pytest.raises(TypeError):
        image_config([])


def test_blobs_of_keeps_only_valid_descriptors() -> None:
    manifest = {
        "config": {"digest": D1, "size": 10},
        "layers": [
            {"digest": D2, "size": 20},
            {"digest": D2, "size": 20},  # listed twice: counted once
            {"digest": "sha256:short", "size": 1},
            {"digest": D1, "size": True},
            {"digest": D1, "size": -1},
            "junk",
        ],
    }
    assert blobs_of(manifest) == ((D1, 10), (D2, 20))
    assert blobs_of({"layers": "x"}) == ()
