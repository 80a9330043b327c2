"""The spawner YAML reader (config_yaml): both Kubeflow layouts read; hostile or broken live
text is refused at its line, bounded in size, depth and aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfws.errors import ClusterError
from kfws.targets.spawner.config_yaml import read_spawner

SEED = Path(__file__).resolve().parents[4] / "hack" / "k8s" / "seed"
KF110 = (SEED / "spawner_ui_config-kf1.10.yaml").read_text()
KF10 = (SEED / "spawner_ui_config-kf1.0.yaml").read_text()


def test_reads_the_kubeflow_1_10_layout() -> None:
    live = read_spawner(KF110)
    assert [g.key for g in live.groups] == ["image", "imageGroupOne", "imageGroupTwo"]
    image = live.group("image")
    assert image is not None
    assert image.value == "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
    assert len(image.options) == 5
    assert (live.allow_custom_image, live.hide_registry, live.hide_tag) == (True, True, False)
    assert live.image_pull_policy == "IfNotPresent"  # the wrapped {readOnly, value} form


def test_reads_the_kubeflow_1_0_layout() -> None:
    live = read_spawner(KF10)
    assert [g.key for g in live.groups] == ["image"]
    assert live.legacy and live.image_pull_policy is None
    assert live.allow_custom_image is True  # `image.readOnly: false`: users may type their own
    assert live.groups[0].options[0] == live.groups[0].value


# ------------------------------------------------------------------------------------------
# the live text is hostile: bounded, located errors

CONFLICT = (
    "spawnerFormDefaults:\n"
    "  image:\n"
    "<<<<<<< HEAD\n"
    "    value: a:1\n"
    "=======\n"
    "    value: b:1\n"
    ">>>>>>> theirs\n"
    "    options: [a:1]\n"
)
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7)
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CONFLICT, "at line 3: a merge-conflict marker `<<<<<<<`"),
        (CONFLICT.replace("<<<<<<< HEAD\n", ""), "at line 4: a merge-conflict marker `=======`"),
        (
            "spawnerFormDefaults:\n  image:\n    options:\n      - a:1\n    value a:1\n  cpu: 1\n",
            "at line 6, column 3: could not find expected ':' (while scanning a simple key "
            "that began at line 5)",
        ),
        ("x: " + "[" * 70 + "]" * 70 + "\nspawnerFormDefaults: {}\n", "nested more than 64"),
        ("x: " + "[" * 5000 + "\n", "nest"),  # libyaml stops it first when present
        (BOMB + "spawnerFormDefaults: {}\n", "aliases expand to more than"),
        ("x: &x [*x]\nspawnerFormDefaults: {}\n", "an alias refers to a node that contains it"),
        ("x: !custom 1\nspawnerFormDefaults: {}\n", "could not determine a constructor"),
        ("x: " + "a" * (1 << 20) + "\n", "more than kfws reads"),
    ],
    ids=[
        "conflict",
        "conflict-middle",
        "missing-colon",
        "deep",
        "deeper",
        "bomb",
        "cycle",
        "tag",
        "huge",
    ],
)
def test_hostile_or_broken_text_is_refused_at_its_line(text: str, message: str) -> None:
    where = "configmap/kubeflow/jupyter-web-app-config key spawner_ui_config.yaml"
    with pytest.raises(ClusterError) as e:
        read_spawner(text, where=where)
    assert message in e.value.message
    assert e.value.where == where and "will not overwrite" in e.value.message
