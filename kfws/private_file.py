"""Writing one of kfws's own state files (the contract-check cache, the image-config cache): in
a 0700 folder, mode 0600, written whole and renamed over the old one, so a crash or a parallel
kfws never leaves half a file and no other user can read or plant one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """`text` (plus a final newline) into `path`, atomically; its folder made 0700 first."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
