"""bodies: every registry answer is read bounded (real requests.Response objects over an
in-memory stream: nothing crosses a wire here)."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from collections.abc import Iterator

import pytest
import requests
import urllib3

from kfws.errors import RegistryError
from kfws.observe.registry import bodies
from kfws.observe.registry.bodies import ERROR_BODY_LIMIT, Limit, load, read_capped

SMALL = Limit("tag-list page", 1000, "ask the operators to paginate")


def response(
    body: bytes, status: int = 200, method: str = "GET", **headers: str
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.raw = io.BytesIO(body)
    r.headers.update(headers)
    r.request = requests.Request(method, "http://127.0.0.1:1/v2/x/tags/list").prepare()
    return r


def test_read_capped_keeps_a_body_within_the_cap() -> None:
    assert read_capped([b"ab", b"cd"], 4) == (b"abcd", False)
    assert read_capped([], 0) == (b"", False)


def test_read_capped_cuts_at_the_cap_and_reports_more() -> None:
    assert read_capped([b"ab", b"cd"], 3) == (b"abc", True)
    assert read_capped([b"abcd"], 0) == (b"", True)


def test_read_capped_stops_asking_for_chunks_past_the_cap() -> None:
    asked = 0

    def endless() -> Iterator[bytes]:
        nonlocal asked
        while True:
            asked += 1
            yield b"x" * 10

    body, more = read_capped(endless(), 25)
    assert (len(body), more, asked) == (25, True, 3)


def test_load_keeps_a_body_within_the_limit_as_the_content() -> None:
    r = load(response(b'{"tags": ["a"]}'), SMALL, "reg.example", "the tags of reg.example/x")
    assert r.json() == {"tags": ["a"]}


def test_load_accepts_a_body_of_exactly_the_limit() -> None:
    assert load(response(b"x" * 1000), SMALL, "reg.example", "it").content == b"x" * 1000


def test_load_refuses_a_body_past_the_limit_naming_registry_repository_and_fix() -> None:
    raw = b"x" * 5000
    with pytest.raises(RegistryError) as e:
        load(response(raw), SMALL, "reg.example", "the tags of reg.example/team/x")
    text = str(e.value)
    assert "registry reg.example sent a tag-list page larger than" in text
    assert "the tags of reg.example/team/x" in text
    assert e.value.hint == "ask the operators to paginate"
    assert e.value.where == "registry reg.example"


def test_load_refuses_an_announced_oversize_without_reading_it() -> None:
    r = response(b"x" * 10, **{"Content-Length": str(100 * 1024 * 1024)})
    raw = r.raw
    with pytest.raises(RegistryError, match="announced 104,857,600 bytes"):
        load(r, SMALL, "reg.example", "it")
    assert raw.closed  # nothing read, the connection dropped


def test_load_cuts_an_error_body_instead_of_failing() -> None:
    r = load(response(b"e" * (ERROR_BODY_LIMIT * 3), status=500), SMALL, "reg.example", "it")
    assert r.content == b"e" * ERROR_BODY_LIMIT


def test_load_ignores_the_content_length_of_a_head_answer() -> None:
    r = response(b"", method="HEAD", **{"Content-Length": str(50 * 1024 * 1024)})
    assert load(r, bodies.MANIFEST, "reg.example", "it").content == b""


def test_load_bounds_the_decoded_size_of_a_compressed_bomb() -> None:
    # 64 MiB of zeros gzip to ~64 KiB: the cap is on what decoding yields, and urllib3 (>= 2.6)
    # decodes a streamed body step by step, so the cap holds without inflating the whole bomb
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    raw = urllib3.HTTPResponse(
        body=io.BytesIO(bomb),
        headers={"Content-Encoding": "gzip"},
        status=200,
        preload_content=False,
        decode_content=True,
    )
    r = response(b"")
    r.raw = raw
    tracemalloc.start()
    try:
        with pytest.raises(RegistryError, match="larger than 1 MiB"):
            load(r, bodies.TOKEN, "reg.example", "a token")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak  # the cap and some buffers, never the 64 MiB inflated
