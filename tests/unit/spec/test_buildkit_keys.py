"""The BuildKit keys of workspace.yaml: `build.engine` (top level and per registry), `secrets`,
`platforms` and `cache` (top level, per image)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.spec.load import load_spec
from kfws.spec.model import Spec
from tests.unit.spec.test_load import GOOD, write


def load(tmp: Path, text: str) -> Spec:
    return load_spec(write(tmp, text))


def with_build(build: str, text: str = GOOD) -> str:
    return text.replace("images:\n", f"build: {build}\nimages:\n", 1)


def test_nothing_said_no_engine_and_the_cache_next_to_each_image(tmp_path: Path) -> None:
    spec = load(tmp_path, GOOD)
    assert spec.build.engine is None and spec.build.secrets == ()
    assert {i.name: i.cache for i in spec.images} == {
        "nb": "reg.example.com/team/nb-buildcache:latest",
        "tools": "reg.example.com/team/tools-buildcache:latest",
    }


def test_engine_at_the_top_and_per_registry(tmp_path: Path) -> None:
    text = with_build("{engine: docker}").replace(
        "  default: reg.example.com/team\n",
        "  default: reg.example.com/team\n  registries:\n"
        "    reg.example.com: {build: {engine: buildkit}}\n",
    )
    spec = load(tmp_path, text)
    assert spec.build.engine == "docker"
    assert spec.registry_options("reg.example.com").engine == "buildkit"
    with pytest.raises(SpecError) as e:
        load(tmp_path, with_build("{engine: kaniko}"))
    assert "build.engine" in e.value.problems[0][1]


def test_secrets_name_where_the_value_is(tmp_path: Path) -> None:
    text = with_build("{secrets: {pip-index: {env: PIP_INDEX_URL}, netrc: {file: creds/netrc}}}")
    spec = load(tmp_path, text)
    by_id = {s.id: s for s in spec.build.secrets}
    assert by_id["pip-index"].env == "PIP_INDEX_URL" and by_id["pip-index"].file is None
    assert by_id["netrc"].file == tmp_path / "creds" / "netrc"
    assert by_id["netrc"].location.endswith("workspace.yaml:5")
    for bad in ("{secrets: {a: {env: X, file: y}}}", "{secrets: {a: {value: hunter2}}}"):
        with pytest.raises(SpecError):
            load(tmp_path, with_build(bad))


def test_platforms_are_a_set_folded_into_the_platform_the_digest_covers(tmp_path: Path) -> None:
    text = GOOD.replace(
        "build: {context: images/tools}",
        "build: {context: images/tools, platforms: [linux/arm64, linux/amd64]}",
    )
    spec = load(tmp_path, text)
    tools = spec.image("tools")
    assert tools and tools.build and tools.build.platform == "linux/amd64,linux/arm64"
    spec = load(tmp_path, with_build("{platforms: [linux/arm64]}"))
    nb = spec.image("nb")
    assert nb and nb.generated and nb.generated.platform == "linux/arm64"
    both = GOOD.replace(
        "build: {context: images/tools}",
        "build: {context: images/tools, platform: linux/amd64, platforms: [linux/arm64]}",
    )
    with pytest.raises(SpecError) as e:
        load(tmp_path, both)
    assert "give `platform` or `platforms`, not both" in e.value.problems[0][1]


def test_cache_top_level_per_image_and_off(tmp_path: Path) -> None:
    text = with_build("{cache: {registry: reg.example.com/cache}}").replace(
        'env: {A: "1"}', 'env: {A: "1"}\n    cache: false'
    )
    spec = load(tmp_path, text)
    assert {i.name: i.cache for i in spec.images} == {
        "nb": None,
        "tools": "reg.example.com/cache:tools",
    }
    own = GOOD.replace(
        "build: {context: images/tools}",
        "build: {context: images/tools, cache: {registry: reg.example.com/c/tools:v2}}",
    )
    tools = load(tmp_path, own).image("tools")
    assert tools and tools.cache == "reg.example.com/c/tools:v2"
    with pytest.raises(SpecError) as e:
        load(tmp_path, with_build("{cache: {registry: 'Not A Ref'}}"))
    assert "the cache reference" in e.value.problems[0][1]
