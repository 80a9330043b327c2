"""What kfws read from image configs, remembered between runs: one small JSON file in the user's
cache folder, so `kfws prune` reads each config blob once per machine, not once per run.

A config is named by its digest, and a digest names one content forever: an entry never goes
stale, whatever happens to tags. Only what prune weighs is kept (labels, creation time,
platform), never the blob itself (a config's env and history may hold what should not be
copied around). What is still read every run: the tag list and each tag's manifest (which
config a tag points at now, its digest, its blobs); only the config behind a digest the manifest
names comes from here.

The file is hostile input like any other: anything malformed counts as "nothing remembered" (the
config is read from the registry), never as a fact. It is only as trusted as the user's own
files (0700 folder, 0600 file): whoever can write it can already read the user's registry
credentials. A file that cannot be written only costs the next run time, never the run."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfws.observe.registry.facts import ImageConfig
from kfws.observe.registry.manifests import DIGEST_RE
from kfws.private_file import write_private

FILE_VERSION = 1
MAX_ENTRIES = 20_000  # oldest dropped first: the file stays a few MB however long it is used
MAX_ENTRY_CHARS = 8192  # an image with more label text than this is read every time
# as facts.image_config bounds them: `created` up to 64 characters, `platform` three parts of 64
MAX_CREATED_CHARS = 64
MAX_PLATFORM_CHARS = 3 * 64 + 2


def default_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kfws" / "image-configs.json"


class ConfigCache:
    """Thread-safe: prune reads tags in parallel. Loaded on first use, written by save()."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()
        self._entries: dict[str, ImageConfig] | None = None
        self._dirty = False  # something was added since the file was read

    def get(self, digest: str) -> ImageConfig | None:
        with self._lock:
            return self._loaded().get(digest)

    def put(self, digest: str, config: ImageConfig) -> None:
        """Remember a config read (and verified against `digest`) from a registry."""
        if not DIGEST_RE.match(digest) or _size(config) > MAX_ENTRY_CHARS:
            return
        with self._lock:
            entries = self._loaded()
            if digest not in entries:
                entries[digest] = config
                self._dirty = True

    def save(self) -> None:
        """Write what was added since loading (nothing added: nothing written). Two kfws at once
        may each drop the other's additions: they are read again next time, nothing worse."""
        with self._lock:
            if not self._dirty or self._entries is None:
                return
            entries = list(self._entries.items())[-MAX_ENTRIES:]
            try:
                self._write({d: _encode(c) for d, c in entries})
            except OSError:
                return  # a cache that cannot be written only costs time
            self._dirty = False  # something was added since the file was read

    def _loaded(self) -> dict[str, ImageConfig]:
        if self._entries is None:
            self._entries = _read(self.path)
        return self._entries

    def _write(self, entries: Mapping[str, dict[str, Any]]) -> None:
        write_private(
            self.path,
            json.dumps({"version": FILE_VERSION, "configs": entries}, separators=(",", ":")),
        )


def _encode(config: ImageConfig) -> dict[str, Any]:
    return {"labels": dict(config.labels), "created": config.created, "platform": config.platform}


def _read(path: Path) -> dict[str, ImageConfig]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != FILE_VERSION:
        return {}
    configs = data.get("configs")
    if not isinstance(configs, dict):
        return {}
    out: dict[str, ImageConfig] = {}
    for digest, entry in configs.items():
        config = _decode(entry)
        if isinstance(digest, str) and DIGEST_RE.match(digest) and config is not None:
            out[digest] = config
    return out


def _decode(entry: object) -> ImageConfig | None:
    """An entry as written by save(), or None for anything else."""
    if not isinstance(entry, dict) or set(entry) != {"labels", "created", "platform"}:
        return None
    labels, created, platform = entry["labels"], entry["created"], entry["platform"]
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        return None
    for value, limit in ((created, MAX_CREATED_CHARS), (platform, MAX_PLATFORM_CHARS)):
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            return None
    config = ImageConfig(dict(labels), created, platform)
    return config if _size(config) <= MAX_ENTRY_CHARS else None


def _size(config: ImageConfig) -> int:
    return len(json.dumps(_encode(config), separators=(",", ":")))
