"""Hand-built Spec / Observed values for the pure planners' tests."""

from __future__ import annotations

from pathlib import Path

from kfws.observe.model import BuildInputs, ImageState, Observed
from kfws.spec.model import (
    ClusterSpec,
    GeneratedSpec,
    ImageSpec,
    RegistryOptions,
    SpawnerSpec,
    Spec,
)

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
