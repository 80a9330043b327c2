"""Who and when, for the records kfws leaves on a cluster (the lock's holder, backups, the
applied-at/by annotations): timestamps in the API server's formats and the local user name."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime


def now() -> datetime:
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond or 1)  # MicroTime wants the fraction


def stamp(t: datetime | None = None) -> str:
    """MicroTime (a Lease's acquire/renew times)."""
    return (t or now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def short_stamp(t: datetime | None = None) -> str:
    """RFC 3339 to the second (annotations, backup history)."""
    return (t or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or f"uid {os.getuid()}"
