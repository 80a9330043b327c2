"""Everything `kfws prune` weighs, read before it decides (reads only): the tags of the managed
repositories with their labels and blobs, what the cluster offers now, the notebooks and the
digests their pods run, and the images kfws's backups name. Anything it cannot see stops it:
prune never deletes what it could not prove unneeded."""

from __future__ import annotations

from kfws.errors import KfwsError
from kfws.observe.backups import backup_references
from kfws.observe.inventory import managed_repositories, tag_facts
from kfws.observe.notebooks import observe_notebooks
from kfws.observe.offered import offered_now
from kfws.observe.registry import RegistryClient
from kfws.output import Reporter
from kfws.prune.decide import PrunePlan, TagInfo, decide
from kfws.spec.model import Spec
from kfws.usage.refs import ref


def observe_prune(
    spec: Spec,
    client: RegistryClient,
    *,
    keep: int,
    context: str | None,
    parallelism: int,
    reporter: Reporter,
) -> PrunePlan:
    notebooks = observe_notebooks(context)
    if notebooks.unseen:
        raise KfwsError(
            "kfws prune deletes nothing it cannot prove unused, and it could not see "
            + "; ".join(notebooks.unseen),
            where="kfws prune",
            hint="run it as an identity with the usage ClusterRole (`kfws rbac --role usage`), "
            "e.g. the read-only one",
        )
    offered = [r for o in offered_now(spec, context=context, reporter=reporter) if (r := ref(o))]
    backups = backup_references(spec.cluster.namespace, context=context)
    facts = tag_facts(client, managed_repositories(spec), parallelism)
    tags = [
        TagInfo(repo, tag, f.digest, f.labels, f.created, f.size, f.blobs)
        for (repo, tag), f in facts.items()
    ]
    return decide(tags, keep=keep, offered=offered, notebooks=notebooks.notebooks, backups=backups)
