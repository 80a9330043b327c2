"""kfws.spec.model: the validated workspace is immutable, its defaults are the documented ones
(a registry is verified HTTPS unless said otherwise), its lookups find the one asked for, and
its value types agree with the JSON Schema the file is checked against."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest

from kfws.spec import model
from kfws.spec.load import workspace_schema
from kfws.spec.model import (
    BuildSecret,
    BuildSettings,
    BuildSpec,
    ClusterSpec,
    GeneratedSpec,
    ImageSpec,
    OptionsMode,
    PinMode,
    RegistryOptions,
    RestartMode,
    SpawnerGroup,
    SpawnerSpec,
    Spec,
)
from kfws.targets.workspacekind.model import KindSpec

SCHEMA = workspace_schema()["properties"]
GROUP = SCHEMA["spawner"]["properties"]["image"]["properties"]


def image(name: str, repository: str = "reg.example.com:5000/team/nb") -> ImageSpec:
    return ImageSpec(
        name=name,
        repository=repository,
        tag=None,
        build=None,
        generated=GeneratedSpec(base="reg.example.com/b:1"),
        location="workspace.yaml:5",
    )


def spec(**kw: Any) -> Spec:
    values: dict[str, Any] = {
        "path": Path("/w/workspace.yaml"),
        "digest": "sha256:" + "0" * 64,
        "default_registry": "reg.example.com/team",
        "registries": {},
        "cluster": ClusterSpec(),
        "images": (),
        "spawner": SpawnerSpec(),
    }
    return Spec(**(values | kw))


def test_a_registry_not_listed_is_verified_https_mutable_and_checked() -> None:
    options = spec().registry_options("other.example.com")
    assert options == RegistryOptions(
        host="other.example.com",
        insecure=False,
        ca_file=None,
        immutable=False,
        check=True,
        engine=None,
    )
    listed = RegistryOptions(host="reg.example.com", insecure=True, check=False)
    assert (
        spec(registries={"reg.example.com": listed}).registry_options("reg.example.com") is listed
    )


def test_defaults_of_a_generated_image() -> None:
    g = GeneratedSpec(base="reg.example.com/b:1")
    assert (g.sudo, g.apt, g.pip, g.env, g.build_env, g.files, g.folders) == (
        None,
        (),
        (),
        {},
        {},
        (),
        (),
    )
    assert (g.user, g.platform, g.managed_base) == ("jovyan", None, False)


def test_defaults_of_a_dockerfile_image_and_of_an_image() -> None:
    b = BuildSpec(context=Path("/w/ctx"), dockerfile=Path("/w/ctx/Dockerfile"))
    assert (b.args, b.target, b.platform, b.image_args) == ({}, None, None, {})
    i = image("nb")
    assert (i.network, i.cache) == (None, None)


def test_defaults_of_the_cluster_the_spawner_and_the_build() -> None:
    c = ClusterSpec()
    assert (c.context, c.namespace, c.config_map, c.deployment, c.restart) == (
        None,
        "kubeflow",
        None,
        None,
        RestartMode.ROLLOUT,
    )
    s = SpawnerSpec()
    assert (s.groups, s.allow_custom_image, s.hide_registry, s.hide_tag) == ((), None, None, None)
    assert s.image_pull_policy is None
    g = SpawnerGroup(key="image", default=None, options=("nb",))
    assert (g.mode, g.pin, g.location) == (OptionsMode.EXACT, PinMode.TAG, "")
    assert BuildSettings() == BuildSettings(engine=None, secrets=())
    s2 = spec()
    assert (s2.workspace_kinds, s2.build) == ((), BuildSettings())


def test_the_registry_host_is_the_first_part_of_the_repository() -> None:
    assert image("nb").registry_host == "reg.example.com:5000"
    assert image("nb", "localhost/a/b/c").registry_host == "localhost"


def test_lookups_find_the_one_asked_for() -> None:
    a, b = image("a"), image("b")
    s = spec(images=(a, b))
    assert s.image("b") is b and s.image("a") is a and s.image("c") is None
    one = SpawnerGroup(key="imageGroupOne", default=None, options=("a",))
    two = SpawnerGroup(key="imageGroupTwo", default=None, options=("b",))
    spawner = SpawnerSpec(groups=(one, two))
    assert spawner.group("imageGroupTwo") is two and spawner.group("imageGroupOne") is one
    assert spawner.group("image") is None


@pytest.mark.parametrize(
    "value",
    [
        BuildSecret(id="a", env="A", file=None, location="w:1"),
        BuildSettings(),
        RegistryOptions(host="h"),
        BuildSpec(context=Path("/c"), dockerfile=Path("/c/D")),
        GeneratedSpec(base="b"),
        image("nb"),
        SpawnerGroup(key="image", default=None, options=()),
        SpawnerSpec(),
        ClusterSpec(),
        spec(),
    ],
    ids=lambda v: type(v).__name__,
)
def test_the_validated_workspace_is_immutable(value: Any) -> None:
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)


def test_the_annotations_are_real_types() -> None:
    # a typo such as `str & None` only shows when the hints are evaluated
    for cls in (BuildSecret, BuildSettings, RegistryOptions, BuildSpec, GeneratedSpec, ImageSpec,
                SpawnerGroup, SpawnerSpec, ClusterSpec, Spec):  # fmt: skip
        assert typing.get_type_hints(cls, vars(model) | {"KindSpec": KindSpec})


def literal(hint: Any) -> tuple[str, ...]:
    """The strings of a `Literal[...]` or `Literal[...] | None` hint."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Literal:
        return tuple(args)
    (lit,) = [a for a in args if a is not type(None)]
    return tuple(typing.get_args(lit))


def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model) | {"KindSpec": KindSpec})


def test_the_group_keys_are_the_schema_s_and_the_type_s() -> None:
    groups = tuple(k for k in SCHEMA["spawner"]["properties"] if k.startswith("image"))
    groups = tuple(k for k in groups if k != "imagePullPolicy")
    assert groups == model.GROUP_KEYS
    assert literal(hints(SpawnerGroup)["key"]) == model.GROUP_KEYS


def test_the_enums_and_literals_take_the_schema_s_values() -> None:
    assert [m.value for m in RestartMode] == SCHEMA["cluster"]["properties"]["restart"]["enum"]
    assert [m.value for m in OptionsMode] == GROUP["mode"]["enum"]
    assert [m.value for m in PinMode] == GROUP["pin"]["enum"]
    pull = SCHEMA["spawner"]["properties"]["imagePullPolicy"]["enum"]
    assert list(literal(hints(SpawnerSpec)["image_pull_policy"])) == pull
    engines = SCHEMA["build"]["properties"]["engine"]["enum"]
    assert list(literal(hints(BuildSettings)["engine"])) == engines
    assert list(literal(hints(RegistryOptions)["engine"])) == engines
    sudo = SCHEMA["images"]["items"]["properties"]["sudo"]["enum"]
    assert list(literal(hints(GeneratedSpec)["sudo"])) == sudo
