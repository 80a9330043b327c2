"""kfws.observe.registry against real registries: the open one (plain HTTP), the TLS + htpasswd
one, throwaway `docker-registry serve` instances of our own (one stopped mid-test, one with token
auth backed by a small token server written here), and real credential-helper processes.

Only two kinds of answers cannot be produced on demand by a real registry — 5xx and 429 — so
`FlakyRegistry` below is a TEST DOUBLE (an http.server on 127.0.0.1) for the retry tests, and
says so. Everything else crosses a real wire to a real registry.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import docker
import pytest
import requests

from kfws.errors import RegistryError
from kfws.observe.inventory import tag_facts
from kfws.observe.registry import (
    DOCKER_MANIFEST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    ManifestInfo,
    RegistryClient,
)
from kfws.observe.registry.config_cache import ConfigCache
from kfws.observe.registry.facts import ImageFacts
from kfws.spec.model import RegistryOptions
from tests.conftest import need_env
from tests.env.registry_push import Pusher, kfws_labels

REPO = f"kfws-registry-test/r{uuid.uuid4().hex[:10]}"


# ---- the environment --------------------------------------------------------------------------


@dataclass(frozen=True)
class Env:
    open: str  # host:port, plain HTTP, no auth
    auth: str  # host:port, TLS + htpasswd
    ca_file: Path
    docker_config: Path

    def options(self, **overrides: RegistryOptions) -> Callable[[str], RegistryOptions]:
        table = {
            self.open: RegistryOptions(self.open, insecure=True),
            self.auth: RegistryOptions(self.auth, ca_file=self.ca_file),
            **overrides,
        }
        return lambda host: table.get(host) or RegistryOptions(host)

    def auth_credentials(self) -> tuple[str, str]:
        config = json.loads((self.docker_config / "config.json").read_text())
        raw = base64.b64decode(config["auths"][self.auth]["auth"]).decode()
        user, _, password = raw.partition(":")
        return user, password


@pytest.fixture(scope="session")
def env() -> Env:
    return registry_env()


def registry_env() -> Env:
    return Env(
        need_env("KFWS_TEST_REGISTRY"),
        need_env("KFWS_TEST_REGISTRY_AUTH"),
        Path(need_env("KFWS_TEST_CA_FILE")),
        Path(need_env("DOCKER_CONFIG")),
    )


@dataclass(frozen=True)
class Pushed:
    tag: str
    labels: dict[str, str]
    digest: dict[str, str]  # registry host -> the digest `docker push` reported


def _docker_build(client: Any, base: str, labels: dict[str, str]) -> Any:
    dockerfile = f"FROM {base}\n" + "".join(f'LABEL {k}="{v}"\n' for k, v in labels.items())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    image, _ = client.images.build(fileobj=buf, custom_context=True, network_mode="host", rm=True)
    return image


def _docker_push(client: Any, repository: str, tag: str) -> str:
    digest = None
    for event in client.api.push(repository, tag=tag, stream=True, decode=True):
        assert "error" not in event, event["error"]
        aux = event.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            digest = str(aux["Digest"])
    assert digest, f"docker push of {repository}:{tag} reported no digest"
    return digest


@pytest.fixture(scope="session")
def pushed(env: Env) -> dict[str, Pushed]:
    """Two images FROM the base image, with distinct labels, pushed to both registries."""
    client = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    base = need_env("KFWS_TEST_BASE_IMAGE")
    out: dict[str, Pushed] = {}
    for tag in ("v1", "v2"):
        labels = {"dev.kfws.test": f"{REPO}-{tag}", "dev.kfws.input-digest": f"sha256:{tag * 32}"}
        image = _docker_build(client, base, labels)
        digests = {}
        for host in (env.open, env.auth):
            image.tag(f"{host}/{REPO}", tag)
            digests[host] = _docker_push(client, f"{host}/{REPO}", tag)
        out[tag] = Pushed(tag, labels, digests)
    return out


def head_digest(url: str, **kw: Any) -> str:
    r = requests.head(url, headers={"Accept": MANIFEST_ACCEPT}, timeout=10, **kw)
    assert r.status_code == 200, r.status_code
    return r.headers["Docker-Content-Digest"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayRegistry:
    """A `docker-registry serve` of our own on a free loopback port (filesystem storage)."""

    def __init__(self, root: Path, auth: str = "") -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        (root / "data").mkdir(parents=True, exist_ok=True)
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}}}\n"
            f"http: {{addr: '{self.host}', secret: kfws-throwaway}}\n" + auth
        )
        self.log = root / "registry.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                ["docker-registry", "serve", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if requests.get(f"http://{self.host}/v2/", timeout=1).status_code in (200, 401):
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"registry on {self.host} did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- resolve ----------------------------------------------------------------------------------


def test_resolve_gives_the_digest_docker_push_reported(env: Env, pushed: dict[str, Pushed]) -> None:
    client = RegistryClient(env.options())
    for p in pushed.values():
        for host in (env.open, env.auth):
            info = client.resolve(f"{host}/{REPO}", p.tag)
            assert info is not None
            assert info.digest == p.digest[host]
            assert info.media_type == DOCKER_MANIFEST
            assert info.size > 0
            by_digest = client.resolve(f"{host}/{REPO}", info.digest)
            assert by_digest == info
    v1 = pushed["v1"]
    assert v1.digest[env.open] == head_digest(f"http://{env.open}/v2/{REPO}/manifests/v1")
    assert v1.digest[env.auth] == head_digest(
        f"https://{env.auth}/v2/{REPO}/manifests/v1",
        verify=str(env.ca_file),
        auth=env.auth_credentials(),
    )


def test_missing_tag_and_missing_repository_are_none(env: Env, pushed: dict[str, Pushed]) -> None:
    client = RegistryClient(env.options())
    for host in (env.open, env.auth):
        assert client.resolve(f"{host}/{REPO}", "no-such-tag") is None
        assert client.resolve(f"{host}/kfws-registry-test/no-such-repo", "v1") is None
        missing = "sha256:" + "0" * 64
        assert client.resolve(f"{host}/{REPO}", missing) is None


def test_wrong_credentials_are_an_error_never_missing(
    env: Env, pushed: dict[str, Pushed], tmp_path: Path
) -> None:
    user, password = env.auth_credentials()
    wrong = "definitely-not-" + password
    token = base64.b64encode(f"{user}:{wrong}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {env.auth: {"auth": token}}}))
    client = RegistryClient(env.options(), docker_config_dir=tmp_path)
    for tag in ("v1", "no-such-tag"):  # a missing tag must not look missing either
        with pytest.raises(RegistryError) as info:
            client.resolve(f"{env.auth}/{REPO}", tag)
        text = info.value.render()
        assert env.auth in text
        assert "refused the credentials" in text
        assert f"docker login {env.auth}" in text
        assert wrong not in text and password not in text and token not in text
    assert wrong not in repr(client) and password not in repr(client)


def test_no_credentials_is_an_error(env: Env, pushed: dict[str, Pushed], tmp_path: Path) -> None:
    client = RegistryClient(env.options(), docker_config_dir=tmp_path)  # no config.json there
    with pytest.raises(RegistryError) as info:
        client.resolve(f"{env.auth}/{REPO}", "v1")
    text = info.value.render()
    assert f"registry {env.auth} requires credentials" in text
    assert f"docker login {env.auth}" in text
    assert "credential helper" in text


def test_tls_without_the_ca_is_an_error_naming_cafile(env: Env, pushed: dict[str, Pushed]) -> None:
    client = RegistryClient(env.options(**{env.auth: RegistryOptions(env.auth)}))
    with pytest.raises(RegistryError) as info:
        client.resolve(f"{env.auth}/{REPO}", "v1")
    text = info.value.render()
    assert env.auth in text
    assert "certificate verify failed" in text
    assert "caFile" in text
    # and with the CA it works (the same registry, the same credentials)
    assert RegistryClient(env.options()).resolve(f"{env.auth}/{REPO}", "v1") is not None


def test_a_missing_cafile_is_named(env: Env, tmp_path: Path) -> None:
    opts = RegistryOptions(env.auth, ca_file=tmp_path / "nope.crt")
    with pytest.raises(RegistryError, match=r"caFile .*nope.crt .* does not exist"):
        RegistryClient(env.options(**{env.auth: opts})).resolve(f"{env.auth}/{REPO}", "v1")


def test_plain_http_only_when_marked_insecure(env: Env, pushed: dict[str, Pushed]) -> None:
    repo = f"{env.open}/{REPO}"
    assert RegistryClient(env.options()).resolve(repo, "v1") is not None
    # not marked insecure: kfws speaks TLS to it (loopback is not implicitly insecure)
    strict = RegistryClient(env.options(**{env.open: RegistryOptions(env.open)}), retries=0)
    with pytest.raises(RegistryError) as info:
        strict.resolve(repo, "v1")
    text = info.value.render()
    assert env.open in text and "insecure: true" in text and "plain HTTP" in text
    # marked insecure, a TLS-only registry is not silently downgraded: it fails, named
    insecure_tls = env.options(**{env.auth: RegistryOptions(env.auth, insecure=True)})
    with pytest.raises(RegistryError, match=env.auth):
        RegistryClient(insecure_tls, retries=0).resolve(f"{env.auth}/{REPO}", "v1")


def test_a_stopped_registry_is_an_error_not_missing(tmp_path: Path) -> None:
    registry = ThrowawayRegistry(tmp_path / "reg")
    try:
        client = RegistryClient(
            lambda h: RegistryOptions(h, insecure=True), retries=2, backoff=0.05
        )
        assert client.resolve(f"{registry.host}/any/thing", "v1") is None  # it is up
    finally:
        registry.stop()
    with pytest.raises(RegistryError) as info:
        client.resolve(f"{registry.host}/any/thing", "v1")
    text = info.value.render()
    assert f"cannot connect to registry {registry.host}" in text
    assert "connection refused, 3 attempts" in text
    assert f"{registry.host}/any/thing:v1" in text
    with pytest.raises(RegistryError, match="connection refused"):
        client.resolve_many([(f"{registry.host}/a", "1"), (f"{registry.host}/b", "2")])


def test_a_registry_that_never_answers_times_out(tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        client = RegistryClient(
            lambda h: RegistryOptions(h, insecure=True), timeout=0.3, retries=1, backoff=0.01
        )
        with pytest.raises(RegistryError, match=rf"registry {host} did not answer within 0.3s"):
            client.resolve(f"{host}/x", "y")


# ---- labels -----------------------------------------------------------------------------------


def test_labels_of_pushed_images(env: Env, pushed: dict[str, Pushed]) -> None:
    client = RegistryClient(env.options())
    for p in pushed.values():
        for host in (env.open, env.auth):
            labels = client.image_labels(f"{host}/{REPO}", p.tag)
            assert {k: labels[k] for k in p.labels} == p.labels
    with pytest.raises(RegistryError, match="does not exist"):
        client.image_labels(f"{env.open}/{REPO}", "no-such-tag")


def put_index(env: Env, repo: str, arch_of: dict[str, str]) -> tuple[str, requests.Response]:
    """A real OCI index `multi` in the open registry, pointing at pushed tags as if they were
    builds for the given architectures (tag -> arch). Returns (its text, the PUT's answer)."""
    entries = []
    for tag, arch in arch_of.items():
        r = requests.get(
            f"http://{env.open}/v2/{repo}/manifests/{tag}",
            headers={"Accept": DOCKER_MANIFEST},
            timeout=10,
        )
        entries.append(
            {
                "mediaType": DOCKER_MANIFEST,
                "digest": r.headers["Docker-Content-Digest"],
                "size": len(r.content),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})
    put = requests.put(
        f"http://{env.open}/v2/{repo}/manifests/multi",
        data=index,
        headers={"Content-Type": OCI_INDEX},
        timeout=10,
    )
    assert put.status_code == 201, put.text
    return index, put


def test_labels_through_an_oci_index_by_platform(env: Env, pushed: dict[str, Pushed]) -> None:
    """Put a real OCI index into the open registry, pointing at the two pushed manifests as if
    they were the amd64 and arm64 builds; labels follow the platform asked for."""
    index, put = put_index(env, REPO, {"v1": "amd64", "v2": "arm64"})
    client = RegistryClient(env.options())
    info = client.resolve(f"{env.open}/{REPO}", "multi")
    assert info is not None
    assert (info.media_type, info.digest) == (OCI_INDEX, put.headers["Docker-Content-Digest"])
    assert info.size == len(index)
    default = client.image_labels(f"{env.open}/{REPO}", "multi")
    assert default["dev.kfws.test"] == pushed["v1"].labels["dev.kfws.test"]
    arm = client.image_labels(f"{env.open}/{REPO}", "multi", platform="linux/arm64")
    assert arm["dev.kfws.test"] == pushed["v2"].labels["dev.kfws.test"]
    with pytest.raises(RegistryError, match=r"no image for platform linux/s390x .*linux/amd64"):
        client.image_labels(f"{env.open}/{REPO}", "multi", platform="linux/s390x")


def test_a_remembered_config_is_not_read_again(env: Env, tmp_path: Path) -> None:
    """The config cache (kfws prune): a second client with the same cache file gets every tag's
    facts without reading the config blob, which is deleted from the registry in between (a
    read would now fail: a client with an empty cache shows it). The manifest is still read."""
    name = f"kfws-registry-test/c{uuid.uuid4().hex[:10]}"
    repo = f"{env.open}/{name}"
    labels = kfws_labels("nb", name)
    digest = Pusher(env.open).image(
        name, ["t1", "t2"], labels=labels, created="2026-11-03T04:05:06Z"
    )
    cache = tmp_path / "image-configs.json"
    with RegistryClient(env.options(), config_cache=ConfigCache(cache)) as first:
        facts = tag_facts(first, [repo], 4)
    config, layer = facts[(repo, "t1")].blobs
    size = config[1] + layer[1]
    assert facts == {
        (repo, tag): ImageFacts(digest, labels, "2026-11-03T04:05:06Z", (config, layer), size)
        for tag in ("t1", "t2")
    }
    gone = requests.delete(f"http://{env.open}/v2/{name}/blobs/{config[0]}", timeout=10)
    assert gone.status_code == 202, gone.text
    with RegistryClient(env.options(), config_cache=ConfigCache(cache)) as second:
        assert tag_facts(second, [repo], 4) == facts
    fresh = ConfigCache(tmp_path / "empty.json")
    with (
        RegistryClient(env.options(), config_cache=fresh) as third,
        pytest.raises(RegistryError, match=r"answered 404 .*reading the image config for"),
    ):
        tag_facts(third, [repo], 4)


# ---- many at once -----------------------------------------------------------------------------


def test_resolve_many_in_parallel_equals_sequential(env: Env, pushed: dict[str, Pushed]) -> None:
    items = [
        (f"{host}/{repo}", tag)
        for host in (env.open, env.auth)
        for repo in (REPO, "kfws-registry-test/no-such-repo")
        for tag in ("v1", "v2", "nope")
    ]
    items += items[:3]  # duplicates are asked once
    client = RegistryClient(env.options())
    sequential = {item: client.resolve(*item) for item in items}
    for parallelism in (1, 4, 16):
        parallel = RegistryClient(env.options()).resolve_many(items, parallelism=parallelism)
        assert parallel == sequential
        assert list(parallel) == list(dict.fromkeys(items))  # deterministic order
    found = {k: v for k, v in sequential.items() if v is not None}
    assert len(found) == 4
    assert all(isinstance(v, ManifestInfo) for v in found.values())


def test_resolve_many_raises_the_first_error(env: Env, pushed: dict[str, Pushed]) -> None:
    dead = f"127.0.0.1:{free_port()}"
    items = [(f"{env.open}/{REPO}", "v1"), (f"{dead}/x", "1"), (f"{env.open}/{REPO}", "v2")]
    client = RegistryClient(env.options(**{dead: RegistryOptions(dead, insecure=True)}), retries=0)
    with pytest.raises(RegistryError, match=dead):
        client.resolve_many(items, parallelism=4)


# ---- credential helpers -----------------------------------------------------------------------


def test_credential_helper_from_the_docker_config(
    env: Env, pushed: dict[str, Pushed], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, password = env.auth_credentials()
    bins = tmp_path / "bin"
    bins.mkdir()
    asked = tmp_path / "asked"
    script = bins / "docker-credential-kfwstest"
    answer = json.dumps({"ServerURL": env.auth, "Username": user, "Secret": password})
    script.write_text(
        f'#!/bin/sh\n[ "$1" = get ] || exit 2\nread url\necho "$url" >> {asked}\n'
        f"cat <<'EOF'\n{answer}\nEOF\n"
    )
    script.chmod(0o700)
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {env.auth: "kfwstest"}}))
    monkeypatch.setenv("PATH", f"{bins}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    client = RegistryClient(env.options())
    results = client.resolve_many([(f"{env.auth}/{REPO}", t) for t in ("v1", "v2", "x")])
    assert [None if v is None else v.digest for v in results.values()] == [
        pushed["v1"].digest[env.auth],
        pushed["v2"].digest[env.auth],
        None,
    ]
    assert asked.read_text().splitlines() == [env.auth]  # asked once, with the server URL

    # a helper the config names but PATH lacks: a clear error, not "missing"
    (config / "config.json").write_text(json.dumps({"credHelpers": {env.auth: "kfws-absent"}}))
    with pytest.raises(RegistryError, match=r"docker-credential-kfws-absent .* not installed"):
        RegistryClient(env.options()).resolve(f"{env.auth}/{REPO}", "v1")


# ---- bearer tokens: a registry with token auth and a token server of our own -------------------


def _openssl(*args: str, cwd: Path, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["openssl", *args], cwd=cwd, input=data, capture_output=True, check=True
    ).stdout


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """A real token service (the Docker token spec): GET /token?service=&scope= with optional
    basic auth, answering an RS256 JWT signed by a key whose certificate chains to the
    registry's rootcertbundle. Grants what is asked to the right user, nothing to anyone else."""

    pki: Path
    user: str = "tokuser"
    password: str = field(default_factory=lambda: uuid.uuid4().hex)
    refresh_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    service: str = "kfws-token-test"
    issuer: str = "kfws-token-issuer"
    asked: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pki.mkdir(parents=True, exist_ok=True)
        new_key = ("req", "-newkey", "rsa:2048", "-nodes")
        _openssl(*new_key, "-x509", "-days", "2", "-subj", "/CN=kfws token CA",
                 "-keyout", "ca.key", "-out", "ca.crt", cwd=self.pki)  # fmt: skip
        _openssl(*new_key, "-subj", "/CN=kfws token signer",
                 "-keyout", "sign.key", "-out", "sign.csr", cwd=self.pki)  # fmt: skip
        _openssl("x509", "-req", "-in", "sign.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-out", "sign.crt", cwd=self.pki)  # fmt: skip
        der = _openssl("x509", "-in", "sign.crt", "-outform", "DER", cwd=self.pki)
        self.x5c = base64.b64encode(der).decode()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.handle(self)

            def do_POST(self) -> None:
                server.handle_refresh(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        sig = _openssl(
            "dgst", "-sha256", "-sign", "sign.key", cwd=self.pki, data=signing_input.encode()
        )
        return f"{signing_input}.{_b64url(sig)}"

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(req.path).query)
        scopes = tuple(s for value in query.get("scope", []) for s in value.split(" "))
        account = None
        auth = req.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if (user, password) != (self.user, self.password):
                self.asked.append(("<refused>", scopes))
                req.send_response(401)
                req.end_headers()
                return
            account = user
        self.asked.append((account, scopes))
        self._grant(req, account, scopes)

    def _grant(
        self, req: BaseHTTPRequestHandler, account: str | None, scopes: tuple[str, ...]
    ) -> None:
        access = []
        for scope in scopes:
            kind, name, actions = [*scope.split(":"), "", ""][:3]
            if account and kind == "repository":
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        token = self.sign(
            {
                "iss": self.issuer,
                "sub": account or "",
                "aud": self.service,
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": uuid.uuid4().hex,
                "access": access,
            }
        )
        key = "access_token" if req.command == "POST" else "token"  # as OAuth2 answers
        body = json.dumps({key: token, "expires_in": 300}).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def handle_refresh(self, req: BaseHTTPRequestHandler) -> None:
        """POST /token, grant_type=refresh_token (what an `identitytoken` is used for)."""
        length = int(req.headers.get("Content-Length", "0"))
        form = parse_qs(req.rfile.read(length).decode())
        ok = form.get("grant_type") == ["refresh_token"] and form.get("refresh_token") == [
            self.refresh_token
        ]
        scopes = tuple(s for value in form.get("scope", []) for s in value.split(" "))
        self.asked.append(("<refresh>" if ok else "<refused>", scopes))
        if not ok:
            req.send_response(401)
            req.end_headers()
            return
        self._grant(req, self.user, scopes)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class TokenRegistry:
    registry: ThrowawayRegistry
    tokens: TokenServer
    digest: str  # of REPO:v1 pushed there by dockerd through the token flow


@pytest.fixture(scope="module")
def token_registry(
    env: Env, pushed: dict[str, Pushed], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TokenRegistry]:
    root = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(root / "pki")
    auth = (
        "auth:\n  token:\n"
        f"    realm: {tokens.realm}\n    service: {tokens.service}\n"
        f"    issuer: {tokens.issuer}\n    rootcertbundle: {root / 'pki' / 'ca.crt'}\n"
    )
    registry = ThrowawayRegistry(root / "registry", auth)
    client = docker.DockerClient(base_url=need_env("DOCKER_HOST"))
    try:
        image = client.images.get(f"{env.open}/{REPO}:v1")
        image.tag(f"{registry.host}/{REPO}", "v1")
        digest = None
        for event in client.api.push(
            f"{registry.host}/{REPO}",
            tag="v1",
            stream=True,
            decode=True,
            auth_config={"username": tokens.user, "password": tokens.password},
        ):
            assert "error" not in event, (event["error"], registry.log.read_text())
            aux = event.get("aux")
            if isinstance(aux, dict) and aux.get("Digest"):
                digest = str(aux["Digest"])
        assert digest
        client.images.remove(f"{registry.host}/{REPO}:v1")
        yield TokenRegistry(registry, tokens, digest)
    finally:
        registry.stop()
        tokens.stop()
        shutil.rmtree(root, ignore_errors=True)


def _token_config(folder: Path, host: str, user: str, password: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {f"http://{host}": {"auth": token}}}))
    return folder


def test_bearer_token_flow_against_a_token_auth_registry(
    token_registry: TokenRegistry, pushed: dict[str, Pushed], tmp_path: Path
) -> None:
    tr = token_registry
    host, tokens = tr.registry.host, tr.tokens
    config = _token_config(tmp_path / "ok", host, tokens.user, tokens.password)
    client = RegistryClient(lambda h: RegistryOptions(h, insecure=True), docker_config_dir=config)
    tokens.asked.clear()
    info = client.resolve(f"{host}/{REPO}", "v1")
    assert info is not None and info.digest == tr.digest
    assert client.resolve(f"{host}/{REPO}", "missing") is None
    labels = client.image_labels(f"{host}/{REPO}", "v1")
    assert labels["dev.kfws.test"] == pushed["v1"].labels["dev.kfws.test"]
    many = client.resolve_many([(f"{host}/{REPO}", t) for t in ("v1", "a", "b", "c")], 4)
    assert many[(f"{host}/{REPO}", "v1")] == info
    # one token for that repository's pull scope, cached for every later request
    assert tokens.asked == [(tokens.user, (f"repository:{REPO}:pull",))]
    assert tokens.password not in repr(client)


def test_identity_token_is_used_as_an_oauth2_refresh_token(
    token_registry: TokenRegistry, tmp_path: Path
) -> None:
    tr = token_registry
    host, tokens = tr.registry.host, tr.tokens
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {host: {"identitytoken": tokens.refresh_token}}})
    )
    client = RegistryClient(lambda h: RegistryOptions(h, insecure=True), docker_config_dir=tmp_path)
    tokens.asked.clear()
    info = client.resolve(f"{host}/{REPO}", "v1")
    assert info is not None and info.digest == tr.digest
    assert tokens.asked == [("<refresh>", (f"repository:{REPO}:pull",))]
    assert tokens.refresh_token not in repr(client)


def test_bearer_token_refused_or_insufficient_is_an_error(
    token_registry: TokenRegistry, tmp_path: Path
) -> None:
    tr = token_registry
    host, tokens = tr.registry.host, tr.tokens
    insecure = lambda h: RegistryOptions(h, insecure=True)  # noqa: E731
    wrong = _token_config(tmp_path / "wrong", host, tokens.user, "wrong-" + tokens.password)
    with pytest.raises(RegistryError) as info:
        RegistryClient(insecure, docker_config_dir=wrong).resolve(f"{host}/{REPO}", "v1")
    text = info.value.render()
    assert f"registry {host}: its token service refused the credentials" in text
    assert "wrong-" not in text
    # anonymous: the token service hands out a token without access; the registry refuses it
    with pytest.raises(RegistryError, match=f"registry {host} requires credentials"):
        RegistryClient(insecure, docker_config_dir=tmp_path / "none").resolve(
            f"{host}/{REPO}", "missing"
        )


# ---- retries: a TEST DOUBLE, since no real registry answers 503/429 on demand ------------------


class FlakyRegistry:
    """TEST DOUBLE: an http.server on 127.0.0.1 that speaks just enough of the distribution API
    (HEAD manifests) to answer a scripted sequence of statuses, then 200 with a digest."""

    DIGEST = "sha256:" + "ab" * 32

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script = list(script)
        self.hits: list[float] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                double.hits.append(time.monotonic())
                status, headers = (
                    double.script.pop(0)
                    if double.script
                    else (
                        200,
                        {
                            "Docker-Content-Digest": double.DIGEST,
                            "Content-Type": DOCKER_MANIFEST,
                            "Content-Length": "7",
                        },
                    )
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> FlakyRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _insecure(h: str) -> RegistryOptions:
    return RegistryOptions(h, insecure=True)


def test_5xx_is_retried_then_succeeds() -> None:
    with FlakyRegistry([(503, {}), (502, {})]) as double:
        client = RegistryClient(_insecure, retries=3, backoff=0.05)
        info = client.resolve(f"{double.host}/a/b", "v1")
        assert info == ManifestInfo(FlakyRegistry.DIGEST, DOCKER_MANIFEST, 7)
        assert len(double.hits) == 3


def test_5xx_after_all_retries_is_an_error() -> None:
    with FlakyRegistry([(503, {})] * 10) as double:
        client = RegistryClient(_insecure, retries=2, backoff=0.01)
        with pytest.raises(RegistryError) as info:
            client.resolve(f"{double.host}/a/b", "v1")
        assert len(double.hits) == 3
        text = info.value.render()
        assert f"registry {double.host} answered 503" in text and "3 attempts" in text
        assert f"{double.host}/a/b:v1" in text


def test_429_honours_retry_after() -> None:
    with FlakyRegistry([(429, {"Retry-After": "1"})]) as double:
        client = RegistryClient(_insecure, retries=3, backoff=0.01)
        assert client.resolve(f"{double.host}/a/b", "v1") is not None
        assert len(double.hits) == 2
        assert double.hits[1] - double.hits[0] >= 0.95
    with FlakyRegistry([(429, {"Retry-After": "0"})] * 5) as double:
        client = RegistryClient(_insecure, retries=1, backoff=0.01)
        with pytest.raises(RegistryError, match="429 Too Many Requests"):
            client.resolve(f"{double.host}/a/b", "v1")
