"""What each kept backup text names, and what it is a backup of (the pure part of
kfws.observe.backups; listing the ConfigMaps is the env tests' business)."""

from __future__ import annotations

import json

from kfws.observe.backups import references_by_backup
from kfws.usage.refs import Ref

SPAWNER = """\
spawnerFormDefaults:
  image:
    value: reg.example.com/a/nb:t1
    options:
      - reg.example.com/a/nb:t1
      - reg.example.com/a/nb:t2
"""
KIND = json.dumps(
    {
        "format": 1,
        "workspaceKind": "lab",
        "default": None,
        "resourceVersion": "7",
        "values": [{"id": "x", "spec": {"image": "reg.example.com/a/nb:t2"}}],
    }
)


def test_each_reference_comes_with_what_its_backup_is_of_once_per_backup_kind() -> None:
    got = references_by_backup(
        [("kfws-backup-jwa", SPAWNER), ("kfws-backup-jwa", SPAWNER),
         ("kfws-backup-workspacekind-lab", KIND)],
        "kubeflow",
    )  # fmt: skip
    t1, t2 = Ref("reg.example.com/a/nb", "t1", None), Ref("reg.example.com/a/nb", "t2", None)
    assert got == [
        (t1, "the spawner config"),
        (t2, "the spawner config"),
        (t2, "WorkspaceKind lab"),
    ]


def test_a_text_no_target_knows_still_protects_what_it_names_under_its_configmap() -> None:
    got = references_by_backup([("kfws-backup-odd", "image: reg.example.com/a/nb:t9\n")], "kf")
    assert got == [
        (
            Ref("reg.example.com/a/nb", "t9", None),
            "an object kfws wrote (kept in configmap/kf/kfws-backup-odd)",
        )
    ]
    assert references_by_backup([], "kf") == []
