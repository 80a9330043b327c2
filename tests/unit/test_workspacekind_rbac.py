"""The WorkspaceKind ClusterRoles: deploy/rbac/ is what kfws renders by default, writes to kinds
are narrowed by name, the read-only ClusterRole only reads, and names can't inject YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kfws import rbac

REPO = Path(__file__).resolve().parents[2]


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind_name(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in documents(text)}


def test_deploy_rbac_is_what_kfws_renders_by_default() -> None:
    deployed = REPO / "deploy" / "rbac" / rbac.WORKSPACEKINDS
    assert deployed.read_text() == rbac.render_workspacekinds()


def test_the_writer_gets_and_patches_only_the_named_kinds() -> None:
    objs = by_kind_name(rbac.render_workspacekinds(("jupyterlab", "codeserver"), namespace="ops"))
    writer = objs[("ClusterRole", "kfws-workspacekinds")]["rules"]
    assert writer == [
        {"apiGroups": ["kubeflow.org"], "resources": ["workspacekinds"], "verbs": ["list"]},
        {
            "apiGroups": ["kubeflow.org"],
            "resources": ["workspacekinds"],
            "verbs": ["get", "patch"],
            "resourceNames": ["codeserver", "jupyterlab"],
        },
    ]
    backup = objs[("Role", "kfws-workspacekinds")]
    assert backup["metadata"]["namespace"] == "ops"
    assert backup["rules"][1] == {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "verbs": ["update"],
        "resourceNames": [
            "kfws-backup-workspacekind-codeserver",
            "kfws-backup-workspacekind-jupyterlab",
        ],
    }
    subjects = {
        (k, d["subjects"][0]["name"], d["subjects"][0]["namespace"])
        for (k, _), d in objs.items()
        if k.endswith("Binding")
    }
    assert subjects == {
        ("ClusterRoleBinding", "kfws", "ops"),
        ("RoleBinding", "kfws", "ops"),
        ("ClusterRoleBinding", "kfws-readonly", "ops"),
    }


def test_the_read_only_cluster_role_only_reads() -> None:
    objs = by_kind_name(rbac.render_workspacekinds())
    (rule,) = objs[("ClusterRole", "kfws-workspacekinds-readonly")]["rules"]
    assert set(rule["verbs"]) == {"get", "list"}


@pytest.mark.parametrize("bad", ["x\nkind: ClusterRole", "UPPER", "a" * 254, "", 'a"]'])
def test_bad_kind_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="WorkspaceKind name"):
        rbac.render_workspacekinds((bad,))


def test_no_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="no WorkspaceKind"):
        rbac.render_workspacekinds(())


def test_kfws_rbac_names_the_kinds_given_or_those_the_file_declares(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kfws.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["rbac", "--workspacekinds", "codeserver"]) == 0
    out = by_kind_name(capsys.readouterr().out)
    assert out[("ClusterRole", "kfws-workspacekinds")]["rules"][1]["resourceNames"] == [
        "codeserver"
    ]
    assert main(["rbac", "--workspacekinds"]) == 1  # no file, no names
    assert "declares none" in capsys.readouterr().err
    (tmp_path / "workspace.yaml").write_text(
        "apiVersion: kfws/v1alpha1\nkind: Workspace\ncluster: {namespace: team}\n"
        "workspaceKinds:\n  rstudio:\n    images: [{id: r4, image: 'ghcr.io/x/r:4'}]\n"
    )
    assert main(["rbac", "--workspacekinds"]) == 0
    out = by_kind_name(capsys.readouterr().out)
    assert out[("ClusterRole", "kfws-workspacekinds")]["rules"][1]["resourceNames"] == ["rstudio"]
    assert out[("Role", "kfws-workspacekinds")]["metadata"]["namespace"] == "team"
