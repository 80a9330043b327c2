"""The WorkspaceKind target's pure planner: (what the file declares for a kind, what the kind
holds) -> the value changes, and the values kfws applies. No I/O, no clock.

Upstream's validating webhook refuses to remove a value Workspaces use, to change the `spec`
(image, pull policy, ports) of one, a redirect to a value that doesn't exist or that closes a
cycle, and a default that is not a value. There is no webhook in the local environment, and a
refused apply is a failed apply: so this planner never plans any of those.

- A declared value is claimed under its id; if that id is in use with another spec, under
  `<id>-<8 hex of the spec>` instead (a new id), and the old value is retired.
- A value kfws applied before (its field manager owns fields of it) that the file no longer
  claims is dropped: removed when unused and kfws alone manages it (server-side apply removes
  what only kfws owns), otherwise retired: hidden and redirected to its successor.
- The successor of a retired value: the declared value naming it in `replaces`, else the one that
  took over its id, else where kfws already redirected it, else the default.
- Values kfws never managed are left alone, unless the file claims their id.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from kfws.errors import KfwsError
from kfws.targets.workspacekind.model import (
    DEFAULT_PORT,
    FIELD_MANAGER,
    DeclaredImage,
    ImageValue,
    KindSpec,
    KindState,
    LiveValue,
    Port,
    Redirect,
)

SUFFIX = re.compile(r"-[0-9a-f]{8}$")


class Action(Enum):
    ADD = "add"
    CHANGE = "change"
    RETIRE = "retire"  # hide + redirect: in use (or managed by others too), so it stays
    REMOVE = "remove"


@dataclass(frozen=True)
class ValueChange:
    id: str
    action: Action
    usage: int
    reason: str
    fields: tuple[tuple[str, object, object], ...] = ()  # (field, before, after)


@dataclass(frozen=True)
class KindPlan:
    name: str
    changes: tuple[ValueChange, ...]
    owned: tuple[ImageValue, ...]  # every value kfws applies (server-side apply: all of them)
    default: str | None  # the default kfws writes; None: not kfws's to write
    default_before: str | None

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or (
            self.default is not None and self.default != self.default_before
        )


def derived_id(base: str, value: ImageValue) -> str:
    digest = hashlib.sha256(json.dumps(value.spec_key).encode()).hexdigest()[:8]
    return f"{base}-{digest}"


def _fail(message: str, where: str, hint: str | None = None) -> KfwsError:
    return KfwsError(message, where=where or "workspaceKinds", hint=hint)


def _desired(d: DeclaredImage, kind: KindState, refs: Mapping[str, str]) -> ImageValue:
    where = d.location or f"workspaceKinds.{kind.name}"
    ports = d.ports
    if ports is None:
        if len(kind.port_ids) != 1:
            raise _fail(
                f"image value {d.id!r}: the kind {kind.name!r} has ports "
                f"{', '.join(kind.port_ids) or '(none)'}: say which this image listens on",
                where,
                "add `ports: [{id: <port id>, port: 8888}]` to the image",
            )
        ports = (Port(kind.port_ids[0], DEFAULT_PORT),)
    for p in ports:
        if p.id not in kind.port_ids:
            raise _fail(
                f"image value {d.id!r}: port id {p.id!r} is not one of the kind {kind.name!r}'s "
                f"ports ({', '.join(kind.port_ids) or 'none'})",
                where,
                "use an id of the kind's spec.podTemplate.ports",
            )
    return ImageValue(
        id=d.id,
        display_name=d.display_name or d.id,
        image=refs.get(d.image, d.image),
        pull_policy=d.pull_policy,
        ports=ports,
        description=d.description,
        labels=d.labels,
        hidden=d.hidden,
    )


def _claim(d: DeclaredImage, want: ImageValue, kind: KindState) -> str:
    """The id the declared value lives under (see the module's docstring)."""
    derived = derived_id(d.id, want)
    live, moved = kind.value(d.id), kind.value(derived)
    if live is not None and live.value.spec_key == want.spec_key:
        return d.id
    if moved is not None:
        if moved.value.spec_key != want.spec_key:
            raise _fail(f"the kind already has a value {derived!r} with another image", d.location)
        return derived
    if live is None or live.usage == 0:
        return d.id
    return derived


def _inherit(want: ImageValue, live: LiveValue | None) -> ImageValue:
    """A value other managers also manage keeps what they set and the file leaves out (kfws
    can't remove their fields, and planning it would show a change forever)."""
    if live is None or not live.others:
        return want
    lv = live.value
    return replace(
        want,
        description=want.description if want.description is not None else lv.description,
        labels=want.labels or lv.labels,
        redirect=want.redirect or lv.redirect,
    )


def _diff(before: ImageValue | None, after: ImageValue) -> tuple[tuple[str, object, object], ...]:
    a = after.fields()
    if before is None:  # a new value: what it sets
        return tuple((k, None, v) for k, v in a.items() if v not in (None, {}, []))
    b = before.fields()
    return tuple((k, b[k], a[k]) for k in a if a[k] != b[k])


def plan_kind(decl: KindSpec, kind: KindState, refs: Mapping[str, str]) -> KindPlan:
    """Raises KfwsError (naming the workspace file's line) for what upstream would refuse."""
    claimed: dict[str, tuple[DeclaredImage, ImageValue]] = {}
    rid_of: dict[str, str] = {}  # declared id -> the id it lives under
    successor: dict[str, str] = {}  # retired id -> the claimed id that replaces it
    for d in decl.images:
        want = _desired(d, kind, refs)
        rid = _claim(d, want, kind)
        if rid in claimed:
            raise _fail(f"two image values resolve to the id {rid!r}", d.location)
        claimed[rid] = (d, replace(want, id=rid))
        rid_of[d.id] = rid
        if rid != d.id:
            successor[d.id] = rid
    for rid, (d, _) in claimed.items():
        for lv in kind.values:  # earlier successors of the same id (`<id>-<hex>`)
            base = SUFFIX.sub("", lv.value.id)
            if base == d.id and lv.value.id not in claimed and lv.kfws_owned:
                successor.setdefault(lv.value.id, rid)
        for old in d.replaces:
            if old in claimed:
                raise _fail(f"{d.id!r} replaces {old!r}, which the file still declares", d.location)
            successor[old] = rid

    def resolve(vid: str) -> str:
        return rid_of.get(vid, vid)

    # retire or remove what kfws managed and no longer claims, and what the file took over
    leaving = [
        lv
        for lv in kind.values
        if lv.value.id not in claimed and (lv.kfws_owned or lv.value.id in successor)
    ]
    leaving_ids = {lv.value.id for lv in leaving}
    default = resolve(decl.default) if decl.default is not None else None
    live_ids = {lv.value.id for lv in kind.values}
    if default is not None and default not in claimed and default not in live_ids - leaving_ids:
        raise _fail(
            f"the default {decl.default!r} is not a value of the kind {kind.name!r}",
            decl.location,
            "name an id of `images`, or of a value the kind keeps",
        )
    fallback = default or (kind.default if kind.default not in leaving_ids else None)
    fallback = fallback or next((r for r, (_, v) in claimed.items() if not v.hidden), None)
    by_id = {lv.value.id: lv for lv in kind.values}

    def successor_of(lv: LiveValue) -> str | None:
        named = successor.get(lv.value.id)
        if named:
            return named
        r = lv.value.redirect
        if r is not None and r.to not in leaving_ids and (r.to in claimed or r.to in live_ids):
            return r.to
        return fallback if fallback != lv.value.id else None

    # a value something still redirects to can't go either (the webhook checks every redirect)
    kept_redirects = {
        lv.value.redirect.to
        for lv in kind.values
        if lv.value.redirect and lv.value.id not in leaving_ids and lv.value.id not in claimed
    }
    # the kind's default leaving and not declared: it moves to the old default's successor
    write_default = default
    if write_default is None and kind.default in leaving_ids:
        write_default = successor_of(by_id[kind.default])
        if write_default is None:
            raise _fail(
                f"the kind's default {kind.default!r} leaves and has no successor",
                decl.location,
                "declare the kind's `default:`",
            )
    if write_default is None and FIELD_MANAGER in kind.default_managers:
        write_default = kind.default  # kfws owns it: leaving it out of the apply would drop it
    changes: list[ValueChange] = []
    retired: dict[str, ImageValue] = {}
    for lv in leaving:
        vid, usage = lv.value.id, lv.usage
        if usage == 0 and not lv.others and vid not in kept_redirects:
            changes.append(ValueChange(vid, Action.REMOVE, 0, "unused, and dropped from the file"))
            continue
        to = successor_of(lv)
        if to is None and usage > 0:
            raise _fail(
                f"{vid!r} is used by {usage} workspace(s) and needs a successor to redirect to",
                decl.location,
                f"add `replaces: [{vid}]` to the image that replaces it",
            )
        keep = lv.value.redirect if lv.value.redirect and lv.value.redirect.to == to else None
        text = f"{vid} is retired: Workspaces move to {to} on their next restart"
        redirect = keep or (Redirect(to, "Info", text) if to else None)
        new = replace(lv.value, hidden=True, redirect=redirect)
        retired[vid] = new
        why = (
            f"in use by {usage} workspace(s)"
            if usage
            else f"also managed by {', '.join(sorted(lv.others))}"
            if lv.others
            else "still a redirect target"
        )
        reason = f"{why}: hidden and redirected to {to}" if to else f"{why}: hidden"
        if new != lv.value:
            changes.append(ValueChange(vid, Action.RETIRE, usage, reason, _diff(lv.value, new)))

    owned: list[ImageValue] = []
    for rid, (d, want) in claimed.items():
        live = kind.value(rid)
        if d.redirect_to is not None:
            to = resolve(d.redirect_to)
            if to == rid or (to not in claimed and to not in live_ids - leaving_ids):
                raise _fail(
                    f"image value {d.id!r}: redirectTo {d.redirect_to!r} names no other value",
                    d.location,
                )
            level = (d.redirect_level or "Info") if d.redirect_text else None
            want = replace(want, redirect=Redirect(to, level, d.redirect_text))
        want = _inherit(want, live)
        owned.append(want)
        if live is None:
            taken = kind.value(d.id)
            reason = (
                f"{d.id!r} is used by {taken.usage} workspace(s) with another image, which "
                "can't change while in use: the new image gets a new id"
                if taken is not None and rid != d.id
                else "declared in the file"
            )
            changes.append(ValueChange(rid, Action.ADD, 0, reason, _diff(None, want)))
        elif want != live.value:
            changes.append(
                ValueChange(
                    rid, Action.CHANGE, live.usage, "differs from the file", _diff(live.value, want)
                )
            )
    owned.extend(retired.values())

    final = {v.id: v for v in owned} | {
        lv.value.id: lv.value
        for lv in kind.values
        if lv.value.id not in leaving_ids and lv.value.id not in claimed
    }
    _check_redirects(final, decl)
    if write_default is not None and write_default not in final:
        raise _fail(f"the default {write_default!r} would not be a value", decl.location)
    return KindPlan(kind.name, tuple(changes), tuple(owned), write_default, kind.default)


def _check_redirects(final: Mapping[str, ImageValue], decl: KindSpec) -> None:
    for vid, v in final.items():
        seen = [vid]
        while v.redirect is not None:
            to = v.redirect.to
            if to not in final:
                raise _fail(
                    f"{seen[-1]!r} would redirect to {to!r}, which is no value", decl.location
                )
            if to in seen:
                chain = " -> ".join([*seen[seen.index(to) :], to])
                raise _fail(f"the redirects would form a cycle: {chain}", decl.location)
            seen.append(to)
            v = final[to]
