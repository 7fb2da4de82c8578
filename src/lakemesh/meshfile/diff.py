"""What differs between the mesh files and the hub: the resources to create, change and remove,
the hub's resources the files leave alone, and the problems found before any change is tried
(references to what exists neither in the files nor in the hub, secrets the command did not
give).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import LakemeshError, NotFoundError
from lakemesh.identity.tokens import named_tokens
from lakemesh.meshfile.canonical import grant_key
from lakemesh.meshfile.change_context import prune_action
from lakemesh.meshfile.export import read_state
from lakemesh.meshfile.flatten import flatten
from lakemesh.meshfile.grant_specs import CatalogIndex, grant_spec
from lakemesh.meshfile.model import MeshFiles
from lakemesh.meshfile.resources import KINDS, Fingerprints, Ref, Resource
from lakemesh.meshfile.secrets import fingerprint, fingerprint_of_hash, missing_secret
from lakemesh.model.actors import GOVERNANCE
from lakemesh.model.spark_remote import split_spark_token
from lakemesh.store.schema import Domain, Grant, Workgroup

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


def lazy_grant_keys(session: Session) -> Callable[[], dict[str, int]]:
    """:func:`grant_keys` of ``session``, read on first use and kept."""
    cache: dict[str, int] | None = None

    def load() -> dict[str, int]:
        nonlocal cache
        if cache is None:
            cache = grant_keys(session)
        return cache

    return load
