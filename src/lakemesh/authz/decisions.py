"""Decisions for actors: the one entry point services use to authorize against grants and tags."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lakemesh.authz.state import policy_index
from lakemesh.errors import AccessDeniedError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision, Subject
from lakemesh.policy.rules import Resource


def subject_of(session: Session, actor: Actor) -> Subject:
    """The policy subject for ``actor`` (groups, attributes and roles as the index knows them)."""
    return policy_index(session).subject(actor.principal)


def decide(
    session: Session, *, actor: Actor, permission: Permission, resource: Resource
) -> Decision:
    """Whether ``actor`` may use ``permission`` on ``resource``, with the reasons."""
    index = policy_index(session)
    return index.decide(
        subject=index.subject(actor.principal), permission=permission, resource=resource
    )


def require(
    session: Session, *, actor: Actor, permission: Permission, resource: Resource, action: Action
) -> Decision:
    """The decision when allowed; otherwise an audited denial naming what is missing."""
    decision = decide(session, actor=actor, permission=permission, resource=resource)
    if not decision.allowed:
        raise AccessDeniedError(
            f"{actor.ref} lacks {permission} on {resource}",
            principal=actor.ref,
            permission=str(permission),
            resource=str(resource),
            details={"action": action, "reasons": list(decision.reasons)},
        )
    return decision
