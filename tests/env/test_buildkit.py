"""BuildKit end to end: `kfws apply` driving the environment's buildkitd through buildctl.
Dockerfile features the legacy builder lacks (cache and secret mounts, heredocs, multi-stage
targets), secrets that end up nowhere, several platforms in one index, the registry cache, and
remote daemons over TCP with mutual TLS. What was pushed is read back from the registry, layer
by layer."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import requests

from tests.conftest import need_env
from tests.env.corrupting_registry import corrupting_registry
from tests.env.kfws_cli import run_kfws, unique, write_workspace

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def get_json(registry: str, path: str) -> dict[str, Any]:
    r = requests.get(f"http://{registry}/v2/{path}", headers={"Accept": ACCEPT}, timeout=30)
    r.raise_for_status()
    doc: dict[str, Any] = r.json()
    return doc


def blob(registry: str, repo: str, digest: str) -> bytes:
    r = requests.get(f"http://{registry}/v2/{repo}/blobs/{digest}", timeout=60)
    r.raise_for_status()
    assert hashlib.sha256(r.content).hexdigest() == digest.split(":", 1)[1]
    return r.content


def layer_files(data: bytes) -> dict[str, bytes]:
    """Every regular file of a (gzip or plain) layer tar, by path."""
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                f = tar.extractfile(member)
                files[member.name.lstrip("./")] = f.read() if f else b""
    return files


def pushed(registry: str, reference: str) -> tuple[str, str]:
    repo_tag = reference.removeprefix(f"{registry}/")
    repo, tag = repo_tag.rsplit(":", 1)
    return repo, tag


def image_parts(registry: str, repo: str, ref: str) -> tuple[dict[str, Any], list[bytes]]:
    """(config, raw layer blobs) of one image manifest."""
    manifest = get_json(registry, f"{repo}/manifests/{ref}")
    config = json.loads(blob(registry, repo, manifest["config"]["digest"]))
    layers = [blob(registry, repo, layer["digest"]) for layer in manifest["layers"]]
    return config, layers


def base_doc(prefix: str, **build: Any) -> dict[str, Any]:
    registry = need_env("KFWS_TEST_REGISTRY")
    return {
        "apiVersion": "kfws/v1alpha1",
        "kind": "Workspace",
        "registry": {
            "default": f"{registry}/{prefix}",
            "registries": {registry: {"insecure": True}},
        },
        "build": {"engine": "buildkit", "network": "host", **build},
        "images": [{"name": "tool", "build": {"context": "images/tool", "target": "final"}}],
    }


def context(tmp: Path, dockerfile: str) -> Path:
    ctx = tmp / "images" / "tool"
    ctx.mkdir(parents=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    return ctx


def features() -> str:
    return FEATURES.format(base=need_env("KFWS_TEST_BASE_IMAGE"), run=unique("run"))


def planned_target(folder: Path, name: str = "tool") -> str:
    result = run_kfws("plan", "--format", "json", cwd=folder)
    assert result.code == 0, result.text
    plan = json.loads(result.out)
    return next(str(c["target"]) for c in plan["changes"] if c["details"].get("name") == name)


FEATURES = """\
FROM {base} AS deps
# new to the daemon: secrets and cache mount ids are no part of BuildKit's cache keys
RUN echo {run}
ARG ROUND=1
# a cache mount: what an earlier build left in /cache is there again (uid: the base runs as jovyan)
RUN --mount=type=cache,id={run},target=/cache,uid=1000 \\
    echo "round $ROUND" >> /cache/rounds && cp /cache/rounds /home/jovyan/rounds
# a secret mount: only a hash of the value is kept, to prove it was there
RUN --mount=type=secret,id=index-token,uid=1000 \\
    sha256sum /run/secrets/index-token | cut -d' ' -f1 > /home/jovyan/token.sha256
COPY <<EOT /home/jovyan/hello.txt
hello from a heredoc
EOT

FROM {base} AS final
COPY --from=deps /home/jovyan/ /home/jovyan/
RUN test -s /home/jovyan/hello.txt

# past the target: never built (it would fail)
FROM final AS debug
RUN exit 9
"""


def test_cache_and_secret_mounts_a_heredoc_and_a_target_and_the_secret_is_nowhere(
    tmp_path: Path,
) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    secret = unique("s3cret-index-token")
    context(tmp_path, features())
    doc = base_doc(unique("features"), secrets={"index-token": {"env": "KFWS_TEST_INDEX_TOKEN"}})
    write_workspace(tmp_path, doc)
    env = {"KFWS_TEST_INDEX_TOKEN": secret}

    saved = tmp_path / "plan.json"
    planned = run_kfws("plan", "--out", str(saved), cwd=tmp_path, env=env)
    assert planned.code == 0, planned.text
    reference = planned_target(tmp_path)
    logs = tmp_path / "logs"
    applied = run_kfws("apply", "--auto-approve", "--log-dir", str(logs), cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text
    assert "1 built, 1 pushed" in applied.out
    assert "[deps 3/5] RUN --mount=type=cache" in applied.err  # progress: BuildKit's own steps

    repo, tag = pushed(registry, reference)
    config, layers = image_parts(registry, repo, tag)
    files: dict[str, bytes] = {}
    for layer in layers:
        files.update(layer_files(layer))
    assert files["home/jovyan/hello.txt"] == b"hello from a heredoc\n"
    assert files["home/jovyan/rounds"] == b"round 1\n"
    expected = hashlib.sha256(secret.encode()).hexdigest()
    assert files["home/jovyan/token.sha256"].decode().strip() == expected
    labels = config["config"]["Labels"]
    assert labels["dev.kfws.image-name"] == "tool"
    assert tag.removeprefix("kfws1-") in labels["dev.kfws.input-digest"]
    assert "dockerfile" in json.loads(labels["dev.kfws.inputs"])
    # the registry cache went to a repository of its own beside the image's, never into it
    # (in one repository, the cache's uploads raced the image's manifest; see spec/build.py)
    assert get_json(registry, f"{repo}/tags/list")["tags"] == [tag]
    assert get_json(registry, f"{repo}-buildcache/tags/list")["tags"] == ["latest"]

    # the value is in no layer (compressed or not), label, log, plan or output
    token = secret.encode()
    assert all(token not in layer and token not in gzip.decompress(layer) for layer in layers)
    assert token not in json.dumps(config).encode()
    log_text = "".join(p.read_text() for p in logs.glob("*.log"))
    assert "index-token" in log_text and secret not in log_text
    assert secret not in saved.read_text() and secret not in planned.text + applied.text

    again = run_kfws("plan", "--detailed-exitcode", cwd=tmp_path, env=env)
    assert again.code == 0, again.text  # the labels read back: nothing to do

    # a changed build arg re-runs the cache-mount step: the cache holds the first round
    doc["images"][0]["build"]["args"] = {"ROUND": "2"}
    write_workspace(tmp_path, doc)
    second = planned_target(tmp_path)
    applied = run_kfws("apply", "--auto-approve", "--log-dir", str(logs), cwd=tmp_path, env=env)
    assert applied.code == 0, applied.text
    files = {}
    for layer in image_parts(registry, *pushed(registry, second))[1]:
        files.update(layer_files(layer))
    assert files["home/jovyan/rounds"] == b"round 1\nround 2\n"


def test_a_secret_whose_value_is_missing_stops_the_apply_before_any_build(tmp_path: Path) -> None:
    context(tmp_path, features())
    doc = base_doc(unique("nosecret"), secrets={"index-token": {"file": "no-such-file"}})
    write_workspace(tmp_path, doc)
    result = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert result.code == 1, result.text
    assert "the build secret 'index-token' is read from" in result.err
    assert "workspace.yaml:" in result.err and "nothing was built" in result.err
    assert "building" not in result.err


def test_the_legacy_builder_names_the_fix_for_buildkit_only_dockerfiles(tmp_path: Path) -> None:
    context(tmp_path, features())
    doc = base_doc(unique("legacy"), secrets={"index-token": {"env": "KFWS_TEST_INDEX_TOKEN"}})
    doc["build"]["engine"] = "docker"
    write_workspace(tmp_path, doc)
    result = run_kfws("apply", "--auto-approve", cwd=tmp_path, env={"KFWS_TEST_INDEX_TOKEN": "x"})
    assert result.code == 1, result.text
    assert "build: {engine: buildkit}" in result.err


CROSS = """\
# the build stage runs on the builder's own platform (no emulation needed)
FROM --platform=$BUILDPLATFORM {base} AS build
ARG TARGETPLATFORM
RUN mkdir -p /tmp/out && echo "$TARGETPLATFORM" > /tmp/out/platform
FROM scratch AS final
COPY --from=build /tmp/out/platform /platform
COPY notes.txt /notes.txt
"""


def test_several_platforms_make_one_index_and_are_a_build_input(tmp_path: Path) -> None:
    registry = need_env("KFWS_TEST_REGISTRY")
    ctx = context(tmp_path, CROSS.format(base=need_env("KFWS_TEST_BASE_IMAGE")))
    (ctx / "notes.txt").write_text("copied for every platform\n")
    doc = base_doc(unique("platforms"))
    write_workspace(tmp_path, doc)
    single = planned_target(tmp_path)
    doc["images"][0]["build"]["platforms"] = ["linux/arm64", "linux/amd64"]
    write_workspace(tmp_path, doc)
    reference = planned_target(tmp_path)
    assert reference != single  # the platform set is a build input: another tag

    applied = run_kfws("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.text
    repo, tag = pushed(registry, reference)
    index = get_json(registry, f"{repo}/manifests/{tag}")
    assert index["mediaType"].endswith("index.v1+json") or "manifest.list" in index["mediaType"]
    by_platform = {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
        for m in index["manifests"]
    }
    assert sorted(by_platform) == ["linux/amd64", "linux/arm64"]
    for platform, digest in by_platform.items():
        files: dict[str, bytes] = {}
        for layer in image_parts(registry, repo, digest)[1]:
            files.update(layer_files(layer))
        assert files["platform"].decode().strip() == platform
        assert files["notes.txt"] == b"copied for every platform\n"
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path).code == 0

    # the same set in another order: the same tag, already pushed
    doc["images"][0]["build"]["platforms"] = ["linux/amd64", "linux/arm64"]
    write_workspace(tmp_path, doc)
    assert run_kfws("plan", "--detailed-exitcode", cwd=tmp_path).code == 0


def test_the_registry_cache_feeds_a_builder_with_an_empty_local_cache(tmp_path: Path) -> None:
    """Build on the local daemon (exporting the cache to the registry), then the same inputs
    on the TCP daemon, whose own cache never saw them: every step comes from the registry."""
    registry = need_env("KFWS_TEST_REGISTRY")
    ctx = tmp_path / "images" / "tool"
    ctx.mkdir(parents=True)
    marker = unique("expensive-step")
    (ctx / "Dockerfile").write_text(
        f"FROM {need_env('KFWS_TEST_BASE_IMAGE')} AS final\n"
        f"RUN echo {marker} > /home/jovyan/step && echo ran-{marker}\n"
    )
    prefix = unique("cache")
    doc = base_doc(prefix, cache={"registry": f"{registry}/{prefix}/buildcache"})
    write_workspace(tmp_path, doc)
    logs = tmp_path / "logs"
    first = run_kfws("apply", "--auto-approve", "--log-dir", str(logs), cwd=tmp_path)
    assert first.code == 0, first.text
    assert get_json(registry, f"{prefix}/buildcache/manifests/tool")  # the cache was exported

    # the image must be built again: a new repository, the same inputs and cache
    doc["images"][0]["repository"] = f"{registry}/{prefix}/tool-again"
    write_workspace(tmp_path, doc)
    remote = {
        "BUILDKIT_HOST": need_env("KFWS_TEST_BUILDKIT_TCP"),
        "KFWS_BUILDKIT_TLS_DIR": need_env("KFWS_TEST_BUILDKIT_TLS_DIR"),
    }
    logs2 = tmp_path / "logs2"
    second = run_kfws("apply", "--auto-approve", "--log-dir", str(logs2), cwd=tmp_path, env=remote)
    assert second.code == 0, second.text
    log = "".join(p.read_text() for p in logs2.glob("*.log"))
    assert need_env("KFWS_TEST_BUILDKIT_TCP") in log
    # the RUN step's own output is not there: it did not run again
    assert not re.search(rf"^#\d+ [\d.]+ ran-{marker}$", log, re.M) and "CACHED" in log


def test_a_tcp_daemon_needs_its_client_certificates(tmp_path: Path) -> None:
    context(tmp_path, f"FROM {need_env('KFWS_TEST_BASE_IMAGE')} AS final\n")
    write_workspace(tmp_path, base_doc(unique("notls")))
    env = {"BUILDKIT_HOST": need_env("KFWS_TEST_BUILDKIT_TCP"), "KFWS_BUILDKIT_TLS_DIR": ""}
    result = run_kfws("apply", "--auto-approve", cwd=tmp_path, env=env)
    assert result.code == 1, result.text
    assert f"cannot reach the BuildKit daemon at {need_env('KFWS_TEST_BUILDKIT_TCP')}" in result.err
    assert "KFWS_BUILDKIT_TLS_DIR" in result.err


def test_parallel_builds_spread_over_the_daemons_given(tmp_path: Path) -> None:
    base = need_env("KFWS_TEST_BASE_IMAGE")
    doc = base_doc(unique("spread"))
    doc["images"] = []
    for name in ("one", "two"):
        ctx = tmp_path / "images" / name
        ctx.mkdir(parents=True)
        (ctx / "Dockerfile").write_text(f"FROM {base}\nRUN echo {unique(name)}\n")
        doc["images"].append({"name": name, "build": {"context": f"images/{name}"}})
    write_workspace(tmp_path, doc)
    local, tcp = need_env("BUILDKIT_HOST"), need_env("KFWS_TEST_BUILDKIT_TCP")
    env = {
        "KFWS_BUILDKIT_HOSTS": f"{local},{tcp}",
        "KFWS_BUILDKIT_TLS_DIR": need_env("KFWS_TEST_BUILDKIT_TLS_DIR"),
    }
    logs = tmp_path / "logs"
    args = ("apply", "--auto-approve", "--parallelism", "2", "--log-dir", str(logs))
    result = run_kfws(*args, cwd=tmp_path, env=env)
    assert result.code == 0, result.text
    assert "2 built, 2 pushed" in result.out
    first_lines = {p.read_text().splitlines()[0] for p in logs.glob("*.log")}
    assert first_lines == {
        f"# buildctl build on {local} (BuildKit)",
        f"# buildctl build on {tcp} (BuildKit)",
    }


def test_a_blob_the_registry_refuses_is_pushed_again_once(tmp_path: Path) -> None:
    """BuildKit's pusher gives up at the first refused blob, where `docker push` retries: kfws
    pushes again once (the build itself comes from BuildKit's cache), through a double that
    damages the first upload of every blob so the real registry refuses each once."""
    registry = need_env("KFWS_TEST_REGISTRY")
    marker = unique("refused")
    base = need_env("KFWS_TEST_BASE_IMAGE")
    context(tmp_path, f"FROM {base} AS final\nRUN echo {marker} > /home/jovyan/m\n")
    with corrupting_registry(registry) as (double, damaged):
        doc = base_doc("unused")
        doc["registry"] = {
            "default": f"{double}/{marker}",
            "registries": {double: {"insecure": True}, registry: {"insecure": True}},
        }
        write_workspace(tmp_path, doc)
        tag = planned_target(tmp_path).rsplit(":", 1)[1]
        logs = tmp_path / "logs"
        result = run_kfws("apply", "--auto-approve", "--log-dir", str(logs), cwd=tmp_path)
    assert result.code == 0, result.text
    assert damaged, "the double damaged no upload: the retry was not exercised"
    log = "".join(p.read_text() for p in logs.glob("*.log"))
    assert "provided digest did not match uploaded content" in log
    assert log.count("pushing again after the registry refused a blob") == 1
    # what the second push left in the real registry is whole: each blob matches its digest
    config, layers = image_parts(registry, f"{marker}/tool", tag)
    assert config["config"]["Labels"]["dev.kfws.image-name"] == "tool"
    assert layer_files(layers[-1]) == {"home/jovyan/m": f"{marker}\n".encode()}
