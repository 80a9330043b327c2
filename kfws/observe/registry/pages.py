"""Reading the pages of a tag list (`GET /v2/<name>/tags/list`): the tags of one page, and where
the next page is. Pure (works on a response already received); the registry's text is untrusted:
a page must be the JSON object the distribution spec describes, and the next page must be on the
registry's own origin (credentials go nowhere else)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import requests

from kfws.errors import RegistryError

MAX_TAG_LENGTH = 128  # the distribution spec's limit on a tag


def tag_page(body: bytes, host: str, what: str) -> list[str]:
    """The `tags` of one page (null or absent: none)."""
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        doc = None
    tags = doc.get("tags") if isinstance(doc, dict) else "?"
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(
        isinstance(t, str) and 0 < len(t) <= MAX_TAG_LENGTH for t in tags
    ):
        raise RegistryError(
            f"registry {host} sent {what} in a form kfws does not understand",
            where=f"registry {host}",
            hint="is this an OCI distribution (v2) registry?",
        )
    return list(tags)


def next_page(r: requests.Response, host: str, what: str, own: str) -> str | None:
    """The path (with query) of the next page from the `Link: <…>; rel="next"` header, None
    on the last page. `own`: the registry's host:port as kfws talks to it; a link to any other
    is refused, not followed."""
    url = (r.links.get("next") or {}).get("url")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc.lower() != own.lower():
        raise RegistryError(
            f"registry {host} pointed the next page of {what} at another host; kfws does not "
            "follow it",
            where=f"registry {host}",
        )
    if not parts.path.startswith("/v2/"):
        raise RegistryError(
            f"registry {host} sent a next-page link for {what} outside its API",
            where=f"registry {host}",
        )
    return parts.path + (f"?{parts.query}" if parts.query else "")
