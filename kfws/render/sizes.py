"""Size entries (kfws.plan.sizes) as words (pure): "1.92 GB, +312 MB (replaces …:v1, 1.61 GB)".

Decimal units, as `docker images` and registries' UIs show them. A saved plan is a file anyone
can edit: an entry that is not the planner's shape reads "size unknown", never a traceback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfws.plan.model import Change, ClusterKind

_UNITS = ("B", "kB", "MB", "GB", "TB")


def human(n: int) -> str:
    """Bytes in decimal units, three significant digits: 512 B, 4.1 kB, 312 MB, 1.92 GB."""
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            return f"{value:.{digits}f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def delta(new: int, old: int) -> str:
    d = new - old
    return "±0 B" if d == 0 else ("+" if d > 0 else "-") + human(abs(d))


def _int(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def size_words(entry: object) -> str:
    """One entry in words."""
    if not isinstance(entry, Mapping):
        return "size unknown"
    new, old = _int(entry.get("bytes")), _int(entry.get("replacesBytes"))
    source = entry.get("source")
    replaces = entry.get("replaces")
    if new is not None and source == "registry":
        words = human(new) + (f", {delta(new, old)}" if old is not None else "")
    elif new is not None and source == "engine":
        words = f"{human(new)} uncompressed (local build; compressed size known after push)"
    elif source == "pending":
        words = "size known after build"
    else:
        words = "size unknown"
    if isinstance(replaces, str):
        was = human(old) if old is not None else "size unknown"
        words += f" (replaces {replaces}, {was})"
    return words


def change_size(change: Change) -> str | None:
    """An image change's size in words; None for other changes or a plan without sizes."""
    if not change.kind.is_image or "size" not in change.details:
        return None
    return size_words(change.details["size"])


def offered_sizes(change: Change) -> list[tuple[str, Mapping[str, Any]]]:
    """[(image, entry)] for a cluster change's offered images (kfws.plan.sizes), in plan order."""
    rows = change.details.get("sizes") if isinstance(change.kind, ClusterKind) else None
    if not isinstance(rows, list):
        return []
    return [(str(r.get("image")), r) for r in rows if isinstance(r, Mapping)]


def why_lines(change: Change) -> list[str]:
    """An image change's reasons (kfws.plan.why), as given; nothing that is not a string list."""
    why = change.details.get("why") if change.kind.is_image else None
    return [str(w) for w in why] if isinstance(why, list) else []
