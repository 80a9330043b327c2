"""The registry and build options kfws's registry and engine adapters read from workspace.yaml:
`check` per registry, `network` for builds (top level, per image, per Dockerfile build)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.spec.load import load_spec
from kfws.spec.model import Spec
from tests.unit.spec.test_load import GOOD, write


def load(tmp: Path, text: str) -> Spec:
    return load_spec(write(tmp, text))


def test_builds_use_the_engine_default_network_unless_asked(tmp_path: Path) -> None:
    spec = load(tmp_path, GOOD)
    assert [i.network for i in spec.images] == [None, None]


def test_network_at_the_top_level_and_per_image(tmp_path: Path) -> None:
    text = GOOD.replace("images:\n", "build: {network: host}\nimages:\n", 1)
    spec = load(tmp_path, text)
    assert [i.network for i in spec.images] == ["host", "host"]
    text = text.replace('env: {A: "1"}', 'env: {A: "1"}\n    network: default')
    text = text.replace(
        "build: {context: images/tools}", "build: {context: images/tools, network: none}"
    )
    spec = load(tmp_path, text)
    assert {i.name: i.network for i in spec.images} == {"nb": None, "tools": "none"}


def test_an_unknown_network_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("images:\n", "build: {network: bridge0}\nimages:\n", 1)
    with pytest.raises(SpecError) as e:
        load(tmp_path, text)
    assert (
        e.value.problems[0][1] == "build.network: 'bridge0' is not one of 'default', 'host', 'none'"
    )


def test_registry_check_defaults_to_true(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  default: reg.example.com/team\n",
        "  default: reg.example.com/team\n  registries:\n    ghcr.io: {check: false}\n",
    )
    spec = load(tmp_path, text)
    assert spec.registry_options("ghcr.io").check is False
    assert spec.registry_options("reg.example.com").check is True
