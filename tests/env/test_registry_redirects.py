"""Where kfws's registry credentials may go after a redirect, and what of a registry's error text
reaches the terminal.

No real registry can be made to redirect a manifest from https to plain http on its own port, or
to put terminal escapes into its error bodies, so `RedirectingRegistry` below is a TEST DOUBLE:
an http.server on 127.0.0.1 that speaks TLS and plain HTTP on the SAME port (so a downgrade on the
same host is observable), asks for Basic credentials, answers a scripted route per path, and
records every request it gets (scheme, method, path, whether it carried Authorization).
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kfws.errors import RegistryError
from kfws.observe.registry import DOCKER_MANIFEST, RegistryClient
from kfws.spec.model import RegistryOptions

DIGEST = "sha256:" + "cd" * 32
USER, PASSWORD = "redirect-user", "s3cret-redirect-password"
Answer = tuple[int, dict[str, str], bytes]
Route = Callable[["RedirectingRegistry"], Answer]


@dataclass(frozen=True)
class Hit:
    scheme: str  # "https" or "http": how the request reached the double
    method: str
    path: str
    authorized: bool  # it carried an Authorization header


def found(double: RedirectingRegistry) -> Answer:
    return 200, {"Docker-Content-Digest": DIGEST, "Content-Type": DOCKER_MANIFEST}, b"{}"


def redirect_to(url: Callable[[RedirectingRegistry], str]) -> Route:
    return lambda double: (307, {"Location": url(double)}, b"")


def _pki(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA (the caFile the client trusts) and a certificate for 127.0.0.1 it signs."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, capture_output=True, check=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=kfws double CA", "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "leaf.key", "-out", "leaf.csr")  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "leaf.crt")  # fmt: skip
    return folder / "ca.crt", folder / "leaf.crt"


class RedirectingRegistry:
    """TEST DOUBLE (see the module docstring). `routes` maps a path to its answer; a request
    without the right Basic credentials gets a 401 challenge when `auth` is on."""

    def __init__(self, pki: Path | None, routes: dict[str, Route], *, auth: bool = True) -> None:
        self.routes = routes
        self.hits: list[Hit] = []
        self.auth = auth
        tls: ssl.SSLContext | None = None
        if pki is not None:
            self.ca_file, leaf = _pki(pki)
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(leaf, pki / "leaf.key")
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                double._answer(self, body=False)

            def do_GET(self) -> None:
                double._answer(self, body=True)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                conn, addr = super().get_request()
                # TLS and plain HTTP on one port: a TLS client hello starts with 0x16
                conn.settimeout(10)
                first = conn.recv(1, socket.MSG_PEEK)
                if tls is not None and first == b"\x16":
                    conn = tls.wrap_socket(conn, server_side=True)
                return conn, addr

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _answer(self, req: BaseHTTPRequestHandler, *, body: bool) -> None:
        scheme = "https" if isinstance(req.connection, ssl.SSLSocket) else "http"
        given = req.headers.get("Authorization")
        self.hits.append(Hit(scheme, req.command, req.path, given is not None))
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        route = self.routes.get(req.path)
        if self.auth and given != expected:
            status, headers, content = 401, {"WWW-Authenticate": 'Basic realm="double"'}, b""
        elif route is None:
            status, headers, content = 404, {"Content-Type": "application/json"}, b"{}"
        else:
            status, headers, content = route(self)
        reason = headers.pop("X-Reason", None)
        req.send_response(status, reason)
        for k, v in headers.items():
            req.send_header(k, v)
        req.send_header("Content-Length", str(len(content)))
        req.end_headers()
        if body:
            req.wfile.write(content)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _docker_config(folder: Path, *hosts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    auths = {host: {"auth": token} for host in hosts}
    (folder / "config.json").write_text(json.dumps({"auths": auths}))
    return folder


@pytest.fixture
def doubles() -> Iterator[list[RedirectingRegistry]]:
    made: list[RedirectingRegistry] = []
    yield made
    for d in made:
        d.stop()


MANIFEST = "/v2/team/nb/manifests/v1"


def test_https_to_http_redirect_on_the_same_host_sends_nothing_in_clear(
    tmp_path: Path, doubles: list[RedirectingRegistry]
) -> None:
    double = RedirectingRegistry(
        tmp_path / "pki",
        {MANIFEST: redirect_to(lambda d: f"http://{d.host}{MANIFEST}")},
    )
    doubles.append(double)
    options = lambda h: RegistryOptions(h, ca_file=double.ca_file)  # noqa: E731
    client = RegistryClient(options, docker_config_dir=_docker_config(tmp_path, double.host))
    with pytest.raises(RegistryError) as info:
        client.resolve(f"{double.host}/team/nb", "v1")
    text = info.value.render()
    assert f"registry {double.host}" in text and "plain HTTP" in text
    assert PASSWORD not in text
    # the credentials were in play (the HTTPS request carried them) ...
    assert Hit("https", "HEAD", MANIFEST, True) in double.hits
    # ... and not one byte went to the same host:port over plain HTTP
    assert [h for h in double.hits if h.scheme == "http"] == []


def test_a_same_origin_redirect_keeps_the_credentials(
    tmp_path: Path, doubles: list[RedirectingRegistry]
) -> None:
    moved = "/v2/team/nb/manifests/moved"
    double = RedirectingRegistry(
        tmp_path / "pki",
        {MANIFEST: redirect_to(lambda d: f"https://{d.host}{moved}"), moved: found},
    )
    doubles.append(double)
    options = lambda h: RegistryOptions(h, ca_file=double.ca_file)  # noqa: E731
    client = RegistryClient(options, docker_config_dir=_docker_config(tmp_path, double.host))
    info = client.resolve(f"{double.host}/team/nb", "v1")
    assert info is not None and info.digest == DIGEST
    assert Hit("https", "HEAD", moved, True) in double.hits


def test_a_redirect_to_another_host_drops_the_credentials(
    tmp_path: Path, doubles: list[RedirectingRegistry]
) -> None:
    # the registry itself is plain HTTP (marked insecure), so a plain-HTTP hop is allowed; the
    # other host:port must still never see the Authorization header
    storage = RedirectingRegistry(None, {"/blob/nb-v1": found}, auth=False)
    registry = RedirectingRegistry(
        None, {MANIFEST: redirect_to(lambda d: f"http://{storage.host}/blob/nb-v1")}
    )
    doubles.extend((storage, registry))
    options = lambda h: RegistryOptions(h, insecure=True)  # noqa: E731
    config = _docker_config(tmp_path, registry.host, storage.host)
    info = RegistryClient(options, docker_config_dir=config).resolve(
        f"{registry.host}/team/nb", "v1"
    )
    assert info is not None and info.digest == DIGEST
    assert Hit("http", "HEAD", MANIFEST, True) in registry.hits
    assert storage.hits == [Hit("http", "HEAD", "/blob/nb-v1", False)]


def test_a_registry_error_body_is_bounded_and_neutralised(
    tmp_path: Path, doubles: list[RedirectingRegistry]
) -> None:
    hostile = "\x1b[2J\x1b[31mFAKE\r\nerror: nothing happened\x00\u202e" + "x" * 5000
    body = json.dumps({"errors": [{"code": "DENIED", "message": hostile}]}).encode()

    def refuse(double: RedirectingRegistry) -> Answer:
        headers = {"Content-Type": "application/json", "X-Reason": "Bad\x1b[1m Request"}
        return 400, headers, body

    double = RedirectingRegistry(None, {MANIFEST: refuse})
    doubles.append(double)
    options = lambda h: RegistryOptions(h, insecure=True)  # noqa: E731
    client = RegistryClient(options, docker_config_dir=_docker_config(tmp_path, double.host))
    with pytest.raises(RegistryError) as info:
        client.image_labels(f"{double.host}/team/nb", "v1")
    text = info.value.render()
    assert "DENIED" in text and "FAKE" in text
    for bad in ("\x1b", "\r", "\x00", "\u202e"):
        assert bad not in text
    assert "\\x1b[2J" in text  # shown, visibly, not obeyed
    assert len(text) < 800 and "x" * 300 not in text
