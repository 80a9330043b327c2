"""kfws import writes a workspace kfws accepts and that plans no spawner change, for every
config kfws can read: real-world fixtures, a default not among the options, options that are
not valid references, managed images written back by name, the file's mode and permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from kfws.commands.import_ import _write
from kfws.spec.load import load_spec
from kfws.spec.model import Spec
from kfws.targets.spawner.config_yaml import LiveGroup, LiveSpawner, read_spawner
from kfws.targets.spawner.import_ import (
    SCHEMA_LINE,
    import_document,
    merge_spawner_section,
)
from kfws.targets.spawner.plan import plan_spawner
from kfws.targets.spawner.state import SpawnerState

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "fixtures" / "spawner"
SEED = ROOT / "hack" / "k8s" / "seed"

LIVE = LiveSpawner(
    groups=(
        LiveGroup("image", "a.io/x:1", ("a.io/x:1", "b.io/y:2")),
        LiveGroup("imageGroupOne", None, ("c.io/z:3",)),
    ),
    hide_tag=False,
)
TOOLS = "reg.example.com/team/tools:kfws1-" + "a" * 24
BAD = (
    "spawnerFormDefaults:\n"
    "  allowCustomImage: true\n"
    "  image:\n"
    "    value: 'Not A Reference'\n"
    "    options:\n"
    "      - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0\n"
    "      - jupyter\n"
    "      - 'ghcr.io/Kubeflow/nb:v1'\n"
    "  imageGroupTwo:\n"
    "    options: ['only bad']\n"
)
MANAGED = (
    "spawnerFormDefaults:\n"
    "  allowCustomImage: true\n"
    "  image:\n"
    f"    value: {TOOLS}\n"
    "    options:\n"
    f"      - {TOOLS}\n"
    "      - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0\n"
)
TEAM_FILE = """\
# our team's workspace
apiVersion: kfws/v1alpha1
kind: Workspace
registry:
  default: reg.example.com/team
images:
  - name: tools   # built from our Dockerfile
    build: {context: images/tools}
spawner:
  image:
    mode: merge   # others add images by hand
    options: [tools]
  hideTag: true
"""


def cluster(text: str) -> SpawnerState:
    return SpawnerState(
        namespace="kubeflow",
        deployment="jupyter-web-app-deployment",
        deployment_generation=1,
        deployment_labels={},
        config_map="jupyter-web-app-config",
        config_map_resource_version="1",
        config_key="spawner_ui_config.yaml",
        config_text=text,
    )


def imported(tmp: Path, live_text: str, existing: str | None = None) -> tuple[Spec, str]:
    """Import `live_text` into a file (new, or `existing`), write it the way the command does
    (validated, atomically), and load it as kfws would."""
    (tmp / "images" / "tools").mkdir(parents=True, exist_ok=True)
    (tmp / "images" / "tools" / "Dockerfile").write_text("FROM scratch\n")
    path = tmp / "workspace.yaml"
    if existing is not None:
        path.write_text(existing)
    result = import_document(existing, read_spawner(live_text), namespace="kubeflow")
    _write(path, result.text)
    return load_spec(path), path.read_text()


CONFIGS = {
    "kf1.10 seed": (SEED / "spawner_ui_config-kf1.10.yaml").read_text(),
    "kf1.0 seed": (SEED / "spawner_ui_config-kf1.0.yaml").read_text(),
    "kf1.0.2 (default not among options)": (FIXTURES / "kf1.0.2.yaml").read_text(),
    "value commented out": (FIXTURES / "value-commented-out.yaml").read_text(),
    "four spaces": (FIXTURES / "four-spaces.yaml").read_text(),
    "invalid references": BAD,
    "managed image": MANAGED,
}


@pytest.mark.parametrize("existing", [None, TEAM_FILE], ids=["new file", "team file"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_import_is_accepted_and_plans_no_change(
    tmp_path: Path, name: str, existing: str | None
) -> None:
    live_text = CONFIGS[name]
    spec, text = imported(tmp_path, live_text, existing)
    refs = {"tools": TOOLS}  # the managed image as built now: the live one is current
    assert plan_spawner(spec, refs, cluster(live_text)).changes == ()
    assert text.startswith(SCHEMA_LINE + ("\n# our team's workspace\n" if existing else "\n"))
    assert spec.default_registry  # adding an image next needs it


def test_managed_images_come_back_by_name_and_the_file_keeps_its_mode(tmp_path: Path) -> None:
    spec, text = imported(tmp_path, MANAGED, TEAM_FILE)
    image = spec.spawner.group("image")
    assert image is not None
    assert image.options == (
        "tools",
        "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
    )
    assert image.default == "tools"
    assert "mode: merge   # others add images by hand" in text
    assert "  - name: tools   # built from our Dockerfile" in text
    # a flag the cluster does not set is dropped (declaring it would be a change)
    assert spec.spawner.hide_tag is None and spec.spawner.allow_custom_image is True


def test_what_cant_be_declared_is_left_out_with_a_comment(tmp_path: Path) -> None:
    spec, text = imported(tmp_path, BAD)
    image = spec.spawner.group("image")
    assert image is not None
    assert image.options == ("ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",)
    assert image.default is None and image.mode.value == "merge"
    assert spec.spawner.group("imageGroupTwo") is None  # nothing declarable: left alone
    comment = text[text.index("# kfws import left out of image") : text.index("  image:")]
    assert "(mode: merge keeps them on the cluster)" in comment
    assert "option jupyter:" in comment and "option ghcr.io/Kubeflow/nb:v1: " in comment
    assert "default 'Not A Reference':" in comment or "default Not A Reference:" in comment
    notes = import_document(None, read_spawner(BAD), namespace="kubeflow").notes
    assert any(n.startswith("imageGroupTwo: not written") for n in notes)


def test_a_new_file_gets_what_a_valid_workspace_needs() -> None:
    doc = yaml.safe_load(merge_spawner_section(None, LIVE, namespace="team-ns"))
    assert doc["apiVersion"] == "kfws/v1alpha1" and doc["kind"] == "Workspace"
    assert doc["cluster"] == {"namespace": "team-ns"}
    assert doc["registry"] == {"default": "registry.example.com/team"}
    assert doc["spawner"]["image"] == {"default": "a.io/x:1", "options": ["a.io/x:1", "b.io/y:2"]}
    # no live default: none declared, so a plan adds no `value` line
    assert doc["spawner"]["imageGroupOne"] == {"options": ["c.io/z:3"]}
    four = read_spawner(CONFIGS["four spaces"])
    guessed = yaml.safe_load(merge_spawner_section(None, four, namespace="k"))
    assert guessed["registry"] == {"default": "registry.corp.example/ml"}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_the_file_keeps_its_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "workspace.yaml"
    path.write_text(
        TEAM_FILE.replace(
            "    build: {context: images/tools}\n", "    from: reg.example.com/base/nb:1\n"
        )
    )
    os.chmod(path, mode)
    _write(path, import_document(path.read_text(), LIVE, namespace="kubeflow").text)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kfws-import-")]


# property: whatever config the editor can read (the styles admins write, with references that
# are valid and ones that are not), import writes a file kfws accepts that plans no change
from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.unit.targets.spawner.test_config_edit import configs  # noqa: E402


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=configs())
def test_property_import_then_plan_is_no_change(tmp_path: Path, text: str) -> None:
    spec, _ = imported(tmp_path, text, None)
    assert plan_spawner(spec, {}, cluster(text)).changes == ()


def test_adding_an_image_to_an_imported_file_validates(tmp_path: Path) -> None:
    """The file import writes has what an image added next needs (registry.default)."""
    _, text = imported(tmp_path, CONFIGS["kf1.10 seed"])
    path = tmp_path / "workspace.yaml"
    path.write_text(text + "images:\n  - name: team-tools\n    build: {context: images/tools}\n")
    spec = load_spec(path)
    assert spec.images[0].repository == "registry.example.com/team/team-tools"
