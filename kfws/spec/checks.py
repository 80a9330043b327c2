"""The checks a JSON Schema can't express, as small pure predicates (each returns an error
message or None) so they are testable as tables. kfws.spec.build applies them with locations.

Every pattern here is matched against the whole string (re.fullmatch): `^...$` would let a
trailing newline through, and a newline in a generated Dockerfile starts a new instruction.
"""

from __future__ import annotations

import difflib
import itertools
import posixpath
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from kfws.reference import ReferenceError, looks_like_reference, parse_reference

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# name[=version][/release]; versions may hold apt's glob (`curl=7.*`)
APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+(?:=[A-Za-z0-9.+:~*-]+)?(?:/[a-z0-9.-]+)?")
USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")

# Control characters and the invisible/bidirectional formatting characters that make text read
# differently from what it is (CVE-2021-42574 "Trojan Source"): refused in every string.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = "\u2028\u2029\ufeff"
_CONTROL_NAMES = {"\n": "newline", "\r": "carriage return", "\t": "tab", "\0": "NUL"}
_CONTROL_NAMES["\x1b"] = "escape"


def control_problem(text: str) -> str | None:
    for i, ch in enumerate(text):
        if ch in _BIDI or ch in _INVISIBLE or unicodedata.category(ch) == "Cc":
            name = _CONTROL_NAMES.get(ch) or unicodedata.name(ch, "") or "a control character"
            return (
                f"contains U+{ord(ch):04X} ({name.lower()}) at character {i + 1}; "
                "control and bidirectional-formatting characters are not allowed in the "
                "workspace file's strings"
            )
    return None


def reference_problem(text: str, managed_names: set[str]) -> str | None:
    if text in managed_names:
        return None
    if not looks_like_reference(text):
        guess = difflib.get_close_matches(text, sorted(managed_names), n=1)
        if guess:
            return f"{text!r} is not a managed image's name; did you mean {guess[0]!r}?"
        names = ", ".join(sorted(managed_names)) or "none declared"
        return (
            f"{text!r} is neither a managed image's name ({names}) nor a full image reference "
            "(registry/path:tag)"
        )
    try:
        parse_reference(text)
    except ReferenceError as e:
        return str(e)
    return None


def env_name_problem(name: str) -> str | None:
    if ENV_NAME.fullmatch(name):
        return None
    return (
        f"{name!r} is not a valid environment variable name "
        "(letters, digits, '_'; no leading digit; no '-')"
    )


def user_problem(user: str) -> str | None:
    if USER_NAME.fullmatch(user):
        return None
    return f"{user!r} is not a valid user name (lower case, digits, '_', '-'; at most 32)"


# pip options a `pip:` entry may be: the index options take a URL, the file options a path
# inside the workspace folder (copied into the build context).
PIP_URL_OPTIONS = {"--index-url": "--index-url", "-i": "--index-url"}
PIP_URL_OPTIONS["--extra-index-url"] = "--extra-index-url"
PIP_FILE_OPTIONS = {"-r": "--requirement", "--requirement": "--requirement"}
PIP_FILE_OPTIONS |= {"-c": "--constraint", "--constraint": "--constraint"}
# pip ignores a plain-HTTP index unless its host is trusted
PIP_HOST_OPTIONS = {"--trusted-host": "--trusted-host"}
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?")


def split_pip_option(entry: str) -> tuple[str, str] | None:
    """`--index-url URL`, `--index-url=URL`, `-r FILE`, ...: (canonical option, value);
    None for an entry that is not an option (a requirement)."""
    if not entry.startswith("-"):
        return None
    if "=" in entry.split(" ", 1)[0]:
        option, _, value = entry.partition("=")
    else:
        option, _, value = entry.partition(" ")
    canonical = (
        PIP_URL_OPTIONS.get(option) or PIP_FILE_OPTIONS.get(option) or PIP_HOST_OPTIONS.get(option)
    )
    return (canonical or option, value.strip())


def pip_problem(entry: str) -> str | None:
    option = split_pip_option(entry)
    if option is not None:
        name, value = option
        known = {*PIP_URL_OPTIONS.values(), *PIP_FILE_OPTIONS.values(), *PIP_HOST_OPTIONS}
        if name not in known:
            return (
                f"{entry!r}: the pip options kfws passes on are --index-url, "
                "--extra-index-url, --trusted-host, -c/--constraint FILE and "
                "-r/--requirement FILE"
            )
        if not value or any(c.isspace() for c in value):
            return f"{entry!r}: {name} takes one value without spaces"
        if name in PIP_URL_OPTIONS.values():
            return _index_url_problem(entry, value)
        if name in PIP_HOST_OPTIONS and not _HOST.fullmatch(value):
            return f"{entry!r}: --trusted-host takes a host name or host:port"
        return None  # files are checked against the workspace folder by the caller
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(entry)
    except InvalidRequirement as e:
        first = str(e).splitlines()[0]
        return f"{entry!r} is not a valid pip requirement: {first}"
    if entry != entry.strip():
        return f"{entry!r}: remove the surrounding spaces"
    return None


def _index_url_problem(entry: str, url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return f"{entry!r}: not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{entry!r}: the index must be an http(s) URL with a host"
    if "@" in parts.netloc and not secret_value_problem(url):  # that one says it already
        return (
            f"{entry!r}: credentials in an index URL would be stored in the image history and "
            "the plan; private indexes need BuildKit secret mounts, which kfws does not do yet"
        )
    return None


def apt_problem(package: str) -> str | None:
    if APT_NAME.fullmatch(package):
        return None
    return (
        f"{package!r} is not a Debian package (lower case, digits, '+', '-', '.'), optionally "
        "pinned as name=version (apt's '*' glob allowed) or name/release"
    )


# Folders are `chown -R` to the notebook user: never the system's own folders.
_SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root",
    "/run", "/sbin", "/sys", "/usr", "/var",
)  # fmt: skip
_SYSTEM_ROOTS = ("/", "/home", "/media", "/mnt", "/opt", "/srv", "/tmp")  # noqa: S108


def folder_problem(folder: str) -> str | None:
    if not folder.startswith("/") or ".." in folder.split("/") or "." in folder.split("/"):
        return f"{folder!r} must be an absolute path without '.' or '..'"
    if folder != "/" and (folder != posixpath.normpath(folder) or folder.startswith("//")):
        return f"{folder!r}: write it as {posixpath.normpath('/' + folder.lstrip('/'))!r}"
    if folder in _SYSTEM_ROOTS or any(
        folder == tree or folder.startswith(tree + "/") for tree in _SYSTEM_TREES
    ):
        return (
            f"{folder!r} is a system folder; folders are chown'ed to the notebook user, so use "
            "one under /home/<user>, /opt/<name>, /srv/<name> or a new top-level one (/data)"
        )
    return None


def inside_problem(root: Path, candidate: Path, what: str, must: str) -> str | None:
    """`candidate` must exist (`must` = "dir"/"file") and resolve (symlinks too) inside root."""
    try:
        resolved = candidate.resolve()
        resolved.relative_to(root.resolve())
        is_dir, is_file = resolved.is_dir(), resolved.is_file()
    except ValueError:
        return f"the {what} {candidate} leaves the workspace folder {root}; keep it inside"
    except OSError as e:  # a name too long, no permission...
        return f"the {what} {str(candidate)[:200]} cannot be used: {e.strerror}"
    except RuntimeError:  # Python < 3.13 reports a symlink loop so
        return f"the {what} {str(candidate)[:200]} cannot be used: a symbolic link loop"
    if must == "dir" and not is_dir:
        return f"the {what} {candidate} is not a folder"
    if must == "file" and not is_file:
        return f"the {what} {candidate} does not exist"
    return None


def is_regular_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, a loop: not a usable file
        return False


# Names are split into words (snake_case, kebab-case, camelCase) and matched word by word, so
# AUTHOR, BYPASS_PROXY and COMPASS_HOME are not taken for credentials.
_SECRET_WORDS = {
    "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "tokens",
    "credential", "credentials", "apikey", "auth", "privatekey", "accesskey", "secretkey",
}  # fmt: skip
_SECRET_SUFFIXES = ("password", "passwd", "token", "secret", "credentials", "apikey")
_KEY_QUALIFIERS = {"api", "access", "private", "secret", "ssh", "signing", "encryption", "client"}


def name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def secret_key_problem(key: str) -> str | None:
    words = name_words(key)
    pairs = itertools.pairwise(words)
    if (
        _SECRET_WORDS & set(words)
        or any(w.endswith(_SECRET_SUFFIXES) for w in words)  # PGPASSWORD, GITHUBTOKEN
        or any(a in _KEY_QUALIFIERS and b == "key" for a, b in pairs)
    ):
        return (
            f"{key!r} looks like a credential; workspace.yaml never holds secrets: use "
            "`docker login` or a credential helper for registries, and a kubeconfig for clusters"
        )
    return None


# Values that are credentials whatever their key is called.
_SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a URL with a password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s@:]*:[^/\s@]+@", re.I)),
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a PyPI token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}")),
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{34,}")),
    ("an API secret key", re.compile(r"\bsk[-_](live_|test_|proj-)?[A-Za-z0-9]{20,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+")),
)  # fmt: skip


def secret_value_problem(value: str) -> str | None:
    """The one check `validate` and `plan` both apply to every string value of the file (env
    values, build args, pip options...): the value itself is never echoed back."""
    for what, pattern in _SECRET_VALUES:
        if pattern.search(value):
            return (
                f"the value looks like {what}; workspace.yaml never holds secrets (they would "
                "be stored in the image, its history and the plan): use `docker login` or a "
                "credential helper for registries, and keep build-time secrets out of the file"
            )
    return None
