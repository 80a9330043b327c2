"""One base exception for every expected, user-facing failure, with a subclass per layer.

The CLI prints a KfwsError as one clean message (what went wrong, where, and what to do) and
never a traceback; anything else is a bug and exits 3.
"""

from __future__ import annotations


class KfwsError(Exception):
    """An expected failure the user can fix. `where` names the file:line, registry, image,
    ConfigMap or verb at fault; `hint` says what to do about it."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def render(self) -> str:
        head = self.message
        # a message that already names its subject (`registry X requires…`) isn't prefixed again
        if self.where and self.where not in self.message.split("\n", 1)[0]:
            head = f"{self.where}: {self.message}"
        return f"{head}\n  hint: {self.hint}" if self.hint else head


class SpecError(KfwsError):
    """workspace.yaml is unreadable or invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: list[tuple[str, str]], *, hint: str | None = None) -> None:
        # problems: (location "file:line:col", message), already sorted by location
        self.problems = problems
        lines = [f"{where}: {msg}" for where, msg in problems]
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the workspace file:\n  "
            + "\n  ".join(lines),
            hint=hint,
        )


class RegistryError(KfwsError):
    """A registry could not be asked (auth, TLS, 5xx, timeout): never taken as 'image missing'."""


class EngineError(KfwsError):
    """The Docker Engine could not be reached, or a build or push failed."""


class ClusterError(KfwsError):
    """The Kubernetes API refused or could not answer, or the target objects are ambiguous."""


class PlanError(KfwsError):
    """A saved plan is unreadable, of another format version, or stale."""


class StalePlanError(PlanError):
    """What the plan was computed from has changed since; nothing was touched."""


class ApplyError(KfwsError):
    """An apply failed part-way; the message says what state the cluster was left in."""
