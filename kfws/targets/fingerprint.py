"""Content hashes shared by the targets: what a plan's fingerprint records of a live text, what
kfws annotates as applied, and what drift compares."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def text_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def owned_hash(owned: Mapping[str, Any]) -> str:
    """The hash of the owned part (canonical JSON) as applied or as live: drift compares them."""
    return hashlib.sha256(json.dumps(owned, sort_keys=True).encode()).hexdigest()
