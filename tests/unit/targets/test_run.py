"""The shared cluster step (kfws.targets.run), its parts that need no cluster: a change a GitOps
controller would revert is refused before anything is written, naming the owner; a plan without
cluster changes connects to nothing."""

from __future__ import annotations

import pytest

from kfws import output
from kfws.errors import ApplyError
from kfws.plan.model import Change, ChangeKind
from kfws.targets.run import apply_cluster_changes, refuse_gitops_owned
from kfws.targets.spawner.kinds import UPDATE

OWNED = Change(UPDATE, "configmap/kf/cm", "r", details={"gitopsOwner": "Argo CD (application kf)"})
FREE = Change(UPDATE, "configmap/kf/other", "r", details={"gitopsOwner": None})


def test_a_gitops_owned_change_is_refused_naming_the_owner_and_what_was_not_done() -> None:
    with pytest.raises(ApplyError) as e:
        refuse_gitops_owned([FREE, OWNED], allow=False, built=", and nothing was built")
    assert e.value.message == (
        "configmap/kf/cm is managed by Argo CD (application kf): its next sync would revert "
        "this change. Nothing was changed on the cluster, and nothing was built"
    )
    assert e.value.where == "configmap/kf/cm" and "--allow-gitops-owned" in (e.value.hint or "")


def test_allowed_or_unowned_changes_pass() -> None:
    refuse_gitops_owned([OWNED], allow=True)
    refuse_gitops_owned([FREE], allow=False)


def test_a_plan_without_cluster_changes_touches_no_cluster() -> None:
    image = Change(ChangeKind.BUILD_IMAGE, "r/a:1", "missing")
    # no kubeconfig is read: a context that does not exist would fail if it were
    done = apply_cluster_changes(
        [image],
        "kubeflow",
        context="no-such-context",
        lock_timeout=1,
        rollout_timeout=1,
        reporter=output,
    )
    assert done == []
