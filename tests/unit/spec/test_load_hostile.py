"""Hostile workspace files: strings that would leave their place in a generated Dockerfile,
credentials, system folders, and inputs that used to crash the loader. Each refusal is located
(file:line:col and path); nothing raises anything but SpecError."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kfws.errors import SpecError
from kfws.images.dockerfile import generate_dockerfile
from kfws.spec.load import load_spec
from tests.unit.images.dockerfile_check import check_generated

HEAD = """\
apiVersion: kfws/v1alpha1
kind: Workspace
registry: {default: reg.example.com/team}
images:
  - name: nb
    from: reg.example.com/base/nb:1
"""


def load(tmp: Path, images_tail: str, extra: str = "") -> list[tuple[str, str]]:
    path = tmp / "workspace.yaml"
    path.write_text(HEAD + images_tail + extra, encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(path)
    return e.value.problems


# (id, lines added under the image, fragment, line, path in the message)
HOSTILE = [
    ("apt-newline", '    apt: ["aa\\n", "cmd"]\n', "U+000A (newline)", 7, "images[0].apt[0]"),
    ("env-name-newline", '    env: {"A\\nB": "1"}\n', "newline", 7, "images[0].env"),
    ("env-value-nul", '    env: {A: "x\\0y"}\n', "U+0000", 7, "images[0].env.A"),
    ("env-value-esc", '    env: {A: "\\e[31m"}\n', "U+001B (escape)", 7, "images[0].env.A"),
    (
        "env-value-bidi",
        '    env: {A: "x\\u202Ey"}\n',
        "right-to-left override",
        7,
        "images[0].env.A",
    ),
    ("env-value-c1", '    env: {A: "x\\x85y"}\n', "U+0085", 7, "images[0].env.A"),
    ("env-name-dash", "    env: {A-B: x}\n", "no '-'", 7, "images[0].env.A-B"),
    ("user-newline", '    user: "jovyan\\nCMD x"\n', "newline", 7, "images[0].user"),
    ("user-pattern", "    user: Jovyan\n", "does not match", 7, "images[0].user"),
    ("folder-root", "    folders: [/]\n", "system folder", 7, "images[0].folders[0]"),
    ("folder-etc", "    folders: [/etc/ssh]\n", "system folder", 7, "images[0].folders[0]"),
    ("folder-dotdot", "    folders: [/opt/x/../../etc]\n", "'..'", 7, "images[0].folders[0]"),
    ("folder-newline", '    folders: ["/opt/x\\nRUN id"]\n', "newline", 7, "images[0].folders[0]"),
    ("pip-newline", '    pip: ["pandas\\nRUN id"]\n', "newline", 7, "images[0].pip[0]"),
    (
        "pip-option",
        "    pip: [--no-deps]\n",
        "pip options kfws passes on",
        7,
        "images[0].pip[0]",
    ),
    ("pip-file-missing", "    pip: [-r nope.txt]\n", "does not exist", 7, "images[0].pip[0]"),
    (
        "pip-file-outside",
        "    pip: [-c ../../etc/passwd]\n",
        "leaves the workspace",
        7,
        "images[0].pip[0]",
    ),
    (
        "pip-two-indexes",
        "    pip: [-i https://a.example/s,\n          --index-url=https://b.example/s]\n",
        "twice",
        8,
        "images[0].pip[1]",
    ),
    (
        "pip-index-creds",
        "    pip: ['--index-url https://u:p@x.example/s']\n",
        "URL with a password",
        7,
        "images[0].pip[0]",
    ),
    (
        "env-url-creds",
        "    env: {INDEX: 'https://bob:hunter2@x.example/s'}\n",
        "URL with a password",
        7,
        "images[0].env.INDEX",
    ),
    (
        "buildenv-key",
        "    buildEnv: {HF_TOKEN: x}\n",
        "looks like a credential",
        7,
        "images[0].buildEnv.HF_TOKEN",
    ),
    (
        "buildenv-and-env",
        "    env: {X: '1'}\n    buildEnv: {X: '2'}\n",
        "also in `env`",
        8,
        "images[0].buildEnv.X",
    ),
    (
        "private-key",
        "    env: {K: '-----BEGIN EC PRIVATE KEY-----'}\n",
        "a private key",
        7,
        "images[0].env.K",
    ),
    (
        "name-newline",
        '  - name: "x\\n"\n    from: reg.example.com/b:1\n',
        "newline",
        7,
        "images[1].name",
    ),
    ("tag-newline", '    tag: "v1\\nRUN id"\n', "newline", 7, "images[0].tag"),
    (
        "from-newline",
        '  - name: x\n    from: "reg.example.com/b:1\\nRUN id"\n',
        "newline",
        8,
        "images[1].from",
    ),
    ("env-key-yaml-bool", "    env: {ON: '1'}\n", "read as bool True", 7, "images[0].env.True"),
    (
        "apt-pin-injection",
        "    apt: ['curl=$(id)']\n",
        "is not a Debian package",
        7,
        "images[0].apt[0]",
    ),
]


@pytest.mark.parametrize(
    ("tail", "fragment", "line", "path"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_strings_are_refused_at_their_place(
    tmp_path: Path, tail: str, fragment: str, line: int, path: str
) -> None:
    found = load(tmp_path, tail)
    matching = [(w, m) for w, m in found if fragment in m]
    assert matching, found
    where, message = matching[0]
    assert where.startswith(f"{tmp_path / 'workspace.yaml'}:{line}:")
    assert message.startswith(path)
    assert "hunter2" not in message and "u:p@" not in message


def test_a_build_arg_credential_is_refused_by_the_loader_too(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM reg.example.com/b:1\n")
    found = load(
        tmp_path,
        "  - name: tool\n    build: {context: ctx, args: {INDEX: 'https://u:pw@x.example/s'}}\n",
    )
    assert any("URL with a password" in m and "build.args.INDEX" in m for _, m in found)


@pytest.mark.parametrize(
    "env",
    ["{AUTHOR: me, BYPASS_PROXY: '1', COMPASS_HOME: /x}", "{URL: 'https://pypi.example.com/s'}"],
)
def test_look_alikes_are_not_taken_for_credentials(tmp_path: Path, env: str) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(HEAD + f"    env: {env}\n")
    load_spec(path)


def test_what_validates_generates_only_what_kfws_means(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "requirements.txt").write_text("pandas\n")
    (tmp_path / "c.txt").write_text("numpy<3\n")
    path = tmp_path / "workspace.yaml"
    path.write_text(
        HEAD
        + """\
    apt: ["curl=7.*", vim/bookworm-backports]
    pip: ["--index-url https://pypi.example.com/simple", "-r reqs/requirements.txt",
          "--constraint=c.txt", "pandas >= 2"]
    env: {HOME_DIR: "$HOME", UNI: "café データ", Q: "a \\"b\\" 'c' \\\\"}
    buildEnv: {PIP_EXTRA_INDEX_URL: "https://extra.example.com/simple"}
    folders: ["/data/it's", /home/jovyan/x]
    sudo: passwordless
""",
        encoding="utf-8",
    )
    image = load_spec(path).images[0]
    assert image.generated is not None
    assert [name for name, _ in image.generated.files] == [
        "pip/0-requirements.txt",
        "pip/1-c.txt",
    ]
    check_generated(generate_dockerfile(image.generated), image.generated)


def test_self_referencing_yaml_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text("apiVersion: kfws/v1alpha1\nkind: Workspace\nimages: &x [*x]\n")
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert "contains itself" in e.value.render() and ":3:" in e.value.render()


@pytest.mark.parametrize("depth", [70, 900, 5000])
def test_very_deep_yaml_is_an_error_not_a_crash(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(f"apiVersion: kfws/v1alpha1\nkind: Workspace\nx: {'[' * depth}{']' * depth}\n")
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert "deep" in e.value.render() or "depth" in e.value.render()


def test_a_device_is_refused_before_reading() -> None:
    with pytest.raises(SpecError) as e:
        load_spec(Path("/dev/zero"))
    assert "not a regular file" in e.value.render()


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "workspace.yaml"
    os.mkfifo(fifo)
    # a writer, so that opening the FIFO for reading returns; kfws must not wait for its end
    writer = threading.Thread(target=lambda: fifo.open("wb").close(), daemon=True)
    writer.start()
    with pytest.raises(SpecError) as e:
        load_spec(fifo)
    writer.join(timeout=60)
    assert "not a regular file" in e.value.render()


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        load_spec(tmp_path)
    assert "a folder" in e.value.render()


@pytest.mark.parametrize(
    "tail",
    [
        "  - name: tool\n    build: {context: " + "x" * 300 + "}\n",
        "    pip: [-r " + "x" * 300 + "]\n",
        "  - name: tool\n    build: {context: loop}\n",
    ],
)
def test_paths_the_system_cannot_use_are_located_errors(tmp_path: Path, tail: str) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # ELOOP
    found = load(tmp_path, tail, "\n")
    assert any("cannot be used" in m for _, m in found), found


def test_a_ca_file_name_too_long_is_a_located_error(tmp_path: Path) -> None:
    extra = "registry:\n  registries:\n    reg.example.com: {caFile: " + "x" * 300 + "}\n"
    path = tmp_path / "workspace.yaml"
    path.write_text(HEAD.replace("registry: {default: reg.example.com/team}\n", "") + extra)
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert "the CA file" in e.value.render()
