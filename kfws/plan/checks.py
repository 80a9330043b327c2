"""The checks half of the planner (pure): which offered images apply will run the Kubeflow
contract check on before it touches the cluster.

Only a plan that changes something checks anything (an image built or pushed, or the spawner
changed): a workspace already in place is not re-judged on every plan. Then every managed image
the spawner offers is checked, unless its registry digest already passed that kind of check on
this machine (kfws.observe.check_cache). An image this plan builds or pushes has no digest yet: it
is always checked, after its push.
"""

from __future__ import annotations

from collections.abc import Sequence

from kfws.check import cache_key, offered_kinds
from kfws.observe.model import Observed
from kfws.plan.model import Change, ChangeKind
from kfws.spec.model import Spec


def plan_checks(spec: Spec, observed: Observed, changes: Sequence[Change]) -> list[Change]:
    if not changes:
        return []
    produced = {str(c.details.get("name")) for c in changes if c.kind.is_image}
    checks: list[Change] = []
    for name, kinds in offered_kinds(spec).items():
        state = observed.images[name]
        digest = None if name in produced else state.registry_digest
        todo = [k for k in kinds if not digest or cache_key(digest, k) not in observed.checks]
        if not todo:
            continue
        titles = " and ".join(k.title for k in todo)
        reason = (
            f"built by this plan: the {titles} contract is checked after the push, "
            "before the spawner changes"
            if name in produced
            else f"offered; this digest has not passed the {titles} contract check here yet"
        )
        checks.append(
            Change(
                kind=ChangeKind.CHECK_IMAGE,
                target=state.reference,
                reason=reason,
                before=None,
                after=digest,
                details={"name": name, "kinds": [k.value for k in todo], "digest": digest},
            )
        )
    return checks
