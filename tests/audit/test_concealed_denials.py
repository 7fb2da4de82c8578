"""A refusal answered as "does not exist" (so as not to reveal that the object exists) is still
audited as a denial, while the answer stays exactly a real not-found (issue 9), on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import NotFoundError
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.identity import tokens
from lakemesh.model.permissions import parse_permissions
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

MIA, MARIA = "user:mia@marketing", "user:maria@marketing"


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    return build_mesh(env, tmp_path)


def _refusal(
    mesh: Mesh, act: Callable[[Session], object]
) -> tuple[NotFoundError, list[AuditEvent]]:
    """The not-found ``act`` raises and the audit events written meanwhile."""
    with mesh.env.hub.read() as session:
        last = session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalar()
    with pytest.raises(NotFoundError) as raised, mesh.env.hub.transaction() as session:
        act(session)
    with mesh.env.hub.read() as session:
        events = session.execute(
            select(AuditEvent).where(AuditEvent.seq > (last or 0)).order_by(AuditEvent.seq)
        ).scalars()
        return raised.value, list(events)


def test_a_hidden_grant_is_audited_and_answered_as_a_missing_one(mesh: Mesh) -> None:
    request = GrantRequest(permissions=parse_permissions("SELECT"), on=str(CUSTOMERS))
    with mesh.env.hub.transaction() as session:
        row = grants.grant(session, actor=mesh.env.admin, grantee="user:sam@sales", request=request)
    maria = mesh.actor(MARIA)
    hidden, audited = _refusal(
        mesh, lambda session: grants.revoke_grant(session, actor=maria, grant_id=row.id)
    )
    missing, nothing = _refusal(
        mesh, lambda session: grants.revoke_grant(session, actor=maria, grant_id=999999)
    )
    assert hidden.to_dict() == {
        "error": {
            "type": "not_found",
            "message": f"Grant does not exist: {row.id}",
            "details": {"grant_id": row.id},
        }
    }
    assert missing.to_dict()["error"]["message"] == "Grant does not exist: 999999"
    assert (hidden.status, hidden.exit_code) == (missing.status, missing.exit_code)
    [event] = audited
    assert (event.actor, event.action, event.resource, event.outcome) == (
        MARIA,
        "grant.revoke",
        f"grant {row.id}",
        "denied",
    )
    assert event.details == {
        "message": f"{MARIA} may not see grant #{row.id}",
        "answered": f"Grant does not exist: {row.id}",
    }
    assert nothing == []  # a grant that exists for nobody is a plain not-found


def test_a_hidden_table_named_in_a_grant_is_audited(mesh: Mesh) -> None:
    request = GrantRequest(permissions=parse_permissions("SELECT"), on=f"{CUSTOMERS}.email")
    maria = mesh.actor(MARIA)
    error, audited = _refusal(
        mesh, lambda session: grants.grant(session, actor=maria, grantee=MIA, request=request)
    )
    assert error.message == f"Table does not exist: {CUSTOMERS}"
    [event] = audited
    assert (event.actor, event.action, event.resource, event.outcome) == (
        MARIA,
        "grant.create",
        f"{CUSTOMERS}.email",  # as requested
        "denied",
    )
    assert event.details["message"] == f"{MARIA} lacks DESCRIBE on {CUSTOMERS}"


def test_someone_elses_token_is_audited(mesh: Mesh) -> None:
    with mesh.env.hub.transaction() as session:
        issued = tokens.create_token(session, actor=mesh.env.admin, principal="user:sam@sales")
    token_id = issued.id
    mia = mesh.actor(MIA)
    error, audited = _refusal(
        mesh, lambda session: tokens.revoke_token(session, actor=mia, token_id=token_id)
    )
    assert error.to_dict()["error"] == {
        "type": "not_found",
        "message": f"Token does not exist: {token_id}",
        "details": {"token_id": token_id},
    }
    [event] = audited
    assert (event.actor, event.action, event.resource) == (MIA, "token.revoke", f"token {token_id}")
    assert event.details["message"] == f"{MIA} may not revoke token {token_id} of user:sam@sales"
