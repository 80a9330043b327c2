"""Bounded reads of registry answers: a registry is untrusted, so no body it sends is read
whole. Each kind of answer has its own cap; past it kfws stops reading, drops the connection and
fails naming the registry, the repository and what to do (never a memory blow-up).

The transport asks requests to stream (`stream=True`) and every response it hands out has gone
through `load()`, which reads at most the cap and keeps what it read as the response's content,
so `r.content` / `r.json()` downstream only ever see the bounded bytes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import requests

from kfws.errors import RegistryError

MiB = 1 << 20
CHUNK = 64 * 1024  # bytes asked of the socket per read (decoded chunks may be somewhat larger)
ERROR_BODY_LIMIT = 64 * 1024  # a non-2xx body is only mined for a message: cut, never fatal


@dataclass(frozen=True)
class Limit:
    """The cap on one kind of registry answer, and what to tell the user past it."""

    kind: str  # "manifest", "image config", ... as the error message names it
    size: int  # bytes (after content decoding)
    hint: str


MANIFEST = Limit(
    "manifest",
    4 * MiB,  # the distribution spec: registries SHOULD accept manifests of at least 4 MiB
    "a manifest or index over 4 MiB (the distribution spec's limit) is not an image kfws can "
    "use: check the reference names an image and that the registry is the one you mean",
)
CONFIG = Limit(
    "image config",
    8 * MiB,
    "an image config this big is not one BuildKit or Docker writes: check the reference, or "
    "rebuild the image",
)
TAG_PAGE = Limit(
    "tag-list page",
    8 * MiB,
    "the registry ignored the page size kfws asked for (`n=`); ask its operators to paginate "
    "tag lists, or delete stale tags with the registry's own tools",
)
TOKEN = Limit(
    "token answer",
    1 * MiB,
    "the registry's token service is misbehaving; check the realm in its WWW-Authenticate "
    "challenge points at the right service",
)
EMPTY = Limit(
    "answer",
    ERROR_BODY_LIMIT,
    "the registry sent a body where none was expected; ask its operators",
)


def read_capped(chunks: Iterable[bytes], cap: int) -> tuple[bytes, bool]:
    """At most `cap` bytes of `chunks`, and whether there was more (stops reading at the first
    chunk past the cap: the rest is never asked for)."""
    parts: list[bytes] = []
    total = 0
    for chunk in chunks:
        if total + len(chunk) > cap:
            parts.append(chunk[: cap - total])
            return b"".join(parts), True
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts), False


def too_big(limit: Limit, host: str, what: str, declared: int | None = None) -> RegistryError:
    said = f" (it announced {declared:,} bytes)" if declared is not None else ""
    return RegistryError(
        f"registry {host} sent a {limit.kind} larger than {_size(limit.size)} for {what}{said}; "
        f"kfws stopped reading it",
        where=f"registry {host}",
        hint=limit.hint,
    )


def load(r: requests.Response, limit: Limit, host: str, what: str) -> requests.Response:
    """Read the body of a streamed response, bounded: a 2xx body up to `limit` (past it: close
    the connection and raise), any other body up to ERROR_BODY_LIMIT (past it: cut, since it
    only feeds an error message). Returns `r` with the bytes as its content."""
    ok = 200 <= r.status_code < 300
    if ok and r.request is not None and r.request.method != "HEAD":
        declared = r.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit.size:
            r.close()
            raise too_big(limit, host, what, int(declared))
    cap = limit.size if ok else ERROR_BODY_LIMIT
    try:
        body, more = read_capped(r.iter_content(CHUNK), cap)
    except requests.exceptions.RequestException as e:
        r.close()
        raise RegistryError(
            f"registry {host} broke off its answer for {what} ({type(e).__name__})",
            where=f"registry {host}",
            hint="try again; if it keeps failing, ask the registry's operators",
        ) from None
    if more:
        r.close()  # the rest stays unread: the connection can't be reused
        if ok:
            raise too_big(limit, host, what)
    # where requests keeps a body it has read: r.content / r.json() then return these bytes and
    # never touch the socket again (a read to the end has already marked the stream consumed,
    # so r.close() hands the connection back to the pool)
    r._content = body
    return r


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n % MiB == 0 else f"{n // 1024} KiB"
