"""Masks: validation of names, functions and tag expressions, and their effect on decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakemesh import audit
from lakemesh.authz.state import policy_index
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    InvalidInputError,
    LakemeshError,
    NotFoundError,
)
from lakemesh.governance import grants, masks, tag_assignments
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.names import parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision
from lakemesh.store.schema import MaskRule
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

MIA = "user:mia@marketing"


@pytest.fixture
def mesh(env: Any, tmp_path: Path) -> Mesh:
    """The factory's mesh; mia may SELECT customers; email is pii, the table internal."""
    mesh = build_mesh(env, tmp_path)
    admin = env.admin
    with env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=admin, resource=str(CUSTOMERS), tags={"sensitivity": "internal"}
        )
        tag_assignments.assign_tags(
            session, actor=admin, resource=f"{CUSTOMERS}.email", tags={"sensitivity": "pii"}
        )
        request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=str(CUSTOMERS))
        grants.grant(session, actor=admin, grantee=MIA, request=request)
    return mesh


def _create(mesh: Mesh, **kwargs: Any) -> MaskRule:
    arguments = {"name": "hide_pii", "tag_expression": "sensitivity=pii", "function": "hash"}
    arguments.update(kwargs)
    actor = arguments.pop("actor", mesh.env.admin)
    with mesh.env.hub.transaction() as session:
        return masks.create_mask(session, actor=actor, **arguments)


def _select(mesh: Mesh) -> Decision:
    with mesh.env.hub.read() as session:
        return policy_index(session).explain(
            principal=parse_principal(MIA), permission=Permission.SELECT, resource=CUSTOMERS
        )


def test_a_mask_applies_to_the_next_decision_and_goes_with_its_deletion(mesh: Mesh) -> None:
    assert _select(mesh).masks == {}
    created = _create(mesh, tag_expression="sensitivity = pii | public")
    assert created.tag_expression == "sensitivity=pii|public"
    assert (created.function, created.created_by) == ("hash", "user:admin@governance")
    assert _select(mesh).masks == {"email": "hash"}
    with mesh.env.hub.read() as session:
        assert [m.name for m in masks.list_masks(session)] == ["hide_pii"]
    with mesh.env.hub.transaction() as session:
        masks.delete_mask(session, actor=mesh.env.admin, name="hide_pii")
    assert _select(mesh).masks == {}
    with mesh.env.hub.read() as session:
        events = audit.search(session, reader=mesh.env.admin, resource="mask:hide_pii")
    assert [e.action for e in reversed(events)] == ["mask.create", "mask.delete"]
    assert events[0].details == {"tag_expression": "sensitivity=pii|public", "function": "hash"}


@pytest.mark.parametrize("function", ["redact", "hash", "last4", "null", "email_domain"])
def test_every_mask_function_is_accepted(mesh: Mesh, function: str) -> None:
    _create(mesh, function=function)
    assert _select(mesh).masks == {"email": function}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"function": "blur"},
            InvalidInputError,
            r"Unknown mask function: 'blur' \(known: redact, hash, last4, null, email_domain\)",
        ),
        (
            {"tag_expression": "sensitivity="},
            InvalidInputError,
            "Invalid tag expression at position 12",
        ),
        (
            {"tag_expression": "sensitivity=pii AND NOT"},
            InvalidInputError,
            "Invalid tag expression at position 23: expected a tag key",
        ),
        ({"tag_expression": "colour=red"}, InvalidInputError, "Tag key does not exist: colour"),
        (
            {"tag_expression": "sensitivity!=secret"},
            InvalidInputError,
            r"Tag value does not exist: sensitivity=secret \(allowed: internal, pii, public\)",
        ),
        ({"name": "Hide PII"}, InvalidInputError, "Invalid mask name: 'Hide PII'"),
        ({"actor": "sam"}, AccessDeniedError, "user:sam@sales is not a mesh admin"),
    ],
)
def test_mask_validation(
    mesh: Mesh, kwargs: dict[str, Any], error: type[LakemeshError], message: str
) -> None:
    if kwargs.get("actor") == "sam":
        kwargs["actor"] = mesh.sam
    with pytest.raises(error, match=message):
        _create(mesh, **kwargs)
    with mesh.env.hub.read() as session:
        assert masks.list_masks(session) == []


def test_mask_names_are_unique_and_deletion_needs_a_mesh_admin(mesh: Mesh) -> None:
    _create(mesh)
    with pytest.raises(AlreadyExistsError, match="Mask already exists: hide_pii"):
        _create(mesh, function="redact")
    denial = "user:sam@sales is not a mesh admin"
    with pytest.raises(AccessDeniedError, match=denial), mesh.env.hub.transaction() as session:
        masks.delete_mask(session, actor=mesh.sam, name="hide_pii")
    with (
        pytest.raises(NotFoundError, match="Mask does not exist: hide_all"),
        mesh.env.hub.transaction() as session,
    ):
        masks.delete_mask(session, actor=mesh.env.admin, name="hide_all")
    assert _select(mesh).masks == {"email": "hash"}
