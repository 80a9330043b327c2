"""A TEST DOUBLE: a proxy in front of the environment's real open registry that paginates tag
lists the way the distribution spec describes (`n=`, `last=`, a `Link: <…>; rel="next"` header,
tags in lexical order) and passes every other request through unchanged.

Why a double: Debian's docker-registry (distribution 2.8) ignores `n` and sends every tag in one
page, while the registries users run with thousands of tags (distribution 3, Harbor, GHCR,
Docker Hub) paginate. Everything but the paging itself comes from the real registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from tests.env.proxy_double import PassThrough, serving

DEFAULT_PAGE = 50  # what the double sends when the client gives no n


@contextmanager
def paginating_registry(upstream: str) -> Iterator[tuple[str, list[str]]]:
    """Yields (host:port of the double, the list of tag-list URLs clients asked for)."""
    asked: list[str] = []

    class Handler(PassThrough):
        def _tags(self) -> None:
            parts = urlsplit(self.path)
            asked.append(self.path)
            r = self.session.get(f"http://{upstream}{parts.path}", timeout=30)
            if r.status_code != 200:
                self._forward()
                return
            query = parse_qs(parts.query)
            n = int(query.get("n", [DEFAULT_PAGE])[0])
            last = query.get("last", [""])[0]
            doc = r.json()
            tags = sorted(t for t in doc.get("tags") or [] if t > last)
            page, more = tags[:n], len(tags) > n
            body = json.dumps({"name": doc["name"], "tags": page}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if more:
                self.send_header("Link", f'<{parts.path}?n={n}&last={page[-1]}>; rel="next"')
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if urlsplit(self.path).path.endswith("/tags/list"):
                self._tags()
            else:
                self._forward()

        do_HEAD = do_DELETE = do_PUT = do_POST = do_PATCH = PassThrough._forward

    with serving(Handler, upstream) as address:
        yield address, asked
