"""observe.check_externals: which external images are looked up, and how a skip is recorded.
Nothing here reaches a registry: skipped images must not, and an unparsable one can't."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from kfws.observe.model import ExternalImageState
from kfws.observe.observe import check_externals, external_options
from kfws.observe.registry import RegistryClient
from kfws.plan.build import make_plan
from kfws.spec.model import RegistryOptions
from tests.unit.factories import observed, spec

GHCR = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
QUAY = "quay.io/team/nb:1"


class NoNetwork(RegistryClient):
    """A real client that fails the test if it is asked anything."""

    def resolve(self, repository: str, reference: str) -> None:
        raise AssertionError(f"looked up {repository}:{reference}")


def test_offline_looks_up_nothing_and_says_why() -> None:
    s = spec()
    states = check_externals(
        s, [GHCR, QUAY], NoNetwork(s.registry_options), parallelism=4, offline=True
    )
    assert states == {
        GHCR: ExternalImageState(GHCR, None, skipped="--offline"),
        QUAY: ExternalImageState(QUAY, None, skipped="--offline"),
    }


def test_a_registry_marked_check_false_is_not_asked() -> None:
    s = spec()
    s = dataclasses.replace(
        s, registries={**s.registries, "ghcr.io": RegistryOptions("ghcr.io", check=False)}
    )
    states = check_externals(s, [GHCR], NoNetwork(s.registry_options), parallelism=4, offline=False)
    assert states[GHCR].skipped == "registry ghcr.io has check: false"


def test_an_unparsable_reference_is_unchecked_not_a_crash() -> None:
    s = spec()
    states = check_externals(
        s, ["Bad Ref!"], NoNetwork(s.registry_options), parallelism=4, offline=False
    )
    assert states["Bad Ref!"].error and states["Bad Ref!"].digest is None


def test_the_plan_says_which_options_were_not_looked_up() -> None:
    obs = dataclasses.replace(
        observed(),
        externals={
            GHCR: ExternalImageState(GHCR, None, skipped="--offline"),
            QUAY: ExternalImageState(QUAY, None, skipped="--offline"),
        },
    )
    plan = make_plan(spec(), obs, spec_path="workspace.yaml")
    assert plan.warnings == (
        f"2 spawner options not looked up in the registry (--offline): {GHCR}, {QUAY}",
    )


def test_external_images_are_the_spawner_s_and_the_workspacekinds_full_references() -> None:
    """Notebooks 2.0: a WorkspaceKind value given as a full reference is an image kfws does not
    build, looked up like a spawner option; a value naming a managed image is not."""
    from kfws.spec.model import SpawnerGroup, SpawnerSpec
    from kfws.targets.workspacekind.model import DeclaredImage, KindSpec
    from tests.unit.factories import image

    group = SpawnerGroup("image", GHCR, ("nb", GHCR))
    kind = KindSpec("jupyterlab", (DeclaredImage("nb", "nb"), DeclaredImage("q", QUAY)))
    ws = dataclasses.replace(
        spec(image("nb"), spawner=SpawnerSpec((group,))), workspace_kinds=(kind,)
    )
    assert external_options(ws) == [GHCR, QUAY]
    assert external_options(dataclasses.replace(ws, workspace_kinds=())) == [GHCR]


def test_a_plan_that_asks_no_registry_anything_does_not_import_its_client(tmp_path: Path) -> None:
    """No image to build, its options not looked up (--offline): observe() makes no
    RegistryClient, so neither the client nor its transport and auth modules are imported (in a
    fresh process: this one has them already)."""
    (tmp_path / "workspace.yaml").write_text(
        "apiVersion: kfws/v1alpha1\nkind: Workspace\n"
        "registry: {default: registry.example.com/team}\n"
        f"spawner:\n  image: {{mode: merge, options: [{GHCR}]}}\n"
    )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kfws import output\n"
        "from kfws.observe.observe import observe\n"
        "from kfws.spec.load import load_spec\n"
        "spec = load_spec(Path('workspace.yaml'))\n"
        "seen = observe(spec, with_cluster=False, offline=True, reporter=output)\n"
        "print([s.skipped for s in seen.externals.values()])\n"
        "print(sorted(m for m in sys.modules if m.startswith('kfws.observe.registry.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert proc.stdout.splitlines() == ["['--offline']", "['kfws.observe.registry.manifests']"]
