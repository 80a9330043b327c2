"""The Dockerfile text kept in the inputs label (kfws.images.digest: pack_dockerfile,
unpack_dockerfile, inputs_manifest's dockerfileText and filesDigest): compressed, bounded both
ways, and read back only when it is exactly what kfws wrote (labels come from registries)."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import zlib

import pytest

from kfws.images.digest import (
    MAX_MANIFEST_FILES,
    inputs_manifest,
    pack_dockerfile,
    unpack_dockerfile,
)

DOCKERFILE = "FROM reg.example.com/base:1\nRUN pip install jupyterlab\nUSER 1000\n"


def packed_by_hand(text: str) -> str:
    return "zlib+b64:" + base64.b64encode(zlib.compress(text.encode(), 9)).decode()


def test_a_dockerfile_is_packed_as_zlib_base64_and_read_back_whole() -> None:
    packed = pack_dockerfile(DOCKERFILE)
    assert packed == packed_by_hand(DOCKERFILE)
    assert unpack_dockerfile(packed) == DOCKERFILE
    assert unpack_dockerfile(packed_by_hand("é\n")) == "é\n"


def _noise(size: int) -> str:
    rng = random.Random(7)  # noqa: S311 -- fixed: the same text every run; letters compress poorly
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 \n") for _ in range(size))


def test_a_packed_text_over_8_kib_is_not_kept() -> None:
    """Packed lengths are 9 + 4k: 8,189 is the largest kept, 8,193 the smallest refused."""
    noise = _noise(20_000)
    lengths = {len(packed_by_hand(noise[:n])): n for n in range(8_000, 10_000)}
    kept, refused = noise[: lengths[8_189]], noise[: lengths[8_193]]
    assert pack_dockerfile(kept) == packed_by_hand(kept)
    assert pack_dockerfile(refused) is None
    assert unpack_dockerfile(packed_by_hand(kept)) == kept
    assert unpack_dockerfile(packed_by_hand(refused)) is None  # a registry's label: bounded too


def test_a_label_decompressing_past_256_kib_is_refused() -> None:
    exactly = "A" * (256 * 1024)
    assert unpack_dockerfile(packed_by_hand(exactly)) == exactly
    assert unpack_dockerfile(packed_by_hand(exactly + "A")) is None  # a zip bomb stays small


@pytest.mark.parametrize(
    "value",
    [
        None,
        5,
        "FROM x\n",  # no prefix
        "zlib+b64:@" + base64.b64encode(zlib.compress(b"FROM x\n")).decode(),  # not base64
        "zlib+b64:" + base64.b64encode(b"not zlib").decode(),
        "zlib+b64:" + base64.b64encode(zlib.compress(b"\xff\xfe")).decode(),  # not UTF-8
    ],
)
def test_anything_else_in_the_label_reads_as_nothing(value: object) -> None:
    assert unpack_dockerfile(value) is None


def document(paths: list[str]) -> dict[str, object]:
    return {
        "context": [(p, "file", oct(0o644), hashlib.sha256(p.encode()).hexdigest()) for p in paths],
        "dockerfile": "sha256:" + "d" * 64,
        "args": {"B": "1", "A": "2"},
        "target": None,
        "platform": None,
        "bases": {},
    }


def test_the_inputs_manifest_keeps_the_packed_dockerfile() -> None:
    manifest = json.loads(inputs_manifest(document(["a.py"]), DOCKERFILE))
    assert manifest["dockerfileText"] == packed_by_hand(DOCKERFILE)
    assert "dockerfileText" not in json.loads(inputs_manifest(document(["a.py"])))


def test_too_many_files_are_kept_as_a_digest_of_the_sorted_listing() -> None:
    paths = [f"f{i:04d}.py" for i in range(MAX_MANIFEST_FILES + 1)][::-1]  # not in order
    manifest = json.loads(inputs_manifest(document(paths)))
    files = {p: hashlib.sha256(p.encode()).hexdigest()[:12] for p in paths}
    listing = json.dumps(files, sort_keys=True).encode()
    assert manifest["filesDigest"] == hashlib.sha256(listing).hexdigest()[:12]
    assert manifest["fileCount"] == MAX_MANIFEST_FILES + 1 and "files" not in manifest
