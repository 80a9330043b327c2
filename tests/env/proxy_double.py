"""What the test-double registries in tests/env share: passing a request through to the real
registry unchanged, and serving a handler on 127.0.0.1 for the length of a `with`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


def forward(h: BaseHTTPRequestHandler, session: requests.Session, upstream: str) -> None:
    """Send `h`'s request to the registry at `upstream` and its answer back unchanged."""
    length = int(h.headers.get("Content-Length") or 0)
    body = h.rfile.read(length) if length else None
    headers = {k: v for k, v in h.headers.items() if k.lower() != "host"}
    r = session.request(
        h.command,
        f"http://{upstream}{h.path}",
        headers=headers,
        data=body,
        allow_redirects=False,
        timeout=30,
    )
    h.send_response(r.status_code)
    for k, v in r.headers.items():
        if k.lower() not in ("transfer-encoding", "connection", "content-encoding"):
            h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(r.content)


class PassThrough(BaseHTTPRequestHandler):
    """A quiet handler whose `_forward` passes the request on to `upstream` (set by a
    subclass), through `session`."""

    upstream: str
    session: requests.Session

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _forward(self) -> None:
        forward(self, self.session, self.upstream)


@contextmanager
def serving(handler: type[PassThrough], upstream: str) -> Iterator[str]:
    """Yields the host:port the handler answers on, passing on to `upstream`; every handler
    thread has ended on exit."""
    handler.upstream, handler.session = upstream, requests.Session()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        handler.session.close()
