"""The buildctl command line kfws runs for one image (kfws.build.buildctl_args)."""

from __future__ import annotations

from pathlib import Path

from kfws.build.buildctl_args import BuildKitOptions, build_command, connection_flags
from kfws.observe.engine import BuildRequest
from kfws.spec.model import BuildSecret


def request(**kw: object) -> BuildRequest:
    fields: dict[str, object] = {
        "reference": "127.0.0.1:5000/team/nb:kfws1-abc",
        "context": Path("/ws/images/nb"),
        "dockerfile": Path("/ws/images/nb/docker/Dockerfile.gpu"),
        "args": {"PY": "3.11"},
        "target": None,
        "platform": None,
        "labels": {"dev.kfws.input-digest": "sha256:00", "dev.kfws.inputs": '{"a":1,"b":"x=y"}'},
    }
    fields.update(kw)
    return BuildRequest(**fields)  # type: ignore[arg-type]


def pairs(cmd: list[str], flag: str) -> list[str]:
    return [cmd[i + 1] for i, c in enumerate(cmd) if c == flag]


def test_the_dockerfile_frontend_with_the_context_and_the_dockerfiles_folder() -> None:
    cmd = build_command(
        "buildctl", "unix:///s.sock", None, request(), BuildKitOptions(), Path("/m")
    )
    assert cmd[:4] == ["buildctl", "--addr", "unix:///s.sock", "build"]
    assert "--frontend=dockerfile.v0" in cmd
    assert pairs(cmd, "--local") == ["context=/ws/images/nb", "dockerfile=/ws/images/nb/docker"]
    assert pairs(cmd, "--metadata-file") == ["/m"]
    opts = pairs(cmd, "--opt")
    assert "filename=Dockerfile.gpu" in opts and "build-arg:PY=3.11" in opts
    # a label value is passed whole, '=' and ',' included (buildctl splits at the first '=')
    assert 'label:dev.kfws.inputs={"a":1,"b":"x=y"}' in opts
    assert pairs(cmd, "--output") == [
        "type=image,name=127.0.0.1:5000/team/nb:kfws1-abc,push=true,oci-mediatypes=false"
    ]
    assert "--import-cache" not in cmd and "--secret" not in cmd and "--allow" not in cmd


def test_target_platforms_and_network() -> None:
    req = request(target="runtime", platform="linux/amd64,linux/arm64", network="host")
    cmd = build_command("b", "unix:///s", None, req, BuildKitOptions(), Path("/m"))
    opts = pairs(cmd, "--opt")
    assert "target=runtime" in opts and "platform=linux/amd64,linux/arm64" in opts
    assert "force-network-mode=host" in opts and pairs(cmd, "--allow") == ["network.host"]
    none = build_command("b", "unix:///s", None, request(network="none"), BuildKitOptions(), Path())
    assert "force-network-mode=none" in pairs(none, "--opt") and "--allow" not in none


def test_insecure_registries_and_the_registry_cache() -> None:
    options = BuildKitOptions(
        cache="127.0.0.1:5000/team/nb:buildcache", insecure_hosts=frozenset({"127.0.0.1:5000"})
    )
    cmd = build_command("b", "unix:///s", None, request(), options, Path("/m"))
    assert pairs(cmd, "--output")[0].endswith(
        ",push=true,oci-mediatypes=false,registry.insecure=true"
    )
    assert pairs(cmd, "--import-cache") == [
        "type=registry,ref=127.0.0.1:5000/team/nb:buildcache,registry.insecure=true"
    ]
    assert pairs(cmd, "--export-cache") == [
        "type=registry,ref=127.0.0.1:5000/team/nb:buildcache,mode=max,ignore-error=true,"
        "registry.insecure=true"
    ]
    # a TLS registry's cache: no insecure attribute
    tls = BuildKitOptions(
        cache="reg.example.com/c:nb", insecure_hosts=frozenset({"127.0.0.1:5000"})
    )
    cmd = build_command("b", "unix:///s", None, request(), tls, Path("/m"))
    assert pairs(cmd, "--import-cache") == ["type=registry,ref=reg.example.com/c:nb"]


def test_secrets_are_named_by_where_their_value_is_never_by_the_value() -> None:
    secrets = (
        BuildSecret("pip-index", "PIP_INDEX_URL", None, "ws.yaml:3"),
        BuildSecret("netrc", None, Path("/home/u/.netrc"), "ws.yaml:4"),
    )
    cmd = build_command(
        "b", "unix:///s", None, request(), BuildKitOptions(secrets=secrets), Path("/m")
    )
    assert pairs(cmd, "--secret") == [
        "id=pip-index,env=PIP_INDEX_URL",
        "id=netrc,src=/home/u/.netrc",
    ]


def test_a_comma_in_a_path_is_quoted_for_buildctls_csv() -> None:
    secrets = (BuildSecret("n", None, Path("/a,b/f"), "ws.yaml:4"),)
    cmd = build_command("b", "unix:///s", None, request(), BuildKitOptions(secrets=secrets), Path())
    assert pairs(cmd, "--secret") == ['id=n,src="/a,b/f"']


def test_tls_flags_only_for_tcp() -> None:
    assert connection_flags("tcp://10.0.0.1:1234", "/certs") == [
        "--addr",
        "tcp://10.0.0.1:1234",
        "--tlsdir",
        "/certs",
    ]
    assert connection_flags("unix:///s", "/certs") == ["--addr", "unix:///s"]
    assert connection_flags("tcp://h:1", None) == ["--addr", "tcp://h:1"]
