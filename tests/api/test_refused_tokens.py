"""A wrong token over HTTP is refused and audited, as a refused PostgreSQL connection is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lakemesh import audit
from lakemesh.identity.tokens import authenticate, create_token, revoke_token
from tests.api.conftest import ApiServer, error_of


def refusals(api_server: ApiServer, path: str = "") -> list[Any]:
    """The refusals audited, newest first (of requests to ``path`` when given)."""
    with api_server.hub.read() as session:
        admin = authenticate(session, api_server.admin_token)
        events = audit.search(session, reader=admin, action="api.authenticate", limit=10_000)
        return [e for e in events if str(e.details.get("client", "")).endswith(path)]


def test_an_unknown_token_is_audited_as_anonymous(
    api_server: ApiServer, unique: Callable[[str], str]
) -> None:
    path = f"/domains/{unique('refused')}"
    with api_server.client("lm_not-a-token") as client:
        error_of(client.get(path), 401)
    (event,) = refusals(api_server, f"GET /api/v1{path}")
    assert (event.actor, event.resource, event.outcome) == ("anonymous", "api", "denied")
    assert event.details["message"] == "Invalid API token"
    assert "lm_not-a-token" not in str(event.details)


def test_a_revoked_token_is_audited_by_its_principal(api_server: ApiServer) -> None:
    with api_server.hub.transaction() as session:
        admin = authenticate(session, api_server.admin_token)
        issued = create_token(session, actor=admin, principal=admin.ref)
        revoke_token(session, actor=admin, token_id=issued.id)
    with api_server.client(issued.token) as client:
        error = error_of(client.get("/whoami"), 401)
    assert error["message"].startswith("API token was revoked")
    event = refusals(api_server)[0]
    assert (event.actor, event.outcome) == ("user:admin@governance", "denied")
    assert event.details["token"] == f"{issued.token[:10]}..."
    assert event.details["message"] == error["message"]


def test_a_request_without_a_token_claims_nobody_and_is_not_audited(
    api_server: ApiServer, unique: Callable[[str], str]
) -> None:
    path = f"/domains/{unique('anonymous')}"
    with api_server.client(None) as client:
        error_of(client.get(path), 401)
    assert refusals(api_server, f"GET /api/v1{path}") == []
