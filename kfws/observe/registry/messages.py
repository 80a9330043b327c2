"""The user-facing errors of the registry adapter: each names the registry, the image and the fix.

Built from a response or an exception, never from credentials. Kept apart from the transport so
the wording of every failure is in one place."""

from __future__ import annotations

import re

import requests

from kfws.errors import RegistryError
from kfws.observe.registry.endpoint import Endpoint


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
    return f" ({text[:200]})" if text else ""


def unexpected(host: str, what: str, r: requests.Response, doing: str) -> RegistryError:
    detail = error_detail(r)
    r.close()
    return RegistryError(
        f"registry {host} answered {r.status_code} {r.reason} {doing} for {what}{detail}",
        where=f"registry {host}",
        hint="check the image reference; is this an OCI distribution (v2) registry?",
    )


def unknown_schema(host: str, what: str, media_type: str) -> RegistryError:
    return RegistryError(
        f"{what} has a manifest kfws does not understand ({media_type or 'no media type'})",
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


def connection_reason(e: Exception) -> str:
    text = str(e)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "NameResolution" in text or "nodename" in text:
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
        f"registry {reg.host} answered {status} {r.reason} ({attempts} attempts) for "
        f"{what}{detail}",
        where=f"registry {reg.host}",
        hint="the registry is failing; try again later or ask its operators",
    )
