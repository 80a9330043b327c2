"""Pushing small images straight through a real registry's API (blobs, then the manifest), for
tests that need many tags or kfws's labels without a build: an image here is a config blob
(with the labels and creation time given) and one small layer. Credentials, for the TLS
registry, come from the environment's Docker config."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import requests

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
KFWS_LABELS = ("dev.kfws.input-digest", "dev.kfws.image-name")


def kfws_labels(name: str, seed: str) -> dict[str, str]:
    """The labels kfws puts on what it builds (kfws.apply.images)."""
    return {
        "dev.kfws.input-digest": "sha256:" + hashlib.sha256(seed.encode()).hexdigest(),
        "dev.kfws.image-name": name,
    }


def layer(content: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = content.encode()
        info = tarfile.TarInfo("kfws-test.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


class Pusher:
    def __init__(self, registry: str, *, tls: bool = False) -> None:
        self.registry = registry
        self.base = f"{'https' if tls else 'http'}://{registry}"
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify` below
        if tls:
            self.session.verify = os.environ["KFWS_TEST_CA_FILE"]
            config = json.loads(
                (Path(os.environ["DOCKER_CONFIG"]) / "config.json").read_text(encoding="utf-8")
            )
            user, _, password = (
                base64.b64decode(config["auths"][registry]["auth"]).decode().partition(":")
            )
            self.session.auth = (user, password)

    def blob(self, name: str, data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.session.head(f"{self.base}/v2/{name}/blobs/{digest}").status_code != 200:
            r = self.session.post(f"{self.base}/v2/{name}/blobs/uploads/")
            r.raise_for_status()
            location = r.headers["Location"]
            sep = "&" if "?" in location else "?"
            url = location if location.startswith("http") else self.base + location
            self.session.put(f"{url}{sep}digest={digest}", data=data).raise_for_status()
        return {"digest": digest, "size": len(data)}

    def image(
        self,
        name: str,
        tags: list[str],
        *,
        labels: dict[str, str] | None = None,
        created: str = "2026-11-01T00:00:00Z",
        content: str = "kfws",
    ) -> str:
        """Pushes one image under each tag; returns its manifest digest."""
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": created,
                "config": {"Labels": labels or {}},
                "rootfs": {"type": "layers", "diff_ids": []},
            },
            sort_keys=True,
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    **self.blob(name, config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        **self.blob(name, layer(content)),
                    }
                ],
            },
            sort_keys=True,
        ).encode()
        for tag in tags:
            self.session.put(
                f"{self.base}/v2/{name}/manifests/{tag}",
                data=manifest,
                headers={"Content-Type": DOCKER_MANIFEST},
            ).raise_for_status()
        return "sha256:" + hashlib.sha256(manifest).hexdigest()

    def tags(self, name: str) -> set[str]:
        r = self.session.get(f"{self.base}/v2/{name}/tags/list?n=100000")
        if r.status_code == 404:
            return set()
        r.raise_for_status()
        return set(r.json().get("tags") or [])
