"""A TEST DOUBLE: a proxy in front of the environment's real open registry that flips one byte
of the first upload of every blob, so the real registry refuses it ("provided digest did not
match uploaded content"), and passes everything else through unchanged.

Why a double: a CI run once saw the distribution registry refuse one blob of a BuildKit push
(a transfer or a race between two uploads of the same blob, which can't be made to happen on
demand). Everything but the one damaged byte comes from the real registry, which does the
refusing itself."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tests.env.proxy_double import PassThrough, serving

_UPLOAD = re.compile(r"^/v2/.+/blobs/uploads/[^/?]+")
_DIGEST = re.compile(r"[?&]digest=(sha256(?::|%3A)[0-9a-f]{64})", re.I)


@contextmanager
def corrupting_registry(upstream: str) -> Iterator[tuple[str, list[str]]]:
    """Yields (host:port of the double, the digests whose first upload it damaged)."""
    damaged: list[str] = []
    lock = threading.Lock()

    class Handler(PassThrough):
        protocol_version = "HTTP/1.1"

        def handle_one_request(self) -> None:
            # BuildKit tries TLS first and falls back to plain HTTP only when the answer to its
            # ClientHello starts with "HTTP/", as a Go server's does (http.server's does not)
            if self.rfile.peek(1)[:1] == b"\x16":
                self.wfile.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
                self.close_connection = True
                return
            super().handle_one_request()

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()  # the empty trailer line
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _damage(self, body: bytes) -> bytes:
            """One flipped byte in the first completing upload (PUT ?digest=) of each blob."""
            m = _DIGEST.search(self.path)
            if self.command != "PUT" or not body or not m or not _UPLOAD.match(self.path):
                return body
            digest = m.group(1).replace("%3A", ":").replace("%3a", ":")
            with lock:
                if digest in damaged:
                    return body
                damaged.append(digest)
            return bytes([body[0] ^ 0xFF]) + body[1:]

        def _forward(self) -> None:
            body = self._damage(self._body())
            # the Host header goes through: the registry's upload Locations then name the double
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in ("transfer-encoding", "content-length", "connection")
            }
            # a request of its own, not the shared session: BuildKit uploads blobs in parallel
            r = requests.request(
                self.command,
                f"http://{self.upstream}{self.path}",
                headers=headers,
                data=body if body or self.command in ("PUT", "PATCH", "POST") else None,
                allow_redirects=False,
                timeout=60,
            )
            content = b"" if self.command == "HEAD" else r.content
            self.send_response(r.status_code)
            for k, v in r.headers.items():
                if k.lower() not in ("transfer-encoding", "connection", "content-encoding"):
                    if k.lower() == "content-length" and self.command != "HEAD":
                        continue
                    self.send_header(k, v)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    with serving(Handler, upstream) as host:
        yield host, damaged
