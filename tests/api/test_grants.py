"""Grants, revokes, explain, guardrails and the doctor over HTTP; every denial is audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lakemesh.api.server import serve_in_background
from tests.api.conftest import ApiServer, DomainAdmin, error_of, make_hub_home, ok
from tests.factories.api_governance import customers_table


@dataclass
class Shop:
    """A domain with a customers table (id, email, region) and a user without any grant."""

    owner: DomainAdmin
    table: str
    user: str
    user_token: str


@pytest.fixture
def shop(admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path) -> Shop:
    owner = make_domain("shop")
    table = customers_table(admin, owner, tmp_path)
    user = f"user:mia@{owner.domain}"
    ok(admin.post("/principals", json={"name": user}), 201)
    token = ok(admin.post("/tokens", json={"principal": user, "expires_in": "1d"}), 201)
    return Shop(owner, table, user, token["token"])


def _client(api_server: ApiServer, token: str) -> httpx.Client:
    return api_server.client(token)


def _explain(client: httpx.Client, principal: str, permission: str, resource: str) -> Any:
    params = {"principal": principal, "permission": permission, "resource": resource}
    return client.get("/explain", params=params)


def _denials(admin: httpx.Client, action: str, resource: str) -> list[dict[str, Any]]:
    events = ok(admin.get("/audit/events", params={"action": action, "resource": resource}))
    return [event for event in events if event["outcome"] == "denied"]


def test_grant_explain_list_and_revoke(api_server: ApiServer, shop: Shop) -> None:
    with _client(api_server, shop.owner.token) as owner:
        before = ok(_explain(owner, shop.user, "SELECT", shop.table))
        assert before["allowed"] is False
        body = {
            "grantee": shop.user,
            "permissions": ["SELECT"],
            "on": shop.table,
            "exclude_columns": ["email"],
        }
        granted = ok(owner.post("/grants", json=body), 201)
        assert granted["grantee"] == shop.user
        assert granted["permissions"] == ["SELECT"]
        assert granted["target"] == f"{shop.table} (excluding columns email)"
        after = ok(_explain(owner, shop.user, "select", shop.table))
        assert set(after) == {
            "allowed",
            "columns",
            "row_filter",
            "masks",
            "reasons",
            "attributes",
            "vended_credentials",
        }
        assert after["vended_credentials"] == {
            "allowed": False,
            "reason": "it may not read the columns email",
        }
        assert (after["allowed"], after["columns"], after["row_filter"]) == (
            True,
            ["id", "region"],
            None,
        )
        assert any(f"grant #{granted['id']}" in reason for reason in after["reasons"])
        listed = ok(owner.get("/grants", params={"principal": shop.user}))
        assert [g["id"] for g in listed] == [granted["id"]]
        assert [g["id"] for g in ok(owner.get("/grants", params={"resource": shop.table}))] == [
            granted["id"]
        ]
        assert ok(owner.delete(f"/grants/{granted['id']}")) == {"revoked": [granted["id"]]}
        assert ok(_explain(owner, shop.user, "SELECT", shop.table))["allowed"] is False
        error = error_of(owner.delete(f"/grants/{granted['id']}"), 404)
        assert error["message"] == f"Grant does not exist: {granted['id']}"


def test_revoke_mirrors_the_grant(api_server: ApiServer, shop: Shop) -> None:
    body = {"grantee": shop.user, "permissions": ["SELECT", "DESCRIBE"], "on": shop.table}
    with _client(api_server, shop.owner.token) as owner:
        granted = ok(owner.post("/grants", json=body), 201)
        narrowed = ok(owner.post("/grants/revoke", json={**body, "permissions": ["SELECT"]}))
        assert narrowed == {"revoked": [granted["id"]]}
        [kept] = ok(owner.get("/grants", params={"principal": shop.user}))
        assert kept["permissions"] == ["DESCRIBE"]
        gone = ok(owner.post("/grants/revoke", json={**body, "permissions": ["DESCRIBE"]}))
        assert gone == {"revoked": [granted["id"]]}
        assert ok(owner.get("/grants", params={"principal": shop.user})) == []
        error = error_of(owner.post("/grants/revoke", json=body), 404)
        assert error["message"] == f"No grant of DESCRIBE, SELECT on {shop.table} to {shop.user}"


def test_the_grantee_explains_its_own_access(api_server: ApiServer, shop: Shop) -> None:
    with _client(api_server, shop.owner.token) as owner:
        body = {"grantee": shop.user, "permissions": ["SELECT"], "on": shop.table}
        ok(owner.post("/grants", json=body), 201)
    with _client(api_server, shop.user_token) as user:
        assert ok(_explain(user, shop.user, "SELECT", shop.table))["columns"] == [
            "id",
            "email",
            "region",
        ]


def test_refused_grant_is_audited(admin: httpx.Client, api_server: ApiServer, shop: Shop) -> None:
    body = {"grantee": shop.user, "permissions": ["SELECT"], "on": shop.table}
    with _client(api_server, shop.user_token) as user:
        # A table the user may not see reads as one that does not exist.
        error = error_of(user.post("/grants", json=body), 404)
        assert error["message"] == f"Table does not exist: {shop.table}"
    ok(admin.post("/grants", json={**body, "permissions": ["DESCRIBE"]}), 201)
    with _client(api_server, shop.user_token) as user:
        error = error_of(user.post("/grants", json=body), 403)
    assert error["type"] == "access_denied"
    assert error["message"].startswith(f"{shop.user} may not grant SELECT on {shop.table}: ")
    # Newest first: the refusal, then the one answered as not-found (audited all the same).
    denial, concealed = _denials(admin, "grant.create", shop.table)
    assert denial["actor"] == concealed["actor"] == shop.user
    assert concealed["details"]["answered"] == f"Table does not exist: {shop.table}"
    assert "answered" not in denial["details"]


def test_refused_explain_is_audited(admin: httpx.Client, api_server: ApiServer, shop: Shop) -> None:
    with _client(api_server, shop.user_token) as user:
        error = error_of(_explain(user, shop.owner.principal, "SELECT", shop.table), 403)
    assert error["message"] == (
        f"{shop.user} may not explain the access of {shop.owner.principal} to {shop.table}"
    )
    [denial] = _denials(admin, "explain", shop.table)
    assert denial["actor"] == shop.user


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"permission": "READ"}, "Unknown permission: 'READ'"),
        (
            {"permission": "SELECT,DESCRIBE"},
            "Explain one permission at a time, got SELECT,DESCRIBE",
        ),
        ({"permission": "ALL"}, "Decide one permission at a time, not ALL"),
        ({"resource": "nope.crm.x"}, "Table does not exist: nope.crm.x"),
        ({"principal": "user:ghost@nowhere"}, "Principal does not exist: user:ghost@nowhere"),
    ],
)
def test_bad_explain_requests_are_named(
    admin: httpx.Client, shop: Shop, params: dict[str, str], message: str
) -> None:
    query = {"principal": shop.user, "permission": "SELECT", "resource": shop.table, **params}
    response = admin.get("/explain", params=query)
    assert response.status_code in (400, 404), response.text
    assert error_of(response, response.status_code)["message"].startswith(message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {},
            "Name exactly one target: a resource (--on), a tag expression (--on-tags), "
            "a location (--location) or tag values (--on-tag-values)",
        ),
        ({"on": "x.y.z", "on_tags": "a=b"}, "Name exactly one target"),
        ({"permissions": ["FLY"]}, "Unknown permission: 'FLY'"),
        ({"colour": "red"}, "Invalid request: body.colour: Extra inputs are not permitted"),
    ],
)
def test_bad_grant_requests_are_named(
    admin: httpx.Client, shop: Shop, body: dict[str, Any], message: str
) -> None:
    request = {"grantee": shop.user, "permissions": ["SELECT"], **body}
    error = error_of(admin.post("/grants", json=request), 400)
    assert error["message"].startswith(message)


# -- guardrails and the doctor run on a hub of their own: guardrails bind the whole mesh ---------


@dataclass
class Governed:
    url: str
    admin_token: str
    owner: DomainAdmin
    table: str

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture
def governed(tmp_path: Path) -> Iterator[Governed]:
    hub, token = make_hub_home(tmp_path / "home")
    try:
        with serve_in_background(hub) as url:
            with httpx.Client(
                base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}
            ) as admin:
                owner = DomainAdmin("sales", "user:sam@sales", "")
                ok(admin.post("/domains", json={"name": "sales", "admins": [owner.principal]}), 201)
                ok(admin.post("/domains", json={"name": "marketing"}), 201)
                owner.token = ok(
                    admin.post("/tokens", json={"principal": owner.principal, "expires_in": "7d"}),
                    201,
                )["token"]
                table = customers_table(admin, owner, tmp_path)
                ok(
                    admin.post("/tags", json={"key": "sensitivity", "values": ["pii", "public"]}),
                    201,
                )
                ok(
                    admin.post(
                        f"/resources/{table}.email/tags", json={"tags": {"sensitivity": "pii"}}
                    )
                )
            yield Governed(url, token, owner, table)
    finally:
        hub.close()


def test_guardrail_lifecycle_is_for_mesh_admins(governed: Governed) -> None:
    body = {"name": "pii-only-named", "kind": "sensitive-scope", "on_tags": "sensitivity=pii"}
    with governed.client(governed.owner.token) as owner:
        error = error_of(owner.post("/guardrails", json=body), 403)
        assert error["message"] == "user:sam@sales is not a mesh admin"
    with governed.client(governed.admin_token) as admin:
        created = ok(admin.post("/guardrails", json=body), 201)
        assert (created["name"], created["rule"]) == (
            "pii-only-named",
            "sensitive-scope sensitivity=pii",
        )
        assert ok(admin.get("/guardrails")) == [created]
        updated = ok(
            admin.patch("/guardrails/pii-only-named", json={"on_tags": "sensitivity=pii|public"})
        )
        assert updated["config"] == {"expression": "sensitivity=pii|public"}
        error = error_of(admin.post("/guardrails", json={**body, "kind": "colour"}), 400)
        assert error["message"].startswith("Unknown guardrail kind: 'colour'")
        assert admin.delete("/guardrails/pii-only-named").status_code == 204
        error = error_of(admin.get("/guardrails/pii-only-named"), 404)
        assert error["message"] == "Guardrail does not exist: pii-only-named"
        [denial] = _denials(admin, "guardrail.create", "guardrail:pii-only-named")
        assert denial["actor"] == "user:sam@sales"


def test_guardrails_refuse_breaking_changes_over_http(governed: Governed) -> None:
    with governed.client(governed.admin_token) as admin:
        for body in (
            {"name": "pii-only-named", "kind": "sensitive-scope", "on_tags": "sensitivity=pii"},
            {"name": "monthly", "kind": "max-token-lifetime", "max_lifetime": "30d"},
        ):
            ok(admin.post("/guardrails", json=body), 201)
    with governed.client(governed.owner.token) as owner:
        share = {"grantee": "domain:marketing", "permissions": ["SELECT"], "on": governed.table}
        error = error_of(owner.post("/grants", json=share), 403)
        assert error["type"] == "guardrail_violation"
        assert error["message"] == (
            "Guardrail pii-only-named (sensitive-scope sensitivity=pii): "
            f"{governed.table} may be granted to named principals only, not to domain:marketing "
            f"(sensitive columns {governed.table}: email)"
        )
        ok(owner.post("/grants", json={**share, "exclude_columns": ["email"]}), 201)
        error = error_of(owner.post("/tokens", json={"principal": "user:sam@sales"}), 403)
        assert error["message"] == (
            "Guardrail monthly (max-token-lifetime 30d): tokens may live at most 30d; "
            "asked for no expiry"
        )
    with governed.client(governed.admin_token) as admin:
        assert [e["actor"] for e in _denials(admin, "grant.create", governed.table)] == [
            "user:sam@sales"
        ]


def test_doctor_is_for_mesh_admins(governed: Governed) -> None:
    with governed.client(governed.admin_token) as admin:
        ok(
            admin.post(
                "/guardrails",
                json={"name": "pii", "kind": "sensitive-scope", "on_tags": "sensitivity=pii"},
            ),
            201,
        )
        user = "user:ann@sales"
        ok(admin.post("/principals", json={"name": user}), 201)
        ok(
            admin.post(
                "/grants", json={"grantee": user, "permissions": ["SELECT"], "on": governed.table}
            ),
            201,
        )
        report = ok(admin.get("/doctor"))
        kinds = {(f["kind"], f["severity"], f["resource"]) for f in report["findings"]}
        assert ("sensitive-columns-granted", "medium", governed.table) in kinds
        assert ("token-never-expires", "medium", "user:admin@governance") in kinds
        assert ("mesh-admins", "medium", "governance") in kinds
        assert ("domain-without-admins", "medium", "marketing") in kinds
        assert sum(report["counts"].values()) == len(report["findings"])
    with governed.client(governed.owner.token) as owner:
        error = error_of(owner.get("/doctor"), 403)
        assert error["message"] == "user:sam@sales is not a mesh admin"
    with governed.client(governed.admin_token) as admin:
        [denial] = _denials(admin, "doctor", "mesh")
        assert denial["actor"] == "user:sam@sales"
