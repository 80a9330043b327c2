"""examples/ci/kfws.yml keeps the writer credentials in the apply job only, pins kfws, and never
splices a secret or an event field into script text (where it could be injected or logged)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kfws import __version__

WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "ci" / "kfws.yml"


def jobs() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text())["jobs"])


def secrets_of(job: dict[str, Any]) -> set[str]:
    return set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))


def test_only_the_apply_job_holds_the_writer_credentials() -> None:
    j = jobs()
    assert secrets_of(j["apply"]) == {"KFWS_KUBECONFIG", "REGISTRY_PASSWORD"}
    for name in ("plan", "drift"):
        assert secrets_of(j[name]) == {"KFWS_KUBECONFIG_READONLY", "REGISTRY_PULL_PASSWORD"}


def test_no_expression_is_spliced_into_a_script() -> None:
    for name, job in jobs().items():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), (name, step)


def test_the_installed_kfws_is_pinned() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert doc["env"]["KFWS_VERSION"] == __version__
    installs = [
        s["run"]
        for job in jobs().values()
        for s in job["steps"]
        if "pip install" in s.get("run", "")
    ]
    assert installs and all(run == 'pip install "kfws==$KFWS_VERSION"' for run in installs)
