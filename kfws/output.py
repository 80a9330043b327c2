"""The one writer to the terminal. Everything the CLI prints goes through here so tests can
capture it and colour is decided in one place (only on a terminal, never with NO_COLOR).

Text is neutralised here (kfws.sanitize.terminal: no escape sequences, no bidi overrides from a
registry error body or a ConfigMap) unless the caller passes `raw=True`, which only the
renderers' output does: they sanitise each outside field themselves and add colour after."""

from __future__ import annotations

import os
import sys
from typing import Protocol, TextIO

from kfws.sanitize import terminal

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def paint(text: str, colour: str, *, enabled: bool) -> str:
    if not enabled or colour not in _COLOURS:
        return text
    return f"\033[{_COLOURS[colour]}m{text}\033[0m"


def out(text: str = "", *, end: str = "\n", raw: bool = False) -> None:
    sys.stdout.write((text if raw else terminal(text)) + end)
    sys.stdout.flush()


def err(text: str = "", *, end: str = "\n", raw: bool = False) -> None:
    sys.stderr.write((text if raw else terminal(text)) + end)
    sys.stderr.flush()


def warn(text: str) -> None:
    err(paint("warning: ", "yellow", enabled=use_colour(sys.stderr)) + terminal(text), raw=True)


def error(text: str) -> None:
    err(paint("error: ", "red", enabled=use_colour(sys.stderr)) + terminal(text), raw=True)


def progress(text: str) -> None:
    """Progress of long steps (builds, pushes, rollouts): on stderr, so stdout stays parseable.
    Build output passes through here too: its colour codes are dropped, not replayed."""
    err(paint(terminal(text), "dim", enabled=use_colour(sys.stderr)), raw=True)


class Reporter(Protocol):
    """Where observe and apply code sends progress and warnings: passed in, never imported by
    them. This module satisfies it (`reporter=output`); tests pass a recorder."""

    def progress(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def err(self, text: str) -> None: ...  # a plain line on stderr (what was left, and where)
