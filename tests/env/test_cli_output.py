"""What the user sees on the terminal when the outside misbehaves: only kfws's own messages
(issue 10 §6: no library log lines), through the installed console script."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.env.kfws_cli import run_kfws, write_workspace

# Nothing listens on port 1: connections are refused at once, as from a cluster that is down.
DOWN = "127.0.0.1:1"


def test_an_unreachable_api_server_shows_one_kfws_message(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "down", "cluster": {"server": f"https://{DOWN}"}}],
                "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
                "contexts": [{"name": "down", "context": {"cluster": "down", "user": "u"}}],
                "current-context": "down",
            }
        )
    )
    write_workspace(
        tmp_path,
        {
            "apiVersion": "kfws/v1alpha1",
            "kind": "Workspace",
            "registry": {"default": f"{DOWN}/team", "registries": {DOWN: {"insecure": True}}},
            "images": [],
            "spawner": {"image": {"default": f"{DOWN}/team/a:1", "options": [f"{DOWN}/team/a:1"]}},
        },
    )
    env = {"KUBECONFIG": str(kubeconfig)}
    result = run_kfws("plan", cwd=tmp_path, env=env)
    assert result.code == 1, result.text
    assert "urllib3" not in result.err and "Retrying" not in result.err
    assert result.err.startswith("error: ") and "cannot reach the Kubernetes API" in result.err
    debug = run_kfws("--debug", "plan", cwd=tmp_path, env=env)
    assert "urllib3.connectionpool" in debug.err  # still there when asked for
