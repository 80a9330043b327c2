"""`WWW-Authenticate` challenges (RFC 7235), parsed without trusting the header: pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class Challenge:
    """One challenge of a `WWW-Authenticate` header: scheme (lower case) and its parameters
    (names lower case)."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


def parse_www_authenticate(header: str) -> list[Challenge]:
    """RFC 7235 challenges: `Bearer realm="https://a/token",service="reg",scope="x:y:pull",
    Basic realm="r"` -> [Challenge("bearer", {...}), Challenge("basic", {...})]. Quoted values
    may hold commas and backslash escapes; a token68 is ignored; garbage is skipped."""
    challenges: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(header)
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        m = _TOKEN_RE.match(header, i)
        if not m:
            i += 1  # not a token: skip it
            continue
        name, j = m.group(0), m.end()
        k = j
        while k < n and header[k] in " \t":
            k += 1
        if k < n and header[k] == "=" and not header.startswith("=", k + 1):
            k += 1
            while k < n and header[k] in " \t":
                k += 1
            if k < n and header[k] == '"':
                value, k = _quoted(header, k)
            else:
                end = k
                while end < n and header[end] not in ", \t":
                    end += 1
                value, k = header[k:end], end
            if challenges:  # a parameter before any scheme is dropped
                challenges[-1][1][name.lower()] = value
            i = k
        elif k < n and header[k] == "=":  # token68 ("abc==")
            while k < n and header[k] not in ", \t":
                k += 1
            i = k
        else:
            challenges.append((name.lower(), {}))
            i = j
    return [Challenge(scheme, params) for scheme, params in challenges]


def _quoted(s: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: take the rest
