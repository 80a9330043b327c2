"""Renders the seeded Kubeflow notebooks as a YAML stream for kubectl: two profile namespaces,
their Notebook objects (notebooks.kubeflow.org/v1), and for each the StatefulSet the notebook
controller would make (replicas 1, or 0 when the notebook carries `kubeflow-resource-stopped`),
whose pod KWOK marks Running with the `imageID` the pod annotation gives it (see
kwok-pod-stages.yaml): the registry digest of the image, looked up here.

    python3 seed.py REGISTRY            the manifests (REGISTRY: the open registry, host:port)
    python3 seed.py --namespaces        only the profile namespaces' names

Seeded: by tag and by digest, running and stopped, an image kfws never built (the python base),
the spawner's external default (ghcr.io, never pulled here), and a running notebook whose image
no registry has anymore (its pod still runs the digest it pulled once).
Standard library only: it runs with the system python3.
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.error
import urllib.request

NAMESPACES = ("kubeflow-user-alice", "kubeflow-user-bob")
SEED_LABEL = "kfws.test/seed"
IMAGE_ID_ANNOTATION = "image-id.kwok.kfws.test/"  # + container name (kwok-pod-stages.yaml)
STOPPED = "kubeflow-resource-stopped"
ACCEPT = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)
EXTERNAL = "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
# a digest nobody can pull: the image was deleted from its registry after the pod pulled it
GONE_DIGEST = "sha256:" + hashlib.sha256(b"kfws test: an image deleted from its registry").hexdigest()


def digest(registry: str, repository: str, tag: str) -> str:
    req = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": ACCEPT}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 (loopback registry)
            value = r.headers.get("Docker-Content-Digest", "")
    except (urllib.error.URLError, OSError) as e:
        raise SystemExit(f"seed.py: cannot look up {registry}/{repository}:{tag}: {e}") from None
    if not value.startswith("sha256:"):
        raise SystemExit(f"seed.py: {registry}/{repository}:{tag} has no digest")
    return value


def notebooks(registry: str) -> list[tuple[str, str, str, str | None, bool]]:
    """(namespace, name, image, the repository@digest its pod runs or None, stopped)."""
    base = f"{registry}/kfws-base/notebook"
    python = f"{registry}/kfws-base/python"
    base_digest = digest(registry, "kfws-base/notebook", "busybox")
    python_digest = digest(registry, "kfws-base/python", "bookworm")
    alice, bob = NAMESPACES
    return [
        (alice, "scipy-tag", f"{base}:busybox", f"{base}@{base_digest}", False),
        (alice, "scipy-paused", f"{base}:busybox", None, True),
        (alice, "ghcr-default", EXTERNAL, None, True),
        (bob, "pinned", f"{base}@{base_digest}", None, False),
        (bob, "python-old", f"{python}:bookworm", f"{python}@{python_digest}", True),
        (
            bob,
            "retired",
            f"{registry}/ds-team/retired:v0",
            f"{registry}/ds-team/retired@{GONE_DIGEST}",
            False,
        ),
    ]


def notebook(ns: str, name: str, image: str, stopped: bool) -> dict[str, object]:
    annotations = {"notebooks.kubeflow.org/server-type": "jupyter"}
    if stopped:
        annotations[STOPPED] = "2026-11-01T09:00:00Z"
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app": name, SEED_LABEL: "notebooks"},
            "annotations": annotations,
        },
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                        }
                    ]
                }
            }
        },
    }


def statefulset(ns: str, name: str, image: str, runs: str | None, stopped: bool) -> dict[str, object]:
    """What the notebook controller makes of a Notebook (pod `<name>-0`, labelled
    notebook-name=<name>)."""
    annotations = {IMAGE_ID_ANNOTATION + name: runs} if runs else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": ns, "labels": {SEED_LABEL: "notebooks"}},
        "spec": {
            "replicas": 0 if stopped else 1,
            "serviceName": "",
            "selector": {"matchLabels": {"statefulset": name}},
            "template": {
                "metadata": {
                    "labels": {"statefulset": name, "notebook-name": name},
                    "annotations": annotations,
                },
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def namespace(ns: str) -> dict[str, object]:
    # labelled as a Kubeflow profile's namespace
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": ns,
            "labels": {"app.kubernetes.io/part-of": "kubeflow-profile", SEED_LABEL: "notebooks"},
            "annotations": {"owner": ns.removeprefix("kubeflow-user-") + "@example.com"},
        },
    }


def render(registry: str) -> str:
    docs: list[dict[str, object]] = [namespace(ns) for ns in NAMESPACES]
    for ns, name, image, runs, stopped in notebooks(registry):
        docs.append(notebook(ns, name, image, stopped))
        docs.append(statefulset(ns, name, image, runs, stopped))
    return "".join("---\n" + json.dumps(d, indent=2) + "\n" for d in docs)


if __name__ == "__main__":
    if sys.argv[1:] == ["--namespaces"]:
        print("\n".join(NAMESPACES))
    elif len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        sys.stdout.write(render(sys.argv[1]))
    else:
        raise SystemExit("usage: seed.py REGISTRY | --namespaces")
