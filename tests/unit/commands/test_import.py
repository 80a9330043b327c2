from __future__ import annotations

import yaml

from kfws.commands.import_ import merge_spawner_section
from kfws.spawner_yaml import LiveGroup, LiveSpawner

LIVE = LiveSpawner(
    groups=(LiveGroup("image", "a:1", ("a:1", "b:2")), LiveGroup("imageGroupOne", None, ("c:3",))),
    hide_tag=False,
)


def test_merge_keeps_comments_other_keys_and_group_settings() -> None:
    text = (
        "# team workspace\n"
        "apiVersion: kfws/v1alpha1  # the format\n"
        "kind: Workspace\n"
        "images:\n"
        "  - name: nb   # ours\n"
        "    from: base:1\n"
        "spawner:\n"
        "  image:\n"
        "    default: old:1\n"
        "    options: [old:1]\n"
        "    mode: merge  # keep theirs\n"
    )
    new = merge_spawner_section(text, LIVE, namespace="kubeflow")
    assert new.startswith(
        "# team workspace\napiVersion: kfws/v1alpha1  # the format\nkind: Workspace\n"
        "images:\n  - name: nb   # ours\n    from: base:1\n"
    )
    assert "mode: merge  # keep theirs" in new
    spawner = yaml.safe_load(new)["spawner"]
    assert spawner["image"] == {"default": "a:1", "options": ["a:1", "b:2"], "mode": "merge"}
    assert spawner["imageGroupOne"] == {"default": "c:3", "options": ["c:3"]}
    assert spawner["hideTag"] is False


def test_new_file() -> None:
    doc = yaml.safe_load(merge_spawner_section(None, LIVE, namespace="team-ns"))
    assert doc["cluster"] == {"namespace": "team-ns"}
    assert doc["spawner"]["image"]["options"] == ["a:1", "b:2"]
