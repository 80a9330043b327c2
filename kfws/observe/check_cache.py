"""The remembered passes of the contract check: one small JSON file in the user's state folder.

A pass is keyed by the image's content digest and the check's kind and version, so an unchanged
image is never checked twice and any change to the image (a new digest) is checked again. The
folder is 0700 and the file 0600 (it names private registries). The file is hostile input like
any other: anything malformed counts as "nothing remembered", never as a pass, never a crash.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from kfws.private_file import write_private

FILE_VERSION = 1
MAX_ENTRIES = 5000  # oldest dropped first: the file stays small however long it is used


def default_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kfws" / "checks.json"


class CheckCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()  # checks run in parallel and record as they pass

    def passed(self) -> frozenset[str]:
        return frozenset(self._read())

    def record(self, keys: list[str], reference: str) -> None:
        with self._lock:
            entries = self._read()
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for key in keys:
                entries.pop(key, None)
                entries[key] = {"reference": reference, "at": now}
            while len(entries) > MAX_ENTRIES:
                entries.pop(next(iter(entries)))
            self._write(entries)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != FILE_VERSION:
            return {}
        passed = data.get("passed")
        if not isinstance(passed, dict):
            return {}
        return {
            k: {"reference": str(v.get("reference", "")), "at": str(v.get("at", ""))}
            for k, v in passed.items()
            if isinstance(k, str) and isinstance(v, dict)
        }

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        write_private(self.path, json.dumps({"version": FILE_VERSION, "passed": entries}, indent=1))
