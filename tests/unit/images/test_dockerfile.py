from __future__ import annotations

import pytest

from kfws.images.dockerfile import generate_dockerfile
from kfws.spec.model import GeneratedSpec

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
    assert "mkdir -p '/home/jovyan/data' '/opt/x y'" in text
    assert "chown -R jovyan '/home/jovyan/data' '/opt/x y'" in text


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
