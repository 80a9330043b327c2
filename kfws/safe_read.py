"""Reading a file named by someone else (a saved plan, the workspace a plan names) without
hanging or filling memory: only a regular file, and only up to a size limit checked before
reading. `/dev/zero`, a FIFO, a socket or a directory are refused with a message.

The file is opened non-blocking (opening a FIFO for reading would otherwise wait for a writer)
and checked with fstat on the open descriptor, so a path swapped after the check can't slip by.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFileError(Exception):
    """The path can't be read as a bounded regular file; `reason` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bounded(path: Path, *, limit: int) -> bytes:
    """The bytes of the regular file at `path`, refused (UnsafeFileError) when it is anything
    else or larger than `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnsafeFileError("no such file") from None
    except OSError as e:
        raise UnsafeFileError(f"cannot open it: {e.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(f"it is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise UnsafeFileError(f"it is {info.st_size:,} bytes; the limit is {limit:,}")
        chunks = []
        remaining = limit + 1  # the file may grow after fstat: read at most one byte too many
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as e:
        raise UnsafeFileError(f"cannot read it: {e.strerror}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnsafeFileError(f"it is larger than the limit of {limit:,} bytes")
    return data


def check_regular(path: Path) -> None:
    """Refuses (UnsafeFileError) a path that is missing or not a regular file, without reading
    it: for files another module reads (the workspace file a saved plan names)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UnsafeFileError("no such file") from None
    except OSError as e:
        raise UnsafeFileError(f"cannot read it: {e.strerror}") from None
    if not stat.S_ISREG(mode):
        raise UnsafeFileError(f"it is {_kind(mode)}, not a regular file")
