"""Principals, groups and tokens through HTTP, and every way authentication fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from lakemesh import clock
from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok


def test_principal_lifecycle(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    domain = make_domain("marketing").domain
    alice = f"user:alice@{domain}"
    for key, values in (("region", ["EU", "US"]), ("team", ["crm", "growth"])):
        admin.post("/attribute-keys", json={"key": key, "values": values})  # shared server
    created = ok(
        admin.post("/principals", json={"name": alice, "attributes": {"region": "EU"}}), 201
    )
    assert created["kind"] == "user"
    assert created["attributes"] == {"region": "EU"}
    assert ok(admin.get(f"/principals/{alice}"))["name"] == alice

    refs = [p["name"] for p in ok(admin.get("/principals", params={"domain": domain}))]
    assert refs == [f"domain:{domain}", alice, f"user:owner@{domain}"]
    users = ok(admin.get("/principals", params={"domain": domain, "kind": "user"}))
    assert [p["name"] for p in users] == [alice, f"user:owner@{domain}"]

    updated = ok(
        admin.patch(f"/principals/{alice}", json={"set": {"team": "crm"}, "unset": ["region"]})
    )
    assert updated["attributes"] == {"team": "crm"}

    assert admin.delete(f"/principals/{alice}").status_code == 204
    error = error_of(admin.get(f"/principals/{alice}"), 404)
    assert error["message"] == f"Principal does not exist: {alice}"


def test_principal_errors(admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]) -> None:
    domain = make_domain("errs").domain
    error = error_of(admin.post("/principals", json={"name": "alice"}), 400)
    assert "Invalid principal: 'alice'" in error["message"]
    error = error_of(admin.post("/principals", json={"name": f"user:owner@{domain}"}), 409)
    assert error["message"] == f"Principal already exists: user:owner@{domain}"
    error = error_of(admin.post("/principals", json={"name": "user:x@nowhere_at_all"}), 404)
    assert error["message"] == "Domain does not exist: nowhere_at_all"


def test_groups_nest_without_cycles(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    domain = make_domain("groups").domain
    analysts, everyone, alice = (
        f"group:analysts@{domain}",
        f"group:everyone@{domain}",
        f"user:alice@{domain}",
    )
    for name in (analysts, everyone, alice):
        ok(admin.post("/principals", json={"name": name}), 201)
    assert ok(admin.post(f"/groups/{analysts}/members", json={"member": alice}))["members"] == [
        alice
    ]
    ok(admin.post(f"/groups/{everyone}/members", json={"member": analysts}))
    assert ok(admin.get(f"/principals/{alice}"))["groups"] == [analysts, everyone]

    error = error_of(admin.post(f"/groups/{analysts}/members", json={"member": everyone}), 409)
    assert error["message"] == f"Adding {everyone} to {analysts} would make a cycle of groups"

    assert ok(admin.delete(f"/groups/{analysts}/members/{alice}"))["members"] == []
    error = error_of(admin.delete(f"/groups/{analysts}/members/{alice}"), 404)
    assert error["message"] == f"{alice} is not a member of {analysts}"


def test_token_lifecycle_and_revocation(
    api_server: ApiServer, admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    owner = make_domain("tokens")
    issued = ok(
        admin.post("/tokens", json={"principal": owner.principal, "expires_in": "30d"}), 201
    )
    assert issued["token"].startswith("lm_")
    assert issued["principal"] == owner.principal
    assert issued["expires_at"] is not None

    with api_server.client(issued["token"]) as client:
        assert ok(client.get("/whoami"))["admin_of"] == [owner.domain]
        listed = ok(client.get("/tokens"))
        assert [t["id"] for t in listed] == sorted(t["id"] for t in listed)
        assert issued["id"] in [t["id"] for t in listed]
        assert all("token" not in t for t in listed)

        revoked = ok(admin.delete(f"/tokens/{issued['id']}"))
        assert revoked["active"] is False
        assert revoked["revoked_at"] is not None
        error = error_of(client.get("/whoami"), 401)
    assert error["type"] == "unauthenticated"
    assert error["message"] == f"API token was revoked: {issued['token'][:10]}..."


def test_expired_token_is_401(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = make_domain("expiry")
    issued = ok(admin.post("/tokens", json={"principal": owner.principal, "expires_in": "1h"}), 201)
    with api_server.client(issued["token"]) as client:
        ok(client.get("/whoami"))
        real_now = clock.now
        monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(hours=2))
        error = error_of(client.get("/whoami"), 401)
    assert error["message"] == f"API token expired: {issued['token'][:10]}..."


def test_token_errors(admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]) -> None:
    owner = make_domain("tokerr")
    error = error_of(
        admin.post("/tokens", json={"principal": owner.principal, "expires_in": "soon"}), 400
    )
    assert error["message"].startswith("Invalid duration: 'soon'")
    error = error_of(admin.delete("/tokens/999999"), 404)
    assert error["message"] == "Token does not exist: 999999"
    error = error_of(admin.delete("/tokens/abc"), 400)
    assert "path.token_id" in error["message"]


def test_domain_admin_cannot_act_on_another_domain(
    api_server: ApiServer, admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    sales, marketing = make_domain("sales"), make_domain("marketing")
    intruder = f"user:mallory@{marketing.domain}"
    with api_server.client(sales.token) as client:
        error = error_of(client.post("/principals", json={"name": intruder}), 403)
        assert error["type"] == "access_denied"
        assert error["message"] == f"{sales.principal} is not an admin of domain {marketing.domain}"
        error = error_of(client.patch(f"/domains/{marketing.domain}", json={"consumer": True}), 403)
        assert error["message"] == f"{sales.principal} is not an admin of domain {marketing.domain}"
        error = error_of(client.get(f"/principals/{marketing.principal}"), 403)
        assert error["message"] == f"{sales.principal} is not an admin of domain {marketing.domain}"
        error = error_of(client.post("/domains", json={"name": "rogue"}), 403)
        assert error["message"] == f"{sales.principal} is not a mesh admin"

    events = ok(
        admin.get("/audit/events", params={"actor": sales.principal, "action": "principal.create"})
    )
    assert len(events) == 1
    assert events[0]["outcome"] == "denied"
    assert events[0]["resource"] == intruder
    assert events[0]["details"]["message"] == (
        f"{sales.principal} is not an admin of domain {marketing.domain}"
    )
    assert ok(admin.get("/principals", params={"domain": marketing.domain, "kind": "user"})) == [
        ok(admin.get(f"/principals/{marketing.principal}"))
    ]


def test_attribute_keys_are_governed(
    admin: httpx.Client,
    api_server: ApiServer,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
) -> None:
    owner = make_domain("marketing")
    name = unique("zone")
    key = ok(admin.post("/attribute-keys", json={"key": name, "values": ["EU", "US"]}), 201)
    assert key["values"] == ["EU", "US"]
    alice = f"user:alice@{owner.domain}"
    body = {"name": alice, "attributes": {name: "EU"}}
    with api_server.client(owner.token) as client:
        error = error_of(client.post("/principals", json=body), 403)
        assert error["message"] == (
            f"{owner.principal} may not set attribute {name} of {alice} (mesh admins and the "
            "key's delegates set it)"
        )
        delegate = {"principal": f"domain:{owner.domain}"}
        delegated = ok(admin.post(f"/attribute-keys/{name}/delegates", json=delegate), 201)
        assert delegated["delegates"] == [f"domain:{owner.domain}"]
        assert ok(client.post("/principals", json=body), 201)["attributes"] == {name: "EU"}
        taken = ok(admin.delete(f"/attribute-keys/{name}/delegates/domain:{owner.domain}"))
        assert taken["delegates"] == []
        assert name in [k["key"] for k in ok(client.get("/attribute-keys"))]
