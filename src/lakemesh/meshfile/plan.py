"""What applying the mesh files would change: created, changed and removed resources, problems
(references to what exists neither in the files nor in the hub, changes the services refuse) and
the effect on access.

The plan runs every change through the services in a transaction that is rolled back, so it
refuses exactly what ``apply`` would refuse (permissions and guardrails as if the caller made each
change by hand), and reads the decisions before and after from the policy engine, as ``explain``
does.
"""

from __future__ import annotations

import graphlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import policy_index
from lakemesh.errors import LakemeshError, NotFoundError
from lakemesh.hub import Hub
from lakemesh.identity.tokens import named_tokens
from lakemesh.meshfile import changes as handlers
from lakemesh.meshfile.change_context import Context, prune_action
from lakemesh.meshfile.effects import AccessEffects, affected_pairs, snapshot
from lakemesh.meshfile.export import read_state
from lakemesh.meshfile.grant_specs import CatalogIndex, grant_spec
from lakemesh.meshfile.model import MeshFiles
from lakemesh.meshfile.resources import (
    KINDS,
    STAGE,
    Fingerprints,
    Ref,
    Resource,
    flatten,
    grant_key,
)
from lakemesh.meshfile.secrets import (
    fingerprint,
    fingerprint_of_hash,
    missing_secret,
)
from lakemesh.model.actions import Action
from lakemesh.model.actors import GOVERNANCE, Actor
from lakemesh.model.spark_remote import split_spark_token
from lakemesh.store.schema import Domain, Grant, Workgroup

MAX_PROBLEMS = 100
"""A plan stops trying its changes again after this many problems."""
REMOVAL_STAGE = {**STAGE, "share": STAGE["grant"] - 0.5}
"""A share is declined after the grants derived from it are revoked (declining refuses while
delegations rely on it)."""
MESH_KINDS = frozenset(KINDS[: KINDS.index("domain")])
"""Kinds of ``governance/mesh.yaml``; the others live in domain folders."""


@dataclass(frozen=True)
class Change:
    """One resource to create, change or remove."""

    action: str  # create | change | remove
    resource: Resource
    before: Resource | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.resource.kind,
            "key": self.resource.key,
            "folder": self.resource.folder,
            "before": self.before.body if self.before is not None else None,
            "after": self.resource.body if self.action != "remove" else None,
        }


@dataclass(frozen=True)
class Problem:
    """Why a change cannot be made: a missing reference, or the service's refusal."""

    kind: str
    key: str
    folder: str
    error: LakemeshError

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "folder": self.folder,
            "type": self.error.error_type,
            "message": self.error.message,
        }


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


def _in_scope(resource: Resource, files: MeshFiles, folders: set[str]) -> bool:
    if resource.kind in MESH_KINDS:
        return files.mesh is not None
    return resource.folder in folders


def grant_keys(session: Session) -> dict[str, int]:
    """Every grant of the hub by its key in the files (grants a subscription issued included)."""
    names = CatalogIndex.load(session)
    rows = {row.id: row for row in session.execute(select(Grant)).unique().scalars()}
    keys: dict[str, int] = {}
    for row in rows.values():
        spec = grant_spec(row, names, rows)
        keys.setdefault(grant_key(spec.to, spec, spec.with_grant_option), row.id)
    return keys


def _hub_fingerprints(session: Session) -> Fingerprints:
    """The fingerprints of the hub's live tokens made from named secrets, and of workgroups'
    Spark Connect tokens."""
    known = {
        (token.principal.ref, token.secret_name): fingerprint_of_hash(token.token_hash)
        for token in named_tokens(session)
        if token.secret_name is not None
    }
    spark = {
        f"workgroup:{name}": fingerprint(token)
        for name, remote in session.execute(select(Workgroup.name, Workgroup.spark_remote))
        if (token := split_spark_token(remote)[1]) is not None
    }

    def fingerprints(owner: str, name: str) -> str | None:
        # A workgroup's Spark Connect token, whatever the name the files give its secret.
        return spark.get(owner) if owner.startswith("workgroup:") else known.get((owner, name))

    return fingerprints


def _secret_problems(
    desired: dict[Ref, Resource], current: dict[Ref, Resource]
) -> tuple[dict[Ref, Resource], list[Problem]]:
    """Tokens (and workgroups' Spark Connect tokens) whose secret the command did not give: the
    hub's live token keeps its secret (only the rest is compared); a new one is a problem."""
    problems: list[Problem] = []
    for ref, resource in list(desired.items()):
        if resource.kind == "token":
            field_name = "secret"
            principal, name = resource.key.rsplit("|", 1)
        elif resource.kind == "workgroup" and resource.body["spark_token_env"] is not None:
            field_name = "spark_token"
            principal, name = f"workgroup:{resource.key}", resource.body["spark_token_env"]
        else:
            continue
        if resource.body[field_name] is not None:
            continue
        before = current.get(ref)
        if before is not None and before.body[field_name] is not None:
            body = {**resource.body, field_name: before.body[field_name]}
            desired[ref] = replace(resource, body=body)
            continue
        problems.append(
            Problem(resource.kind, resource.key, resource.folder, missing_secret(name, principal))
        )
    return desired, problems


def diff(
    session: Session, files: MeshFiles, *, prune: bool, secrets: Mapping[str, str] | None = None
) -> tuple[list[Change], list[Resource], list[Problem], dict[Ref, Resource]]:
    """The changes from the hub's state to the files', the hub resources kept (not in the files,
    no ``prune``), and the references that exist nowhere (or secrets not given)."""
    given = {name: fingerprint(value) for name, value in (secrets or {}).items()}
    desired = flatten(files, fingerprints=lambda principal, name: given.get(name))
    folders = {folder.domain.name for folder in files.domains}
    existing = set(session.execute(select(Domain.name)).scalars())
    scope = (folders | ({GOVERNANCE} if files.mesh is not None else set())) & existing
    current = flatten(read_state(session, scope), fingerprints=_hub_fingerprints(session))
    desired, secret_problems = _secret_problems(desired, current)
    found: list[Change] = []
    kept: list[Resource] = []
    for ref, resource in desired.items():
        before = current.get(ref)
        if before is None:
            found.append(Change("create", resource))
        elif before.body != resource.body:
            found.append(Change("change", resource, before))
    for ref, resource in current.items():
        if ref in desired or not _in_scope(resource, files, folders):
            continue
        action = prune_action(resource)
        if prune and action == "remove":
            found.append(Change("remove", resource))
        elif action is not None:
            kept.append(resource)
    problems = secret_problems + _missing(session, found, desired, current, existing)
    return found, kept, problems, current


def _missing(
    session: Session,
    found: Sequence[Change],
    desired: dict[Ref, Resource],
    current: dict[Ref, Resource],
    domains: set[str],
) -> list[Problem]:
    """References of the changes to what neither the files nor the hub hold."""
    everything: dict[Ref, Resource] | None = None
    problems: list[Problem] = []
    for change in found:
        if change.action == "remove":
            continue
        for ref in change.resource.refs:
            if ref in desired or ref in current:
                continue
            if everything is None:
                everything = flatten(read_state(session, domains))
                everything.update(
                    {("grant", key): Resource("grant", key, "", {}) for key in grant_keys(session)}
                )
            if ref in everything:
                continue
            resource = change.resource
            kind, key = ref
            problems.append(
                Problem(
                    resource.kind,
                    resource.key,
                    resource.folder,
                    NotFoundError(
                        f"{resource.label} refers to {kind.replace('_', ' ')} {key}, which is "
                        "neither in the files nor in the hub",
                        details={"kind": kind, "key": key},
                    ),
                )
            )
    return problems


def transaction_groups(found: Sequence[Change]) -> list[list[str]]:
    """The folders in the order their transactions run: a folder after those whose new
    resources it refers to; folders that refer to each other's share one transaction."""
    creating = {c.resource.ref: c.resource.folder for c in found if c.action != "remove"}
    folders = sorted({c.resource.folder for c in found})
    needs: dict[str, set[str]] = {folder: set() for folder in folders}
    for change in found:
        if change.action == "remove":
            continue
        for ref in change.resource.refs:
            other = creating.get(ref)
            if other is not None and other != change.resource.folder:
                needs[change.resource.folder].add(other)
    reach = {folder: _reachable(folder, needs) for folder in folders}
    component = {
        folder: tuple(
            sorted(f for f in folders if f == folder or (f in reach[folder] and folder in reach[f]))
        )
        for folder in folders
    }
    sorter: graphlib.TopologicalSorter[tuple[str, ...]] = graphlib.TopologicalSorter()
    for folder in folders:
        sorter.add(
            component[folder],
            *(component[other] for other in needs[folder] if component[other] != component[folder]),
        )
    order: list[list[str]] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(list(group) for group in ready)
        sorter.done(*ready)
    return order


def _reachable(start: str, needs: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        for other in needs[frontier.pop()]:
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return seen


def ordered(found: Iterable[Change]) -> list[Change]:
    """Removals first, the last stage first (derived grants before their parents), then creations
    and changes stage by stage (parent grants before the grants derived from them), by key."""
    removals = sorted(
        (c for c in found if c.action == "remove"),
        key=lambda c: (
            -REMOVAL_STAGE[c.resource.kind],
            c.resource.body.get("derived_from") is None,
        ),
    )
    rest = [c for c in found if c.action != "remove"]
    depth = _derivation_depth(rest)
    # By key within a stage: one transaction creating several tables creates them in name order,
    # the order the policy index replays them in (so replayed and freshly loaded indexes agree).
    rest.sort(key=lambda c: (STAGE[c.resource.kind], depth.get(c.resource.key, 0), c.resource.key))
    return removals + rest


def _derivation_depth(found: Sequence[Change]) -> dict[str, int]:
    parents = {
        c.resource.key: c.resource.body.get("derived_from")
        for c in found
        if c.resource.kind == "grant"
    }
    depth: dict[str, int] = {}
    for key in parents:
        level, seen, parent = 0, {key}, parents.get(key)
        while parent is not None and parent in parents and parent not in seen:
            level, parent = level + 1, parents.get(parent)
            seen.add(parent or "")
        depth[key] = level
    return depth


def run(session: Session, context: Context, found: Sequence[Change]) -> None:
    """Make ``found`` in this transaction, in order; the first refusal raises."""
    for change in ordered(found):
        try:
            if change.action == "create":
                handlers.create(session, context, change.resource)
            elif change.action == "change":
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


def without(found: Sequence[Change], refs: set[Ref]) -> list[Change]:
    """``found`` less the changes of ``refs`` and those that need them (a grant on a refused
    table, a grant derived from a refused grant, ...), transitively."""
    dropped = set(refs)
    remaining = list(found)
    while True:
        kept = [
            change
            for change in remaining
            if change.resource.ref not in dropped
            and (change.action == "remove" or not dropped.intersection(change.resource.refs))
        ]
        if len(kept) == len(remaining):
            return kept
        dropped.update(c.resource.ref for c in remaining if c not in kept)
        remaining = kept


def lazy_grant_keys(session: Session) -> Callable[[], dict[str, int]]:
    """:func:`grant_keys` of ``session``, read on first use and kept."""
    cache: dict[str, int] | None = None

    def load() -> dict[str, int]:
        nonlocal cache
        if cache is None:
            cache = grant_keys(session)
        return cache

    return load


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
