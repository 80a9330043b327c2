"""What kfws keeps of a kind before it writes (pure): the values it managed and the default if it
was kfws's, as JSON; and the workspace declaration that restores them (`kfws rollback` plans it
like any declaration, so a rollback never does what the webhook would refuse: a value added
since and now in use is hidden and redirected, not removed)."""

from __future__ import annotations

import json
from typing import Any

from kfws.errors import KfwsError
from kfws.targets.workspacekind.model import (
    FIELD_MANAGER,
    DeclaredImage,
    KindSpec,
    KindState,
    MalformedValue,
    value_from_api,
)

FORMAT = 1


def backup_name(kind: str) -> str:
    """The name backups.push_backup gets: the ConfigMap is kfws-backup-workspacekind-<kind>."""
    return f"workspacekind-{kind}"


def payload(kind: KindState) -> str:
    owned = [v.value.to_api() for v in kind.values if v.kfws_owned]
    mine = FIELD_MANAGER in kind.default_managers
    return json.dumps(
        {
            "format": FORMAT,
            "workspaceKind": kind.name,
            "resourceVersion": kind.resource_version,
            "default": kind.default if mine else None,
            "values": owned,
        },
        sort_keys=True,
        indent=1,
    )


def subject(text: str) -> str | None:
    """What a kept text is a backup of, "WorkspaceKind NAME", when it is a payload() (prune
    names it so); None for anything else. The name is the kept text's: renderers sanitise it."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    name = data.get("workspaceKind")
    return f"WorkspaceKind {name}" if isinstance(name, str) and name else None


def declaration(text: str, where: str) -> KindSpec:
    """The KindSpec that brings kfws's values back to the kept ones. The kept text is read as
    hostile: anything unexpected is refused, naming the backup."""
    try:
        data: Any = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a kfws WorkspaceKind backup")
        values = [value_from_api(v) for v in data.get("values") or []]
        name, default = data.get("workspaceKind"), data.get("default")
        if not isinstance(name, str) or not (default is None or isinstance(default, str)):
            raise ValueError("no kind name")
    except (ValueError, MalformedValue) as e:
        raise KfwsError(
            f"the kept version can't be read: {e}", where=where, hint="pick another (--to N)"
        ) from None
    images = tuple(
        DeclaredImage(
            id=v.id,
            image=v.image,
            display_name=v.display_name,
            description=v.description,
            labels=v.labels,
            hidden=v.hidden,
            pull_policy=v.pull_policy,
            ports=v.ports,
            redirect_to=v.redirect.to if v.redirect else None,
            redirect_level=v.redirect.level if v.redirect else None,
            redirect_text=v.redirect.text if v.redirect else None,
            location=where,
        )
        for v in values
    )
    return KindSpec(name, images, default, where)
