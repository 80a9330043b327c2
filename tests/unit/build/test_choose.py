"""Which builder builds an image (kfws.build.choose)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kfws.build.choose import buildkit_hosts, engine_for, host_problem
from kfws.spec.model import (
    BuildSettings,
    ClusterSpec,
    ImageSpec,
    RegistryOptions,
    SpawnerSpec,
    Spec,
)

IMAGE = ImageSpec("nb", "reg.example.com/team/nb", None, None, None, "ws.yaml:5")
SPEC = Spec(
    Path("/ws.yaml"), "sha256:0", "reg.example.com/team", {}, ClusterSpec(), (IMAGE,), SpawnerSpec()
)


def test_buildkit_when_a_daemon_is_named_and_the_workspace_says_nothing() -> None:
    assert engine_for(SPEC, IMAGE, ("unix:///s",)) == "buildkit"
    assert engine_for(SPEC, IMAGE, ()) == "docker"


def test_the_registry_wins_over_the_top_level_which_wins_over_the_environment() -> None:
    top = replace(SPEC, build=BuildSettings(engine="docker"))
    assert engine_for(top, IMAGE, ("unix:///s",)) == "docker"
    per_registry = replace(
        top, registries={"reg.example.com": RegistryOptions("reg.example.com", engine="buildkit")}
    )
    assert engine_for(per_registry, IMAGE, ()) == "buildkit"


def test_hosts_from_the_environment() -> None:
    assert buildkit_hosts({}) == ()
    assert buildkit_hosts({"BUILDKIT_HOST": " unix:///s "}) == ("unix:///s",)
    many = {"BUILDKIT_HOST": "unix:///s", "KFWS_BUILDKIT_HOSTS": "tcp://a:1, tcp://b:1 tcp://a:1"}
    assert buildkit_hosts(many) == ("tcp://a:1", "tcp://b:1")


def test_addresses_buildctl_cannot_use_are_named() -> None:
    assert host_problem("tcp://10.0.0.1:1234") is None
    assert host_problem("kube-pod://buildkitd-0?namespace=ci") is None
    assert "not a BuildKit address" in str(host_problem("10.0.0.1:1234"))
    assert "does not know the scheme http://" in str(host_problem("http://h:1"))
