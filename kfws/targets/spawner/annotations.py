"""What kfws records on the spawner ConfigMap when it writes it, and how those records are read
back (by the planner, drift and rollback). Every record is hostile input: anyone with write
access can edit it, so anything but the exact shape reads as no record."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

ANN_HASH = "kfws.dev/applied-hash"  # "sha256:…" of the whole text kfws wrote
ANN_OWNED = "kfws.dev/applied-owned"  # the owned lists and flags as applied (JSON)
ANN_AT = "kfws.dev/applied-at"
ANN_BY = "kfws.dev/applied-by"
ANN_DIGESTS = "kfws.dev/applied-digests"  # option ref -> digest when applied (a moved tag)
# What kfws put into each group's options itself: {"image": [ref, ...], ...}. It bounds what
# `merge` may remove (kfws.targets.spawner.plan).
ANN_ADDED = "kfws.dev/applied-added"
POD_ANN_HASH = "kfws.dev/config-hash"  # on the web app's pod template: the text it reloaded for
POD_ANN_RESTARTED = "kfws.dev/restarted-at"


def applied_digests(annotations: Mapping[str, str]) -> dict[str, str]:
    """The digests kfws recorded on the ConfigMap at its last apply (anything but a JSON object
    of strings reads as nothing recorded)."""
    try:
        data = json.loads(annotations.get(ANN_DIGESTS) or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def owned_annotation(annotations: Mapping[str, str]) -> dict[str, Any] | None:
    """What kfws recorded as applied on a ConfigMap (for drift), or None."""
    raw = annotations.get(ANN_OWNED)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
