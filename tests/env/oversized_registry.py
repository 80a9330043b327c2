"""A TEST DOUBLE: a proxy in front of the environment's real open registry that answers chosen
repositories with an endless body -- a tag-list page, or a manifest, of 100 MiB -- and passes
every other request through unchanged.

Why a double: no real registry sends a 100 MiB tag page or manifest on demand (the distribution
registry refuses to store a manifest over 4 MiB), yet a hostile or broken one can. The body is
sent without a Content-Length (ended by closing the connection, as HTTP/1.0 allows), so only a
client that stops reading is safe; the double counts what it managed to hand to the socket
before the client hung up. A manifest HEAD gets no digest, as some registries send, so the
client has to GET it."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from tests.env.proxy_double import PassThrough, serving

OFFERED = 100 * 1024 * 1024  # bytes of each endless body
_CHUNK = b'"t0123456789abcdef",' * 3277  # ~64 KiB of what a tag page holds


@contextmanager
def oversized_registry(
    upstream: str,
    *,
    tag_lists: Collection[str] = (),
    manifests: Collection[str] = (),
    tokens: Collection[str] = (),
) -> Iterator[tuple[str, dict[str, int]]]:
    """Yields (host:port of the double, path -> bytes it sent of an endless body). Repositories
    in `tag_lists` get an endless tag-list page, those in `manifests` an endless manifest, those
    in `tokens` a bearer challenge whose token service (the double's /token) answers endlessly."""
    sent: dict[str, int] = {}
    lock = threading.Lock()

    class Handler(PassThrough):
        def _endless(self, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.end_headers()  # no Content-Length: the body ends when the connection does
            if self.command == "HEAD":
                return
            total = 0
            try:
                self.wfile.write(b'{"name": "x", "tags": [')
                while total < OFFERED:
                    self.wfile.write(_CHUNK)
                    total += len(_CHUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what the double is here to see
            with lock:
                sent[self.path] = total

        def _challenge(self) -> None:
            realm = f"http://{self.headers['Host']}/token"
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="double"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _route(self) -> None:
            path = urlsplit(self.path).path
            if path == "/token":
                self._endless("application/json")
                return
            name, _, tail = path.removeprefix("/v2/").rpartition("/tags/list")
            if not tail and name in tag_lists and self.command == "GET":
                self._endless("application/json")
                return
            name, _, _ref = path.removeprefix("/v2/").partition("/manifests/")
            if _ref and name in manifests and self.command in ("GET", "HEAD"):
                self._endless("application/vnd.oci.image.manifest.v1+json")
                return
            if _ref and name in tokens:
                self._challenge()
                return
            self._forward()

        do_GET = do_HEAD = do_DELETE = do_PUT = do_POST = do_PATCH = _route

    with serving(Handler, upstream) as address:
        yield address, sent
