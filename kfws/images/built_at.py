"""When kfws built an image: its own label, because the image config's `created` can't say.

BuildKit writes no `created` of its own: its image exporter copies the time of the config's last
history entry, a metadata-only step (ENV, LABEL, USER, ...) takes the time of the layer before it,
and a layer from the cache keeps the time of the build that first made it. Two releases that
differ only in an ENV line after a cached RUN therefore carry the same `created`, to the
nanosecond (reproduced with buildkitd v0.34; the Docker Engine's legacy builder stamps each step
it runs, so it does not show this). A build with SOURCE_DATE_EPOCH has a fixed `created` on
purpose. So kfws stamps `dev.kfws.built-at` (UTC, microseconds) on every image it builds, when
the build starts, and orders its builds by that: prune's "newest N", the last image kfws built
(kfws.observe.last_built). Images built before the label existed fall back to `created`.

The label is set only on the build request (kfws.apply.images): it is not part of the input
document (kfws.images.digest), so content tags and the input digest do not change, and nothing
that compares kfws's labels (the plan's "why" reads dev.kfws.inputs; a rebuild is decided on
dev.kfws.input-digest) looks at it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

BUILT_AT_LABEL = "dev.kfws.built-at"

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$")


def stamp(now: datetime | None = None) -> str:
    """The label's value: RFC 3339 in UTC with microseconds ("2026-12-07T00:35:46.188199Z")."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time as an aware UTC datetime; None when absent or odd (registries are
    untrusted; BuildKit and dockerd write nanoseconds, which datetime.fromisoformat does not
    take: the fraction is cut to microseconds)."""
    m = _RFC3339.match(text or "")
    if m is None:
        return None
    day, time, fraction, zone = m.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        return datetime.fromisoformat(f"{day}T{time}.{micro}{zone}").astimezone(UTC)
    except ValueError:
        return None


def built_time(labels: Mapping[str, str], created: str | None) -> datetime | None:
    """When the image was built: kfws's label when it holds a time, else the config's
    `created` (images built before the label; a label that does not parse counts as absent)."""
    return parse_time(labels.get(BUILT_AT_LABEL)) or parse_time(created)


_OLDEST = datetime.min.replace(tzinfo=UTC)


def newest_first_key(
    labels: Mapping[str, str], created: str | None, tag: str
) -> tuple[bool, datetime, str]:
    """Sort key, with reverse=True: the newest build first; equal times by tag (higher first,
    so the order is the same on every run); an image with no readable time after every dated
    one."""
    when = built_time(labels, created)
    return (when is not None, when or _OLDEST, tag)
