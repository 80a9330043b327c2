from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from kfws.images.dockerfile import PIP_FILES_DIR, generate_dockerfile
from kfws.images.instructions import split_instructions
from kfws.spec.model import GeneratedSpec
from tests.unit.images.dockerfile_check import check_generated

BASE = "127.0.0.1:15001/kfws-base/notebook:busybox"


def test_only_from_when_nothing_else_is_asked() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE))
    instructions = [line.split()[0] for line in text.splitlines() if line and line[0] != "#"]
    assert instructions == ["FROM"]  # no USER switch, no ENTRYPOINT/CMD/EXPOSE of our own


def test_root_only_for_installs_then_back_to_the_notebook_user() -> None:
    text = generate_dockerfile(
        GeneratedSpec(base=BASE, apt=("vim", "graphviz"), pip=("pandas",), sudo="passwordless")
    )
    users = [line for line in text.splitlines() if line.startswith("USER ")]
    assert users == ["USER root", "USER jovyan"]
    assert text.rstrip().splitlines()[-1] == "USER jovyan"
    assert "CMD" not in text and "ENTRYPOINT" not in text and "EXPOSE" not in text


def test_apt_is_one_layer_sorted_without_recommends_and_lists_cleaned() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, apt=("vim", "graphviz")))
    run = text[text.index("RUN apt-get") :].split("\n\n")[0]
    assert "--no-install-recommends graphviz vim" in run
    assert "rm -rf /var/lib/apt/lists/*" in run
    assert text.count("RUN ") == 1


def test_pip_keeps_declared_order_quotes_specifiers_and_skips_cache() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, pip=("tensorflow==2.16.*", "pandas>=2")))
    assert "pip install --no-cache-dir 'tensorflow==2.16.*' 'pandas>=2'" in text


def test_passwordless_sudo_is_a_0440_drop_in_for_the_user() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, sudo="passwordless", user="alice"))
    assert "'alice ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/alice-nopasswd" in text
    assert "chmod 0440 /etc/sudoers.d/alice-nopasswd" in text
    assert "USER alice" in text


def test_env_values_are_json_quoted_and_sorted() -> None:
    text = generate_dockerfile(
        GeneratedSpec(base=BASE, env={"Z_LAST": "a b", "MPLBACKEND": "Agg", "Q": 'say "hi"'})
    )
    env = text[text.index("ENV ") :]
    assert env.index("MPLBACKEND") < env.index("Q=") < env.index("Z_LAST")
    assert 'Z_LAST="a b"' in env and 'Q="say \\"hi\\""' in env


def test_folders_are_created_and_owned_by_the_user() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, folders=("/home/jovyan/data", "/opt/x y")))
    assert "mkdir -p /home/jovyan/data '/opt/x y'" in text
    assert "chown -R jovyan /home/jovyan/data '/opt/x y'" in text


@pytest.mark.parametrize(
    "spec",
    [
        GeneratedSpec(base=BASE, apt=("b", "a"), env={"B": "1", "A": "2"}),
        GeneratedSpec(base=BASE, env={"A": "2", "B": "1"}, apt=("a", "b")),
    ],
)
def test_same_spec_same_bytes_whatever_the_declared_order_of_sets(spec: GeneratedSpec) -> None:
    reference = GeneratedSpec(base=BASE, apt=("a", "b"), env={"A": "2", "B": "1"})
    assert generate_dockerfile(spec) == generate_dockerfile(reference)


HOSTILE = GeneratedSpec(
    base=BASE,
    apt=("curl=7.*", "vim/bookworm-backports"),
    pip=(
        "pandas>=2",
        "name @ https://example.com/x.whl ; python_version>'3'",
        "--index-url=https://p.example.com/s?a=1&b=$x",
    ),
    env={"DOLLAR": "$HOME ${X} $(id)", "UNI": "café データ", "Q": "a \"b\" 'c' \\n\\", "E": ""},
    build_env={"PIP_INDEX_URL": "https://p.example.com/$s", "HTTPS_PROXY": "http://proxy:3128"},
    folders=("/data/it's", "/home/jovyan/a b", "/opt/$(reboot)", "/srv/x\\"),
    user="alice",
    sudo="passwordless",
)


def test_every_string_stays_in_its_place() -> None:
    text = generate_dockerfile(HOSTILE)
    check_generated(text, HOSTILE)
    assert "\\u" not in text and "café データ" in text  # non-ASCII as is, not JSON-escaped


def test_env_comes_after_every_install_so_changing_it_reuses_their_layers() -> None:
    keywords = [s.keyword for s in split_instructions(generate_dockerfile(HOSTILE))]
    assert keywords.index("ENV") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_build_env_is_an_arg_never_an_env() -> None:
    spec = GeneratedSpec(base=BASE, pip=("pandas",), build_env={"PIP_INDEX_URL": "https://p/s"})
    steps = split_instructions(generate_dockerfile(spec))
    assert [s.rest for s in steps if s.keyword == "ARG"] == ['PIP_INDEX_URL="https://p/s"']
    assert not [s for s in steps if s.keyword == "ENV"]
    assert [s.keyword for s in steps].index("ARG") < [s.keyword for s in steps].index("RUN")


def test_pip_files_are_copied_in_json_form_used_and_removed() -> None:
    spec = GeneratedSpec(
        base=BASE,
        pip=("--requirement=pip/0-requirements.txt", "--constraint=pip/1-c.txt", "pandas"),
        files=(
            ("pip/0-requirements.txt", Path("/w/requirements.txt")),
            ("pip/1-c.txt", Path("/w/c.txt")),
        ),
    )
    text = generate_dockerfile(spec)
    check_generated(text, spec)
    steps = split_instructions(text)
    copy = next(s for s in steps if s.keyword == "COPY")
    assert json.loads(copy.rest) == ["pip/0-requirements.txt", "pip/1-c.txt", PIP_FILES_DIR + "/"]
    run = shlex.split(next(s for s in steps if s.keyword == "RUN").rest)
    assert run[run.index("--requirement") + 1] == f"{PIP_FILES_DIR}/0-requirements.txt"
    assert run[run.index("--constraint") + 1] == f"{PIP_FILES_DIR}/1-c.txt"
    assert run[-4:] == ["&&", "rm", "-rf", PIP_FILES_DIR]


def test_apt_pins_are_quoted_so_the_shell_does_not_glob_them() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, apt=("curl=7.*",)))
    assert "'curl=7.*'" in text


def test_passwordless_sudo_installs_sudo_when_missing_or_fails_with_a_message() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, sudo="passwordless"))
    run = next(s for s in split_instructions(text) if s.keyword == "RUN").rest
    assert "command -v sudo" in run and "apt-get install -y --no-install-recommends sudo" in run
    assert "has neither sudo nor apt-get" in run and "exit 1" in run


def test_a_dockerfile_with_everything_in_full() -> None:
    spec = GeneratedSpec(
        base=BASE,
        sudo="passwordless",
        apt=("vim", "curl"),
        pip=("-r pip/0-req.txt", "--index-url=https://p/simple", "pandas"),
        env={"B": "2", "A": "$1"},
        build_env={"PIP_X": "y"},
        files=(("pip/0-req.txt", Path("/w/req.txt")),),
        folders=("/data/b", "/data/a"),
        user="alice",
    )
    no_sudo = (
        "'kfws: '\"'\"'sudo: passwordless'\"'\"' needs sudo, and this base image has neither sudo"
        " nor apt-get to install it; use a base image that has sudo'"
    )
    assert generate_dockerfile(spec) == (
        "# Generated by kfws from workspace.yaml. Do not edit: change workspace.yaml instead.\n"
        "\n"
        f"FROM {BASE}\n"
        "\n"
        'ARG PIP_X="y"\n'
        "USER root\n"
        "RUN apt-get update \\\n"
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends"
        " curl vim \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
        'COPY ["pip/0-req.txt", "/tmp/kfws-pip/"]\n'
        "RUN python3 -m pip install --no-cache-dir --requirement /tmp/kfws-pip/0-req.txt"
        " --index-url https://p/simple pandas \\\n"
        " && rm -rf /tmp/kfws-pip\n"
        "RUN if ! command -v sudo >/dev/null 2>&1; then \\\n"
        "      if command -v apt-get >/dev/null 2>&1; then apt-get update &&"
        " DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends sudo &&"
        " rm -rf /var/lib/apt/lists/*; \\\n"
        f"      else echo {no_sudo} >&2; exit 1; fi; \\\n"
        "    fi \\\n"
        " && mkdir -p /etc/sudoers.d \\\n"
        " && echo 'alice ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/alice-nopasswd \\\n"
        " && chmod 0440 /etc/sudoers.d/alice-nopasswd\n"
        "RUN mkdir -p /data/a /data/b \\\n"
        " && chown -R alice /data/a /data/b\n"
        'ENV A="\\$1" \\\n'
        '    B="2"\n'
        "USER alice\n"
    )


@pytest.mark.parametrize(
    ("spec", "root"),
    [
        (GeneratedSpec(base=BASE, apt=("vim",)), True),
        (GeneratedSpec(base=BASE, pip=("pandas",)), True),
        (GeneratedSpec(base=BASE, sudo="passwordless"), True),
        (GeneratedSpec(base=BASE, folders=("/data",)), True),
        (GeneratedSpec(base=BASE, env={"A": "1"}, build_env={"B": "2"}), False),
    ],
)
def test_root_exactly_when_something_is_installed_or_created(
    spec: GeneratedSpec, root: bool
) -> None:
    users = [s.rest for s in split_instructions(generate_dockerfile(spec)) if s.keyword == "USER"]
    assert users == (["root", "jovyan"] if root else [])


def test_pip_without_files_has_no_cleanup_and_the_quote_escapes_backslashes() -> None:
    text = generate_dockerfile(GeneratedSpec(base=BASE, pip=("pandas",), env={"P": "a\\b"}))
    assert "RUN python3 -m pip install --no-cache-dir pandas\n" in text
    assert 'ENV P="a\\\\b"\n' in text


def test_the_last_line_is_kept_whole() -> None:
    assert generate_dockerfile(GeneratedSpec(base="r/x:TAGX")).endswith("\nFROM r/x:TAGX\n")
