from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from kfws.observe.kube_api import field, str_map


def test_field_walks_objects_and_reads_missing_steps_as_none() -> None:
    dep = {"spec": {"template": {"spec": {"volumes": [{"name": "c"}]}}}, "metadata": None}
    assert field(dep, "spec", "template", "spec", "volumes") == [{"name": "c"}]
    assert field(dep, "spec", "selector", "matchLabels") is None
    assert field(dep, "metadata", "name") is None  # a null object
    assert field({"spec": "text"}, "spec", "template") is None  # not an object
    assert field(None, "metadata") is None


def test_str_map_keeps_only_string_entries() -> None:
    assert str_map({"a": "1", "b": 2, "c": None, "d": "x"}) == {"a": "1", "d": "x"}
    assert str_map(None) == {}
    assert str_map(["a"]) == {}


# What the plan path of kfws imports: the CLI and every module `kfws plan` loads, then the
# cluster observers run to their first request, which finds the port closed (no server: the
# whole plan against the real API server is in the env tests).
PLAN_PATH = textwrap.dedent(
    """
    import json, sys
    from kfws.cli import build_parser
    from kfws.errors import ClusterError
    build_parser()
    from kfws.commands.plan import make, run
    from kfws.observe.observe import observe
    from kfws.observe.notebooks import observe_notebooks
    from kfws.targets.spawner.observe import observe_cluster
    from kfws.plan.build import make_plan
    from kfws.render import render
    from kfws.spec.model import ClusterSpec
    for observer in (
        lambda: observe_cluster(ClusterSpec(namespace="kubeflow"), context=None),
        lambda: observe_notebooks(None),  # who uses what a plan removes
    ):
        try:
            observer()
        except ClusterError as e:
            print(e.message, file=sys.stderr)
    print(json.dumps(sorted(sys.modules)))
    """
)


def closed_port() -> int:
    with socket.socket() as s:  # bound, never listening: connections to it are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_closed(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter whose kubeconfig names a closed port."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "c", "cluster": {"server": f"https://127.0.0.1:{closed_port()}"}}
                ],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    env = {"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=300,
    )


def test_the_cluster_plan_path_imports_no_models_and_no_engine(tmp_path: Path) -> None:
    """Guards the speed of a cluster-only plan without timing it: the typed Kubernetes API
    classes and their pydantic models (seconds to import), the Docker SDK, deepdiff and the
    engine client stay out of the process."""
    proc = run_closed(PLAN_PATH, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "cannot reach the Kubernetes API to list deployments" in proc.stderr
    assert "cannot reach the Kubernetes API to list notebooks" in proc.stderr
    modules = set(json.loads(proc.stdout))
    assert "kubernetes.client.api_client" in modules  # the official client did load the config
    heavy = sorted(
        m
        for m in modules
        if m.startswith(("kubernetes.client.api.", "kubernetes.client.models."))
        or m.split(".")[0] in ("docker", "deepdiff")
        or m.startswith("kfws.observe.engine")
    )
    assert heavy == []


# What apply, rollback, drift, unlock and prune's backup lookup import, each run to its first
# request (refused: the port is closed; the env tests run them against the real API server).
WRITE_PATH = textwrap.dedent(
    """
    import json, sys
    from kfws.errors import ClusterError
    from kfws.observe.backups import backup_texts
    from kfws.observe.cluster import acting_identity, load_api
    from kfws.spec.model import ClusterSpec
    from kfws.targets.backups import push_backup
    from kfws.targets.clients import Clients
    from kfws.targets.lock import unlock
    from kfws.targets.run import locked
    from kfws.targets.spawner import applier, drift_observe, restore
    from kfws.targets.spawner.restart import restart_webapp
    from kfws.targets.spawner.write import write_config
    cl = Clients.connect(None)
    print("identity", acting_identity(cl.api, None), file=sys.stderr)
    for step in (
        lambda: unlock(ClusterSpec(namespace="kf"), context=None),
        lambda: locked("kf", context=None, lock_timeout=1, rollout_timeout=1,
                       reporter=None).__enter__(),
        lambda: backup_texts("kf", context=None),
        lambda: push_backup(cl.api, "kf", "cm", "k", "text"),
    ):
        try:
            step()
        except ClusterError as e:
            print(e.message, file=sys.stderr)
    print(json.dumps(sorted(sys.modules)))
    """
)


def test_the_cluster_write_paths_import_no_typed_api(tmp_path: Path) -> None:
    """apply, rollback, drift, unlock and prune read and write as JSON through kube_api: the
    typed CoreV1Api / AppsV1Api / CoordinationV1Api and their models stay out of the process."""
    proc = run_closed(WRITE_PATH, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "identity kubeconfig user u\n" in proc.stderr  # no review: the kubeconfig's user
    # unlock, then apply's lock: a clean error each, no traceback (both were one before)
    assert proc.stderr.count("cannot reach the Kubernetes API to get leases/kfws-apply") == 2
    assert "cannot reach the Kubernetes API to list configmaps" in proc.stderr
    assert "cannot reach the Kubernetes API to get configmaps/kfws-backup-cm" in proc.stderr
    modules = set(json.loads(proc.stdout))
    assert {"kubernetes.client.api_client", "kfws.targets.spawner.write"} <= modules
    assert (
        sorted(
            m
            for m in modules
            if m.startswith(("kubernetes.client.api.", "kubernetes.client.models."))
        )
        == []
    )
