"""Making the hub what the mesh files say (``lakemesh apply``).

Every change goes through the services as the caller (their permissions, guardrails and audit
events), all events under one apply id. Each domain folder is applied in a transaction of its
own, after the folders whose new resources it refers to (folders that refer to each other share
one), or everything in one transaction with ``atomic``. Several transactions are tried first in
one that is rolled back: when anything is refused, nothing is applied. A refusal reports every
problem of the files (a plan's dry runs find those after the first), not only the first. Applying
the same files again changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lakemesh import audit
from lakemesh.audit.chain import AUDIT_CONTEXT
from lakemesh.errors import LakemeshError
from lakemesh.hub import Hub
from lakemesh.meshfile.change_context import Context
from lakemesh.meshfile.diff import Change, Problem, diff, lazy_grant_keys
from lakemesh.meshfile.model import MeshFiles
from lakemesh.meshfile.ordering import ordered, transaction_groups
from lakemesh.meshfile.plan import Plan, check_authority, plan_mesh, refused, run
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor


@dataclass
class ApplyResult:
    """What an apply did: its id, the plan it carried out and the transactions it committed."""

    apply_id: str
    plan: Plan
    committed: list[list[str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"apply_id": self.apply_id, **self.plan.to_dict(), "committed": self.committed}


def refusal(problems: list[Problem]) -> LakemeshError:
    """The error refusing an apply: the first problem's kind, every problem in its details."""
    first = problems[0].error
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    error = type(first)(
        f"Apply refused, nothing applied: {first.message}{more}",
        details={**first.details, "problems": [p.to_dict() for p in problems]},
    )
    return error


def _record(session: Any, *, actor: Actor, apply_id: str, folders: list[str], count: int) -> None:
    audit.record(
        session,
        actor=actor.ref,
        action=Action.MESH_APPLY,
        resource="mesh:" + ",".join(folders),
        details={"apply_id": apply_id, "folders": folders, "changes": count},
    )


def apply_mesh(
    hub: Hub,
    *,
    actor: Actor,
    files: MeshFiles,
    prune: bool = False,
    atomic: bool = False,
    secrets: Mapping[str, str] | None = None,
) -> ApplyResult:
    """Make the hub what ``files`` say; return what was done.

    ``files`` may hold some domains only: the others are left untouched, and references to
    objects outside the files are resolved against the hub. Resources of the files' domains that
    the files lack are removed only with ``prune``. ``secrets`` are the values of the secrets the
    files name (tokens' ``secret_env``), resolved by the caller; a missing one is a problem.

    Raises:
        AccessDeniedError: a folder the caller does not administer, or a change the caller may
            not make (audited); GuardrailViolationError: a change a guardrail forbids;
            NotFoundError: a reference that exists neither in the files nor in the hub. In each
            case nothing is applied, and the error's ``details["problems"]`` lists every problem.
    """
    apply_id = uuid.uuid4().hex
    plan = _plan_only(hub, actor=actor, files=files, prune=prune, secrets=secrets)
    if not atomic and len(plan.groups) > 1 and not plan.problems:
        # Several transactions: try them all first, so a refusal in a later one applies nothing.
        # (One transaction refuses as a whole on its own.)
        plan = plan_mesh(hub, actor=actor, files=files, prune=prune, secrets=secrets)
    if plan.problems:
        raise refusal(plan.problems)
    result = ApplyResult(apply_id, plan)
    if not plan.changes:
        return result
    groups = [[folder for group in plan.groups for folder in group]] if atomic else plan.groups
    by_folder: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        by_folder[change.resource.folder].append(change)
    for group in groups:
        group_changes = [c for folder in group for c in by_folder[folder]]
        context: Context | None = None
        try:
            with hub.transaction() as session:
                session.info[AUDIT_CONTEXT] = {"apply_id": apply_id}
                context = Context(
                    actor=actor, grant_ids=lazy_grant_keys(session), secrets=secrets or {}
                )
                run(session, context, group_changes)
                _record(
                    session,
                    actor=actor,
                    apply_id=apply_id,
                    folders=group,
                    count=len(group_changes),
                )
        except LakemeshError as error:
            if result.committed or context is None:
                error.details["committed"] = result.committed
                raise
            first = refused(context, group, error)
            raise refusal(_every_refusal(hub, actor, files, prune, secrets, first)) from error
        result.committed.append(group)
    return result


def _every_refusal(
    hub: Hub,
    actor: Actor,
    files: MeshFiles,
    prune: bool,
    secrets: Mapping[str, str] | None,
    first: Problem,
) -> list[Problem]:
    """Every problem of ``files`` after a transaction refused ``first``: the dry runs of a plan
    (each without the changes refused before) find the others, so one refusal reports them all."""
    problems = plan_mesh(hub, actor=actor, files=files, prune=prune, secrets=secrets).problems
    if not any((p.kind, p.key) == (first.kind, first.key) for p in problems):
        problems.insert(0, first)  # refused by the apply alone (the hub changed meanwhile)
    return problems


def _plan_only(
    hub: Hub, *, actor: Actor, files: MeshFiles, prune: bool, secrets: Mapping[str, str] | None
) -> Plan:
    """The plan without the dry run: one transaction rolls back on its own when refused."""
    with hub.read() as session:
        check_authority(session, actor=actor, files=files)
        found, kept, problems, _ = diff(session, files, prune=prune, secrets=secrets)
    return Plan(
        changes=ordered(found), kept=kept, problems=problems, groups=transaction_groups(found)
    )
