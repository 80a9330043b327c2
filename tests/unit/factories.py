"""Hand-built Spec / Observed values for the pure planners' tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kfws.observe.model import BuildInputs, ImageState, Observed
from kfws.plan.model import Plan
from kfws.spec.model import (
    ClusterSpec,
    GeneratedSpec,
    ImageSpec,
    RegistryOptions,
    RestartMode,
    SpawnerGroup,
    SpawnerSpec,
    Spec,
)
from kfws.targets.spawner.state import SpawnerState

REGISTRY = "reg.example.com"
BASE = f"{REGISTRY}/base/notebook:1"


def image(name: str, tag: str | None = None) -> ImageSpec:
    return ImageSpec(
        name=name,
        repository=f"{REGISTRY}/team/{name}",
        tag=tag,
        build=None,
        generated=GeneratedSpec(base=BASE),
        location=f"workspace.yaml:{10 + len(name)}",
    )


def spec(*images: ImageSpec, immutable: bool = False, spawner: SpawnerSpec | None = None) -> Spec:
    return Spec(
        path=Path("/ws/workspace.yaml"),
        digest="sha256:" + "f" * 64,
        default_registry=f"{REGISTRY}/team",
        registries={REGISTRY: RegistryOptions(host=REGISTRY, immutable=immutable)},
        cluster=ClusterSpec(),
        images=tuple(images),
        spawner=spawner or SpawnerSpec(),
    )


def inputs(name: str, digest_char: str = "1", tag: str | None = None) -> BuildInputs:
    digest = "sha256:" + digest_char * 64
    return BuildInputs(
        name=name,
        input_digest=digest,
        dockerfile=f"FROM {BASE}\n",
        base_digest=None,
        tag=tag or f"kfws1-{digest_char * 24}",
    )


def state(
    ref: str,
    *,
    registry: str | None = None,
    label: str | None = None,
    engine: str | None = None,
) -> ImageState:
    return ImageState(
        name=ref.rsplit("/", 1)[-1].split(":")[0],
        reference=ref,
        registry_digest=registry,
        registry_input_digest=label,
        engine_image_id=engine,
    )


def observed(*pairs: tuple[BuildInputs, ImageState]) -> Observed:
    return Observed(
        inputs={i.name: i for i, _ in pairs},
        images={i.name: s for i, s in pairs},
    )


SEED_CONFIG = (
    Path(__file__).resolve().parents[2] / "hack" / "k8s" / "seed" / "spawner_ui_config-kf1.10.yaml"
)


def cluster_state(text: str | None = None, **changes: object) -> SpawnerState:
    """The Kubeflow 1.10 seed config as the cluster half of an observation."""
    live = SpawnerState(
        namespace="kubeflow",
        deployment="jupyter-web-app-deployment",
        deployment_generation=3,
        deployment_labels={"app": "jupyter-web-app"},
        config_map="jupyter-web-app-config-abc",
        config_map_resource_version="812",
        config_key="spawner_ui_config.yaml",
        config_text=SEED_CONFIG.read_text() if text is None else text,
        config_managers=(("kubectl-edit", "Update", "2026-11-28T20:39:15Z"),),
    )
    return dataclasses.replace(live, **changes)  # type: ignore[arg-type]


def full_plan_inputs() -> tuple[Spec, Observed]:
    """A workspace with two images (one to build, one present) offered in the spawner, and the
    observation of a cluster still on the seed config: a plan with every change kind but push
    (two builds, the contract check of each, the spawner change, the restart)."""
    nb, tools = image("nb"), image("tools", tag="v1")
    ws = dataclasses.replace(
        spec(
            nb,
            tools,
            spawner=SpawnerSpec(
                groups=(SpawnerGroup("image", "nb", ("nb", "tools")),), hide_tag=True
            ),
        ),
        cluster=ClusterSpec(restart=RestartMode.ROLLOUT),
    )
    seen = dataclasses.replace(
        observed(
            (inputs("nb", "1"), state(f"{REGISTRY}/team/nb:kfws1-{'1' * 24}")),
            (
                inputs("tools", "2", tag="v1"),
                state(
                    f"{REGISTRY}/team/tools:v1",
                    registry="sha256:" + "9" * 64,
                    label="sha256:" + "3" * 64,
                ),
            ),
        ),
        targets={"spawner": cluster_state()},
    )
    return ws, seen


def full_plan() -> Plan:
    from kfws.plan.build import make_plan

    ws, seen = full_plan_inputs()
    return make_plan(ws, seen, spec_path="workspace.yaml")
