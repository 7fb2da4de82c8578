"""What applying the mesh files would change: created, changed and removed resources, problems
(references to what exists neither in the files nor in the hub, changes the services refuse) and
the effect on access.

The plan runs every change through the services in a transaction that is rolled back, so it
refuses exactly what ``apply`` would refuse (permissions and guardrails as if the caller made each
change by hand), and reads the decisions before and after from the policy engine, as ``explain``
does. :mod:`.diff` finds the changes and the problems of the files, :mod:`.ordering` orders them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.authz import policy_index
from lakemesh.errors import LakemeshError, NotFoundError
from lakemesh.hub import Hub
from lakemesh.meshfile import changes as handlers
from lakemesh.meshfile.change_context import Context
from lakemesh.meshfile.diff import Change, Problem, diff, lazy_grant_keys
from lakemesh.meshfile.effects import AccessEffects, affected_pairs, snapshot
from lakemesh.meshfile.model import MeshFiles
from lakemesh.meshfile.ordering import ordered, transaction_groups, without
from lakemesh.meshfile.resources import Resource
from lakemesh.model.actions import Action
from lakemesh.model.actors import GOVERNANCE, Actor
from lakemesh.store.schema import Grant

MAX_PROBLEMS = 100
"""A plan stops trying its changes again after this many problems."""


@dataclass
class Plan:
    """What applying the files would do."""

    changes: list[Change] = field(default_factory=list)
    kept: list[Resource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    effects: AccessEffects = field(default_factory=AccessEffects)
    groups: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        counts = {
            action: sum(1 for c in self.changes if c.action == action)
            for action in ("create", "change", "remove")
        }
        return {
            "summary": {**counts, "kept": len(self.kept), "problems": len(self.problems)},
            "changes": [change.to_dict() for change in self.changes],
            "kept": [{"kind": r.kind, "key": r.key, "folder": r.folder} for r in self.kept],
            "problems": [problem.to_dict() for problem in self.problems],
            "effects": self.effects.to_dict(),
            "transactions": self.groups,
        }


class DryRunDone(Exception):
    """Raised to roll a dry run back (never escapes this module)."""


def check_authority(session: Session, *, actor: Actor, files: MeshFiles) -> None:
    """A domain admin may apply its own domains' folders only; ``mesh.yaml`` is mesh admins'.

    Raises:
        AccessDeniedError: naming the first folder the actor does not administer (audited).
    """
    if files.mesh is not None:
        actor.require_mesh_admin(action=Action.MESH_APPLY, resource=f"{GOVERNANCE}/mesh.yaml")
    for folder in files.domains:
        actor.require_domain_admin(
            folder.domain.name, action=Action.MESH_APPLY, resource=f"{folder.domain.name}/"
        )


def run(session: Session, context: Context, found: Sequence[Change]) -> None:
    """Make ``found`` in this transaction, in order; the first refusal raises. Creations of a
    kind with a batched service entry point go to it together."""
    changes = ordered(found)
    position = 0
    while position < len(changes):
        change = changes[position]
        if change.action == "create":
            kind, end = change.resource.kind, position + 1
            while kind in handlers.BATCHED and end < len(changes):
                if (changes[end].action, changes[end].resource.kind) != ("create", kind):
                    break
                end += 1
            handlers.create_many(session, context, [c.resource for c in changes[position:end]])
            position = end
            continue
        position += 1
        try:
            if change.action == "change":
                assert change.before is not None
                handlers.change(session, context, change.before, change.resource)
            elif change.resource.kind in ("grant", "share") and not _grant_alive(
                session, context, change
            ):
                continue  # revoked already (with its parent; a share's answer with the share)
            else:
                handlers.remove(session, context, change.resource)
        except LakemeshError:
            context.refused = change.resource
            raise


def _grant_alive(session: Session, context: Context, change: Change) -> bool:
    try:
        grant_id = context.grant_id(change.resource.key)
    except NotFoundError:
        return False
    return session.get(Grant, grant_id) is not None


def refused(context: Context, group: list[str], error: LakemeshError) -> Problem:
    """The problem of the change ``context`` saw refused with ``error``."""
    resource = context.refused
    if resource is None:
        return Problem("", "", group[0], error)
    return Problem(resource.kind, resource.key, resource.folder, error)


def dry_run(
    session: Session,
    *,
    actor: Actor,
    found: Sequence[Change],
    groups: list[list[str]],
    secrets: Mapping[str, str] | None = None,
) -> tuple[list[Problem], AccessEffects]:
    """Make every change in ``session`` (which the caller rolls back): the first refusal, or the
    effect on access.

    No savepoints: releasing one runs the session's commit hooks (the policy version would move
    inside a transaction that is rolled back), so one dry run stops at the first refusal
    (:func:`plan_mesh` runs another without it).
    """
    before_index = policy_index(session)  # the committed state: the transaction forks its own
    context = Context(actor=actor, grant_ids=lazy_grant_keys(session), secrets=secrets or {})
    by_folder: dict[str, list[Change]] = defaultdict(list)
    for change in found:
        by_folder[change.resource.folder].append(change)
    for group in groups:
        try:
            run(session, context, [c for folder in group for c in by_folder[folder]])
        except LakemeshError as error:
            return [refused(context, group, error)], AccessEffects()
    pairs = affected_pairs(session, [change.resource for change in found])
    before = snapshot(before_index, pairs)
    after = snapshot(policy_index(session), pairs)
    return [], AccessEffects.between(before, after, pairs)


def plan_mesh(
    hub: Hub,
    *,
    actor: Actor,
    files: MeshFiles,
    prune: bool = False,
    secrets: Mapping[str, str] | None = None,
) -> Plan:
    """Compare ``files`` with the hub and try every change in a transaction that is rolled back.
    ``secrets`` are the values of the secrets the files name (see :mod:`.secrets`).

    Every refusal is reported (up to :data:`MAX_PROBLEMS`): after one, the changes are tried
    again without it and the changes that need it.

    Raises:
        AccessDeniedError: a folder the actor does not administer (audited).
        InvalidInputError: a name or expression in the files that does not parse.
    """
    with hub.read() as session:
        check_authority(session, actor=actor, files=files)
        found, kept, problems, _ = diff(session, files, prune=prune, secrets=secrets)
    plan = Plan(changes=ordered(found), kept=kept, problems=problems)
    plan.groups = transaction_groups(found)
    remaining = without(found, {(p.kind, p.key) for p in problems})
    while remaining:
        refusals, effects = _try(hub, actor, remaining, plan.groups, secrets)
        if not refusals:
            if not plan.problems:
                plan.effects = effects
            break
        plan.problems.extend(refusals)
        refused_refs = {(p.kind, p.key) for p in refusals if p.kind}
        if len(refused_refs) < len(refusals) or len(plan.problems) >= MAX_PROBLEMS:
            break  # a refusal outside any one change, or enough to read
        remaining = without(remaining, refused_refs)
    return plan


def _try(
    hub: Hub,
    actor: Actor,
    found: Sequence[Change],
    groups: list[list[str]],
    secrets: Mapping[str, str] | None,
) -> tuple[list[Problem], AccessEffects]:
    """One dry run of ``found`` in a transaction that is rolled back."""
    result: list[Any] = []
    try:
        with hub.transaction() as session:
            result.extend(
                dry_run(session, actor=actor, found=found, groups=groups, secrets=secrets)
            )
            raise DryRunDone
    except DryRunDone:
        pass
    return result[0], result[1]
