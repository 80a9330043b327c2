"""The user-facing errors of the registry adapter: each names the registry, the image and the fix.

Built from a response or an exception, never from credentials. Kept apart from the transport so
the wording of every failure is in one place."""

from __future__ import annotations

import re
import socket

import requests

from kfws.errors import RegistryError
from kfws.observe.registry.endpoint import Endpoint
from kfws.sanitize import one_line

DETAIL_LIMIT = 200  # characters of a registry's own error text shown to the user


def shown(text: str, limit: int = DETAIL_LIMIT) -> str:
    """Text a registry sent, made safe to print (kfws.sanitize.one_line: escape sequences,
    CR, NUL, bidi overrides become visible escapes, so an error body can't move the cursor,
    recolour the terminal or fake a line of kfws output), and cut to `limit` characters."""
    out = one_line(text[: limit * 2], keep_sequences=True)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def error_codes(r: requests.Response) -> set[str]:
    """The `errors[].code` values of a distribution API error body (empty when it has none)."""
    try:
        doc = r.json()
        return {str(e.get("code")) for e in doc.get("errors") or [] if isinstance(e, dict)}
    except (ValueError, AttributeError):
        return set()


def error_detail(r: requests.Response) -> str:
    try:
        doc = r.json()
        errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    except (ValueError, AttributeError):
        return ""
    text = "; ".join(
        f"{e.get('code')}: {e.get('message')}" if e.get("message") else str(e.get("code"))
        for e in errors
    )
    return f" ({shown(text)})" if text else ""


def unexpected(host: str, what: str, r: requests.Response, doing: str) -> RegistryError:
    detail = error_detail(r)
    r.close()
    return RegistryError(
        f"registry {host} answered {r.status_code} {shown(r.reason or '', 60)} {doing} for "
        f"{what}{detail}",
        where=f"registry {host}",
        hint="check the image reference; is this an OCI distribution (v2) registry?",
    )


def unknown_schema(host: str, what: str, media_type: str) -> RegistryError:
    return RegistryError(
        f"{what} has a manifest kfws does not understand "
        f"({shown(media_type, 100) or 'no media type'})",
        where=f"registry {host}",
        hint="kfws reads OCI and Docker v2 manifests and indexes; re-push the image with a "
        "current Docker or buildx",
    )


def tls_error(reg: Endpoint, what: str, e: Exception) -> RegistryError:
    text = str(e)
    m = re.search(r"certificate verify failed: ([^()'\"]+)", text)
    if m:
        reason = "certificate verify failed: " + m.group(1).strip()
    elif "wrong version number" in text or "record layer failure" in text:
        reason = "the server did not answer TLS (plain HTTP?)"
    elif "hostname" in text.lower():
        reason = "the certificate does not name this host"
    else:
        reason = "TLS handshake failed"
    ca = f" (verified with caFile {reg.verify})" if isinstance(reg.verify, str) else ""
    return RegistryError(
        f"TLS verification failed talking to registry {reg.host}{ca} for {what}: {reason}",
        where=f"registry {reg.host}",
        hint=f"set `caFile` for {reg.host} in workspace.yaml (registries:) to the CA that signed "
        "its certificate, or `insecure: true` if it serves plain HTTP",
    )


def is_dns_failure(e: BaseException) -> bool:
    """The host name did not resolve (requests wraps the resolver's gaierror several levels
    deep, so walk the chain; the text is the fallback for wrappers that drop the cause)."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, socket.gaierror):
            return True
        nested = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        reason = getattr(cur, "reason", None)
        cur = (
            cur.__cause__
            or cur.__context__
            or (reason if isinstance(reason, BaseException) else nested)
        )
    text = str(e)
    return any(s in text for s in _DNS_TEXT)


_DNS_TEXT = (
    "Name or service not known",
    "NameResolution",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "No address associated with hostname",
)


def connection_reason(e: Exception) -> str:
    text = str(e)
    if "Connection refused" in text:
        return "connection refused"
    if is_dns_failure(e):
        return "the host name does not resolve"
    if "Connection reset" in text or "RemoteDisconnected" in text or "aborted" in text:
        return "the connection was closed"
    if "No route to host" in text or "unreachable" in text:
        return "no route to host"
    return "connection failed"


def connection_error(
    reg: Endpoint, what: str, e: Exception, attempts: int, timeout: float
) -> RegistryError:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(e, requests.exceptions.Timeout):
        return RegistryError(
            f"registry {reg.host} did not answer within {timeout:g}s ({tries}) for {what}",
            where=f"registry {reg.host}",
            hint="check the network and that the registry is up",
        )
    reason = connection_reason(e)
    if is_dns_failure(e):
        return RegistryError(
            f"the host name {reg.host} does not resolve from here (for {what})",
            where=f"registry {reg.host}",
            hint=f"check the spelling of {reg.host} and this machine's DNS; if this machine cannot "
            f"reach that registry, mark it `check: false` under registry.registries in "
            "workspace.yaml, or run with --offline",
        )
    return RegistryError(
        f"cannot connect to registry {reg.host} ({reason}, {tries}) for {what}",
        where=f"registry {reg.host}",
        hint="check that the registry is running and the host and port in workspace.yaml"
        + ("" if reg.insecure else "; a plain-HTTP registry needs `insecure: true`"),
    )


def busy_error(reg: Endpoint, what: str, r: requests.Response, attempts: int) -> RegistryError:
    status = r.status_code
    detail = error_detail(r)
    r.close()
    if status == 429:
        return RegistryError(
            f"registry {reg.host} kept answering 429 Too Many Requests ({attempts} attempts) "
            f"for {what}{detail}",
            where=f"registry {reg.host}",
            hint="lower --parallelism, or wait for the rate limit to reset",
        )
    return RegistryError(
        f"registry {reg.host} answered {status} {shown(r.reason or '', 60)} "
        f"({attempts} attempts) for {what}{detail}",
        where=f"registry {reg.host}",
        hint="the registry is failing; try again later or ask its operators",
    )


def deletes_disabled(host: str, what: str) -> RegistryError:
    return RegistryError(
        f"registry {host} refuses to delete manifests (405 Method Not Allowed) for {what}",
        where=f"registry {host}",
        hint="the distribution registry allows deletes only when its configuration says so: "
        "`storage: delete: enabled: true` in its config.yml, or the environment variable "
        "REGISTRY_STORAGE_DELETE_ENABLED=true (then restart it); other registries have their "
        "own setting (Harbor: a robot account with delete rights)",
    )
