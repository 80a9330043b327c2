"""The shipped Roles: deploy/rbac/ is what `kfws rbac` prints, the writer narrows every write to
an existing object by name, the read-only Role only reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kfws import rbac
from kfws.cli import main

REPO = Path(__file__).resolve().parents[2]
# what Kubernetes cannot narrow by resourceNames (create) or kfws lists by label (list), and pod
# deletes (generated names): the only rules allowed without names
UNNAMED_OK = {"get", "list", "create"}


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def rules(text: str, kind: str = "Role") -> list[dict[str, Any]]:
    (role,) = [d for d in documents(text) if d["kind"] == kind]
    return list(role["rules"])


@pytest.mark.parametrize(
    ("role", "filename"),
    [
        ("writer", rbac.WRITER),
        ("read-only", rbac.READ_ONLY),
        ("usage", rbac.USAGE),
        ("nodes", rbac.NODES),
    ],
)
def test_deploy_rbac_is_what_kfws_rbac_prints_by_default(role: str, filename: str) -> None:
    assert (REPO / "deploy" / "rbac" / filename).read_text() == rbac.render(role)


def test_the_writer_narrows_every_write_to_an_existing_object_by_name() -> None:
    text = rbac.render("writer", configmap="jupyter-web-app-config-5t7h8kd9c2")
    named: dict[tuple[str, str], set[str]] = {}
    for rule in rules(text):
        verbs, names = set(rule["verbs"]), rule.get("resourceNames")
        (resource,) = rule["resources"]
        if names:
            for verb in verbs:
                named.setdefault((resource, verb), set()).update(names)
        elif resource == "pods":
            assert verbs == {"list", "delete"}  # generated names: see the Role's comment
        else:
            assert verbs <= UNNAMED_OK, rule
        assert not verbs & {"watch", "deletecollection", "*", "escalate", "bind"}
    assert named == {
        ("deployments", "patch"): {"jupyter-web-app-deployment"},
        ("configmaps", "patch"): {"jupyter-web-app-config-5t7h8kd9c2"},
        ("configmaps", "update"): {"kfws-backup-jupyter-web-app-config-5t7h8kd9c2"},
        ("leases", "get"): {"kfws-apply"},
        ("leases", "update"): {"kfws-apply"},
    }
    # the backup name is the one kfws writes
    from kfws.targets.backups import backup_name
    from kfws.targets.lock import LEASE_NAME

    assert backup_name("jupyter-web-app-config-5t7h8kd9c2") in text and LEASE_NAME in text


def test_the_read_only_role_only_gets_and_lists() -> None:
    for rule in rules(rbac.render("read-only")):
        assert set(rule["verbs"]) <= {"get", "list"}, rule


def test_names_fill_in_as_whole_words_and_bad_names_are_refused() -> None:
    text = rbac.render("both", configmap="cm-x", deployment="web", namespace="team-a")
    subjects = [d["subjects"][0] for d in documents(text) if d["kind"] == "RoleBinding"]
    assert {(s["name"], s["namespace"]) for s in subjects} == {
        ("kfws", "team-a"),
        ("kfws-readonly", "team-a"),
    }
    assert "jupyter-web-app-deployment" not in text and "kfws-backup-cm-x" in text
    for bad in ("x\nkind: ClusterRole", "UPPER", "a" * 254, ""):
        with pytest.raises(ValueError):
            rbac.render("writer", configmap=bad)


def test_kfws_rbac_prints_both_roles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no workspace.yaml here: the defaults
    assert main(["rbac", "--configmap", "jupyter-web-app-config-abc"]) == 0
    out = capsys.readouterr().out
    kinds = [(d["kind"], d["metadata"]["name"]) for d in documents(out)]
    assert ("Role", "kfws") in kinds and ("Role", "kfws-readonly") in kinds
    assert "- jupyter-web-app-config-abc\n" in out
    assert main(["rbac", "--role", "read-only"]) == 0
    assert "kfws-readonly" in capsys.readouterr().out
    assert main(["rbac", "--configmap", "Bad Name"]) == 1


def test_the_usage_cluster_role_only_gets_and_lists_notebooks_and_pods() -> None:
    text = rbac.render("usage", namespace="team-a")
    assert [(r["apiGroups"], r["resources"], r["verbs"]) for r in rules(text, "ClusterRole")] == [
        (["kubeflow.org"], ["notebooks"], ["get", "list"]),
        ([""], ["pods"], ["list"]),
    ]
    (binding,) = [d for d in documents(text) if d["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kfws-readonly", "namespace": "team-a"}
    ]
    assert "kubeflow.org" in text  # the API group is not a namespace to rename


def test_the_nodes_cluster_role_only_reads_nodes_and_binds_both_identities() -> None:
    text = rbac.render("nodes", namespace="team-a")
    assert rules(text, "ClusterRole") == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}
    ]
    (binding,) = [d for d in documents(text) if d["kind"] == "ClusterRoleBinding"]
    assert binding["metadata"]["name"] == "kfws-nodes-reader-team-a"
    assert binding["roleRef"]["name"] == "kfws-nodes-reader"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kfws", "namespace": "team-a"},
        {"kind": "ServiceAccount", "name": "kfws-readonly", "namespace": "team-a"},
    ]
