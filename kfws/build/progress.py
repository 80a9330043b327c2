"""Reading buildctl's plain progress output. Pure.

Lines look like `#7 [2/4] RUN pip install ...`, `#7 0.512 <the step's own output>`,
`#7 DONE 3.1s`, `#9 exporting to image`, and at the end `error: failed to solve: ...`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_VERTEX = re.compile(r"^#(\d+) (\S.*)$")
_STEP_START = re.compile(r"^(\[(?!internal\]|auth\])[^\]]*\] |exporting |importing |pushing )")
_ERROR = re.compile(r"^(?:error|ERROR): (.+)$")


class StepTracker:
    """Which lines are worth a progress line: the first line of each build step (not
    BuildKit's internal ones)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def step(self, line: str) -> str | None:
        m = _VERTEX.match(line)
        if not m or m.group(1) in self._seen:
            return None
        text = m.group(2)
        if not _STEP_START.match(text):
            return None
        self._seen.add(m.group(1))
        return text


def failure(lines: Iterable[str]) -> str:
    """The reason buildctl gave for a failed build (its last `error:` line)."""
    last = ""
    for line in lines:
        m = _ERROR.match(line.strip())
        if m:
            last = m.group(1)
    return last or "buildctl failed without saying why"


# What a registry answers when one upload of a push went wrong in transit or raced another
# upload of the same blob (distribution's DIGEST_INVALID, BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN;
# containerd's own commit check). `docker push` retries such a layer up to 5 times; BuildKit's
# pusher does not retry at all, so one refused blob fails the whole build.
_PUSH_REFUSALS = (
    "provided digest did not match uploaded content",
    "blob unknown to registry",
    "blob upload unknown to registry",
    "unexpected commit digest",
)


def push_refused(lines: Iterable[str]) -> str | None:
    """The registry's refusal, when a build failed only at pushing a blob (so pushing again can
    succeed and the build steps come from BuildKit's cache); None for any other failure. The
    registry's own words follow buildctl's last `error:` line (`... failed to push REF: errors:`
    then one line per refusal)."""
    after_error: list[str] = []
    for line in lines:
        m = _ERROR.match(line.strip())
        if m:
            after_error = [m.group(1)]
        elif after_error:
            after_error.append(line.strip())
    if not after_error or not after_error[0].startswith("failed to solve: failed to push "):
        return None
    text = "\n".join(after_error)
    for refusal in _PUSH_REFUSALS:
        if refusal in text:
            return refusal
    return None


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with every secret value replaced: a RUN step that prints one (by mistake or on
    purpose) must not put it into the log or onto the terminal."""
    for value in values:
        if value:
            text = text.replace(value, "***")
    return text
