"""Renders one seeded layout as a YAML stream for kubectl: the ConfigMap (as JSON, which is YAML)
and the Deployment template with the ConfigMap's name filled in.

    python3 render.py kf1.10|kf1.0                   the manifests
    python3 render.py kf1.10|kf1.0 --configmap-name  only the ConfigMap's name

kf1.10 names the ConfigMap the way kustomize's configMapGenerator does: the base name, a dash,
and 10 characters derived from the SHA-256 of the object's canonical JSON (kind, name, data),
with 0 1 3 a e mapped to g h k m t so the suffix never spells words or confusable digits.
Standard library only: it runs with the system python3.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
BASE_NAME = "jupyter-web-app-config"
KEY = "spawner_ui_config.yaml"
LABELS_1_10 = {"app": "jupyter-web-app", "kustomize.component": "jupyter-web-app"}
LABELS_1_0 = {
    "app": "jupyter-web-app",
    "kustomize.component": "jupyter-web-app",
    "app.kubernetes.io/name": "jupyter-web-app",
}


def kustomize_suffix(name: str, data: dict[str, str]) -> str:
    canonical = json.dumps(
        {"data": data, "kind": "ConfigMap", "name": name}, sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def configmap(layout: str) -> dict[str, object]:
    if layout == "kf1.10":
        data = {KEY: (HERE / "spawner_ui_config-kf1.10.yaml").read_text()}
        name = f"{BASE_NAME}-{kustomize_suffix(BASE_NAME, data)}"
        labels = LABELS_1_10
    elif layout == "kf1.0":
        data = {KEY: (HERE / "spawner_ui_config-kf1.0.yaml").read_text()}
        name = BASE_NAME
        labels = LABELS_1_0
    else:
        raise SystemExit(f"render.py: unknown layout {layout!r} (kf1.10 or kf1.0)")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }


def render(layout: str) -> str:
    cm = configmap(layout)
    name = cm["metadata"]["name"]  # type: ignore[index]
    deployment = (HERE / f"{layout}-deployment.yaml").read_text().replace("@CONFIGMAP@", name)
    return "---\n" + json.dumps(cm, indent=2) + "\n---\n" + deployment


if __name__ == "__main__":
    if sys.argv[2:] == ["--configmap-name"]:
        print(configmap(sys.argv[1])["metadata"]["name"])  # type: ignore[index]
    else:
        sys.stdout.write(render(sys.argv[1]))
