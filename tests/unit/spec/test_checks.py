"""The pure checks as tables: what each refuses, and the look-alikes it must let through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfws.spec import checks


@pytest.mark.parametrize(
    "name",
    ["GITHUB_TOKEN", "db_password", "AWS_SECRET_ACCESS_KEY", "API_KEY", "apiKey", "PGPASSWORD",
     "NPM_AUTH", "ssh-private-key", "clientSecret", "MY_CREDENTIALS", "PASS"],
)  # fmt: skip
def test_credential_names_are_refused(name: str) -> None:
    assert "looks like a credential" in (checks.secret_key_problem(name) or "")


@pytest.mark.parametrize(
    "name",
    ["AUTHOR", "BYPASS_PROXY", "COMPASS_HOME", "KEYBOARD_LAYOUT", "MONKEY",
     "TOKENIZERS_PARALLELISM", "SORT_KEY", "PASSAGE", "authority", "MPLBACKEND", "DATA_DIR"],
)  # fmt: skip
def test_names_that_merely_contain_a_credential_word_pass(name: str) -> None:
    assert checks.secret_key_problem(name) is None


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("https://bob:hunter2@pypi.example.com/simple", "a URL with a password"),
        ("postgres://u:p@db:5432/x", "a URL with a password"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key"),
        ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
        ("ghp_" + "a1" * 18, "a GitHub token"),
        ("AKIA" + "ABCDEFGHIJKLMNOP", "an AWS access key"),
        ("xoxb-1234567890-abcdef", "a Slack token"),
        ("glpat-" + "x" * 20, "a GitLab token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", "a JSON Web Token"),
    ],
)
def test_credential_shaped_values_are_refused_without_echoing_them(value: str, what: str) -> None:
    problem = checks.secret_value_problem(value) or ""
    assert what in problem
    assert value not in problem


@pytest.mark.parametrize(
    "value",
    ["https://pypi.example.com/simple", "http://proxy.example.com:3128", "user@example.com",
     "/opt/datasets", "Agg", "ssh://git@github.com/org/repo", "-----BEGIN CERTIFICATE-----",
     "127.0.0.1:15001/ds-team/nb:v1@sha256:" + "a" * 64, "sk-short"],
)  # fmt: skip
def test_ordinary_values_pass(value: str) -> None:
    assert checks.secret_value_problem(value) is None


@pytest.mark.parametrize(
    ("text", "named"),
    [("aa\n", "newline"), ("a\0b", "nul"), ("\x1b[31m", "escape"), ("a\rb", "carriage return"),
     ("x\u202ey", "right-to-left override"), ("x\u2066", "left-to-right isolate"),
     ("\x85", "a control character"), ("a\tb", "tab"), ("\u2028", "line separator"),
     ("\u2029", "paragraph separator"), ("\ufeff", "zero width no-break space"),
     ("\u061c", "arabic letter mark"), ("\x7f", "a control character"),
     ("\x01", "a control character")],
)  # fmt: skip
def test_control_and_bidi_characters_are_named(text: str, named: str) -> None:
    assert f"({named}) at character" in (checks.control_problem(text) or "")


@pytest.mark.parametrize(
    "text", ["café", "データ", "a b", "$HOME", 'say "hi"', "back\\slash", "X-Ray", "XX"]
)
def test_printable_text_of_any_script_passes(text: str) -> None:
    assert checks.control_problem(text) is None


@pytest.mark.parametrize(
    ("folder", "ok"),
    [
        ("/home/jovyan/data", True), ("/opt/team", True), ("/data", True), ("/srv/x", True),
        ("/data/it's mine", True), ("/", False), ("/etc", False), ("/etc/sudoers.d", False),
        ("/usr", False), ("/usr/local/bin", False), ("/var/lib/x", False), ("/lib64", False),
        ("/proc/1", False), ("/root", False), ("/opt", False), ("/home", False), ("/tmp", False),
        ("data", False), ("/opt/../etc", False), ("/opt/./x", False), ("//etc", False),
        ("/opt/x/", False), ("/bin", False), ("/sys", False), ("/dev/shm", False),
    ],
)  # fmt: skip
def test_folders_are_never_system_folders(folder: str, ok: bool) -> None:
    assert (checks.folder_problem(folder) is None) == ok


@pytest.mark.parametrize(
    ("package", "ok"),
    [("vim", True), ("libc6-dev", True), ("g++", True), ("curl=7.*", True),
     ("curl=7.88.1-10+deb12u5", True), ("vim/bookworm-backports", True), ("aa\n", False),
     ("Vim", False), ("a", False), ("x;y", False), ("curl=$(id)", False), ("-y", False)],
)  # fmt: skip
def test_apt_names_pins_and_releases(package: str, ok: bool) -> None:
    assert (checks.apt_problem(package) is None) == ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [("A", True), ("_X1", True), ("MPLBACKEND", True), ("A-B", False), ("1X", False),
     ("A\n", False), ("A B", False), ("", False)],
)  # fmt: skip
def test_env_names(name: str, ok: bool) -> None:
    assert (checks.env_name_problem(name) is None) == ok


@pytest.mark.parametrize(
    ("user", "ok"),
    [("jovyan", True), ("_svc", True), ("a-b", True), ("jovyan\n", False), ("Root", False),
     ("a" * 33, False), ("x;y", False)],
)  # fmt: skip
def test_user_names(user: str, ok: bool) -> None:
    assert (checks.user_problem(user) is None) == ok


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("pandas>=2", None),
        ("tensorflow==2.16.*", None),
        ("--index-url https://pypi.example.com/simple", None),
        ("--index-url=https://pypi.example.com/simple", None),
        ("-i https://pypi.example.com/simple", None),
        ("--extra-index-url https://extra.example.com/simple", None),
        ("-r requirements.txt", None),
        ("--constraint=constraints.txt", None),
        ("--index-url ftp://x.example.com/", "http(s) URL"),
        ("--index-url https://tok@x.example.com/", "credentials in an index URL"),
        ("--index-url", "one value"),
        ("--index-url a b", "one value"),
        ("--trusted-host pypi.internal:8080", None),
        ("--trusted-host=10.0.0.1", None),
        ("--trusted-host a;b", "host name or host:port"),
        ("--no-deps", "the pip options kfws passes on"),
        ("--pre", "the pip options kfws passes on"),
        ("pandas>>=2", "not a valid pip requirement"),
    ],
)
def test_pip_entries_and_options(entry: str, fragment: str | None) -> None:
    problem = checks.pip_problem(entry)
    assert (problem is None) if fragment is None else (fragment in (problem or ""))


def test_unknown_managed_names_get_a_did_you_mean() -> None:
    assert "did you mean 'jupyter-tf'" in (
        checks.reference_problem("jupyter-tv", {"jupyter-tf"}) or ""
    )
    far = checks.reference_problem("zzz", {"jupyter-tf"}) or ""
    assert "did you mean" not in far and "jupyter-tf" in far


def test_a_control_character_is_told_with_its_code_name_and_position() -> None:
    assert checks.control_problem("ab\u202ec") == (
        "contains U+202E (right-to-left override) at character 3; control and "
        "bidirectional-formatting characters are not allowed in the workspace file's strings"
    )


MANAGED = {"jupyter-tf", "base"}
TRY_NAME = "(letters, digits, '_'; no leading digit; no '-')"
SYSTEM = (
    "is a system folder; folders are chown'ed to the notebook user, so use one under "
    "/home/<user>, /opt/<name>, /srv/<name> or a new top-level one (/data)"
)
PIP_OPTIONS = (
    "the pip options kfws passes on are --index-url, --extra-index-url, --trusted-host, "
    "-c/--constraint FILE and -r/--requirement FILE"
)


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (lambda t: checks.reference_problem(t, MANAGED), "jupyter-tv",
         "'jupyter-tv' is not a managed image's name; did you mean 'jupyter-tf'?"),
        (lambda t: checks.reference_problem(t, MANAGED), "zzz",
         "'zzz' is neither a managed image's name (base, jupyter-tf) nor a full image reference "
         "(registry/path:tag)"),
        (lambda t: checks.reference_problem(t, set()), "zzz",
         "'zzz' is neither a managed image's name (none declared) nor a full image reference "
         "(registry/path:tag)"),
        (lambda t: checks.reference_problem(t, set()), "reg.example.com/Team/x:1",
         "'reg.example.com/Team/x:1': repository paths must be lower case"),
        (lambda t: checks.reference_problem(t, set()), "reg.example.com/team/x:1", None),
        (lambda t: checks.reference_problem(t, MANAGED), "base", None),
        (checks.env_name_problem, "A-B",
         f"'A-B' is not a valid environment variable name {TRY_NAME}"),
        (checks.user_problem, "Root",
         "'Root' is not a valid user name (lower case, digits, '_', '-'; at most 32)"),
        (checks.apt_problem, "Vim",
         "'Vim' is not a Debian package (lower case, digits, '+', '-', '.'), optionally pinned as "
         "name=version (apt's '*' glob allowed) or name/release"),
        (checks.folder_problem, "data", "'data' must be an absolute path without '.' or '..'"),
        (checks.folder_problem, "/opt/./x",
         "'/opt/./x' must be an absolute path without '.' or '..'"),
        (checks.folder_problem, "/opt/x/", "'/opt/x/': write it as '/opt/x'"),
        (checks.folder_problem, "//srv/x", "'//srv/x': write it as '/srv/x'"),
        (checks.folder_problem, "/etc/x", f"'/etc/x' {SYSTEM}"),
        (checks.folder_problem, "/etcetera", None),  # a prefix of a system tree's name is not it
        (checks.pip_problem, "--pre", f"'--pre': {PIP_OPTIONS}"),
        (checks.pip_problem, "-i a b", "'-i a b': --index-url takes one value without spaces"),
        (checks.pip_problem, "-c", "'-c': --constraint takes one value without spaces"),
        (checks.pip_problem, "--index-url http://x:99999/",
         "'--index-url http://x:99999/': not a valid URL"),
        (checks.pip_problem, "--index-url https:///simple",
         "'--index-url https:///simple': the index must be an http(s) URL with a host"),
        (checks.pip_problem, "--extra-index-url https://tok@x.example.com/",
         "'--extra-index-url https://tok@x.example.com/': credentials in an index URL would be "
         "stored in the image history and the plan; private indexes need BuildKit secret mounts, "
         "which kfws does not do yet"),
        (checks.pip_problem, "--trusted-host a;b",
         "'--trusted-host a;b': --trusted-host takes a host name or host:port"),
        (checks.pip_problem, " pandas", "' pandas': remove the surrounding spaces"),
        (checks.pip_problem, "pandas>>=2",
         "'pandas>>=2' is not a valid pip requirement: Expected semicolon (after name with no "
         "version specifier) or end"),
    ],
)  # fmt: skip
def test_each_problem_in_full(check: Any, value: str, message: str | None) -> None:
    assert check(value) == message


@pytest.mark.parametrize(
    ("entry", "split"),
    [
        ("pandas", None),
        ("-i https://p/s", ("--index-url", "https://p/s")),
        ("--index-url=https://p/s", ("--index-url", "https://p/s")),
        ("--extra-index-url  https://p/s ", ("--extra-index-url", "https://p/s")),
        ("-r req.txt", ("--requirement", "req.txt")),
        ("--requirement=req.txt", ("--requirement", "req.txt")),
        ("-c c.txt", ("--constraint", "c.txt")),
        ("--constraint c.txt", ("--constraint", "c.txt")),
        ("--trusted-host h", ("--trusted-host", "h")),
        ("--pre", ("--pre", "")),
        ("--x a=b", ("--x", "a=b")),  # a `=` in the value does not split the option
    ],
)
def test_pip_options_are_split_into_their_canonical_name_and_value(
    entry: str, split: tuple[str, str] | None
) -> None:
    assert checks.split_pip_option(entry) == split


@pytest.mark.parametrize("tree", [*checks._SYSTEM_TREES])
def test_every_system_tree_and_all_below_it_is_refused(tree: str) -> None:
    assert checks.folder_problem(tree) == f"{tree!r} {SYSTEM}"
    assert checks.folder_problem(f"{tree}/x") == f"'{tree}/x' {SYSTEM}"
    assert checks.folder_problem(f"{tree}x") is None  # /usrx, /binary: another folder


@pytest.mark.parametrize("root", [*checks._SYSTEM_ROOTS])
def test_every_system_root_is_refused_but_a_folder_below_it_is_not(root: str) -> None:
    assert checks.folder_problem(root) == f"{root!r} {SYSTEM}"
    assert checks.folder_problem(root.rstrip("/") + "/team") is None


def test_the_system_folders_are_these() -> None:
    assert checks._SYSTEM_ROOTS == ("/", "/home", "/media", "/mnt", "/opt", "/srv", "/tmp")
    assert checks._SYSTEM_TREES == (
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
        "/root", "/run", "/sbin", "/sys", "/usr", "/var",
    )  # fmt: skip


@pytest.mark.parametrize("folder", ["/opt/../etc", "/..", "/opt/.", "opt/x"])
def test_relative_parts_are_refused(folder: str) -> None:
    assert checks.folder_problem(folder) == (
        f"{folder!r} must be an absolute path without '.' or '..'"
    )


@pytest.mark.parametrize(
    "entry", ["--index-url http://pypi.internal/simple", "-i https://pypi.example.com/simple"]
)
def test_plain_http_and_https_indexes_pass(entry: str) -> None:
    assert checks.pip_problem(entry) is None


def test_inside_the_workspace_folder(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "ctx").mkdir(parents=True)
    (root / "req.txt").write_text("x")
    (root / "loop").symlink_to(root / "loop")
    (root / "out").symlink_to(tmp_path)
    assert checks.inside_problem(root, root / "ctx", "context", "dir") is None
    assert checks.inside_problem(root, root / "req.txt", "file", "file") is None
    assert checks.inside_problem(root, root / "req.txt", "context", "dir") == (
        f"the context {root / 'req.txt'} is not a folder"
    )
    assert checks.inside_problem(root, root / "ctx", "file", "file") == (
        f"the file {root / 'ctx'} does not exist"
    )
    assert checks.inside_problem(root, root / "gone", "file", "file") == (
        f"the file {root / 'gone'} does not exist"
    )
    assert checks.inside_problem(root, root / "out", "context", "dir") == (
        f"the context {root / 'out'} leaves the workspace folder {root}; keep it inside"
    )
    assert checks.inside_problem(root, root / "loop", "file", "file") in (
        f"the file {root / 'loop'} cannot be used: a symbolic link loop",
        f"the file {root / 'loop'} cannot be used: Too many levels of symbolic links",
    )
    long = root / ("x" * 300)
    assert checks.inside_problem(root, long, "file", "file") == (
        f"the file {str(long)[:200]} cannot be used: File name too long"
    )


def test_a_regular_file_is_a_file_and_nothing_else_is(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert checks.is_regular_file(tmp_path / "f")
    assert not checks.is_regular_file(tmp_path)
    assert not checks.is_regular_file(tmp_path / "loop")
    assert not checks.is_regular_file(tmp_path / ("x" * 300))


CREDENTIAL_ADVICE = (
    "looks like a credential; workspace.yaml never holds secrets: use `docker login` or a "
    "credential helper for registries, and a kubeconfig for clusters"
)


@pytest.mark.parametrize(
    "name",
    ["password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "tokens",
     "credential", "credentials", "apikey", "auth", "privatekey", "accesskey", "secretkey"],
)  # fmt: skip
def test_each_credential_word_alone_is_refused_in_full(name: str) -> None:
    # each word as a whole name and as one word of a longer one (FOO_<WORD>)
    assert checks.secret_key_problem(name) == f"{name!r} {CREDENTIAL_ADVICE}"
    upper = f"FOO_{name.upper()}"
    assert checks.secret_key_problem(upper) == f"{upper!r} {CREDENTIAL_ADVICE}"


@pytest.mark.parametrize(
    "name", ["PGPASSWORD", "MYSQLPASSWD", "GITHUBTOKEN", "APPSECRET", "AWSCREDENTIALS",
             "OPENAIAPIKEY"],
)  # fmt: skip
def test_a_word_ending_in_a_credential_word_is_refused(name: str) -> None:
    assert checks.secret_key_problem(name) == f"{name!r} {CREDENTIAL_ADVICE}"


@pytest.mark.parametrize(
    "name", ["API_KEY", "accessKey", "private-key", "SSH_KEY", "signing_key", "ENCRYPTION_KEY",
             "client_key", "sshKey", "signingKey"],  # camelCase is split into words too
)  # fmt: skip
def test_a_qualified_key_is_refused(name: str) -> None:
    assert checks.secret_key_problem(name) == f"{name!r} {CREDENTIAL_ADVICE}"


@pytest.mark.parametrize("name", ["KEY", "KEY_API", "SORT_KEY", "KEY_SSH", "PUBLIC_KEY"])
def test_key_alone_or_after_an_ordinary_word_passes(name: str) -> None:
    assert checks.secret_key_problem(name) is None


SECRET_ADVICE = (
    "; workspace.yaml never holds secrets (they would be stored in the image, its history and "
    "the plan): use `docker login` or a credential helper for registries, and keep build-time "
    "secrets out of the file"
)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("https://bob:hunter2@pypi.example.com/simple", "a URL with a password"),
        ("HTTPS://bob:x@pypi.example.com/simple", "a URL with a password"),  # any case
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "a private key"),
        ("github_pat_" + "A1" * 20, "a GitHub token"),
        ("gho_" + "b" * 36, "a GitHub token"),
        ("glpat-" + "x_y-" * 5, "a GitLab token"),
        ("ASIA" + "Q" * 16, "an AWS access key"),
        ("xoxp-" + "1" * 10, "a Slack token"),
        ("AIza" + "A" * 35, "a Google API key"),
        ("pypi-AgE" + "a" * 50, "a PyPI token"),
        ("npm_" + "a" * 36, "an npm token"),
        ("hf_" + "a" * 34, "a Hugging Face token"),
        ("sk-" + "a" * 20, "an API secret key"),
        ("sk_live_" + "a" * 20, "an API secret key"),
        ("sk-proj-" + "a" * 20, "an API secret key"),
        ("eyJhbGciOiJ.eyJzdWIiOiJ.s", "a JSON Web Token"),
    ],
)
def test_each_credential_shape_is_named_in_full(value: str, what: str) -> None:
    assert checks.secret_value_problem(value) == f"the value looks like {what}{SECRET_ADVICE}"


@pytest.mark.parametrize(
    "value",
    ["hf_" + "a" * 33, "npm_" + "a" * 35, "AIza" + "A" * 34, "pypi-AgE" + "a" * 49,
     "glpat-" + "x" * 19, "xoxb-" + "1" * 9, "AKIA" + "Q" * 15, "ghp_" + "a" * 35,
     "github_pat_" + "a" * 39, "sk-" + "a" * 19, "eyJhbGciOi.eyJzdWIiOiJ.s"],
)  # fmt: skip
def test_one_character_short_of_a_credential_shape_passes(value: str) -> None:
    assert checks.secret_value_problem(value) is None


def test_a_long_unusable_path_is_cut_to_200_characters(tmp_path: Path) -> None:
    loop = tmp_path / ("l" * 200)
    loop.symlink_to(loop)
    assert len(str(loop)) > 200
    assert checks.inside_problem(tmp_path, loop, "file", "file") in (
        f"the file {str(loop)[:200]} cannot be used: a symbolic link loop",
        f"the file {str(loop)[:200]} cannot be used: Too many levels of symbolic links",
    )


@pytest.mark.parametrize(
    ("folder", "written"), [("//Xsrv", "/Xsrv"), ("///data//x", "/data/x"), ("/opt//x", "/opt/x")]
)
def test_a_folder_written_with_extra_slashes_is_told_its_plain_form(
    folder: str, written: str
) -> None:
    assert checks.folder_problem(folder) == f"{folder!r}: write it as {written!r}"
