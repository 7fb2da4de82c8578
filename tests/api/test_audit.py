"""Audit search and verification, and mesh settings, through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx

from lakemesh import clock
from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok


def test_audit_search_filters(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    owner = make_domain("audited")
    events = ok(admin.get("/audit/events", params={"resource": owner.domain, "action": "domain"}))
    assert [e["action"] for e in events] == ["domain.create"]
    event = events[0]
    assert set(event) == {
        "seq",
        "time",
        "actor",
        "action",
        "resource",
        "outcome",
        "details",
        "hash",
    }
    assert event["actor"] == "user:admin@governance"
    assert event["outcome"] == "success"

    newest_first = ok(admin.get("/audit/events", params={"limit": 3}))
    assert len(newest_first) == 3
    assert [e["seq"] for e in newest_first] == sorted(
        (e["seq"] for e in newest_first), reverse=True
    )

    recent = ok(admin.get("/audit/events", params={"resource": owner.domain, "since": "1h"}))
    assert [e["seq"] for e in recent] == [event["seq"]]
    tomorrow = (clock.now() + timedelta(days=1)).isoformat()
    assert (
        ok(admin.get("/audit/events", params={"resource": owner.domain, "since": tomorrow})) == []
    )
    assert (
        ok(admin.get("/audit/events", params={"resource": owner.domain, "until": "2000-01-01"}))
        == []
    )


def test_audit_search_errors(admin: httpx.Client) -> None:
    error = error_of(admin.get("/audit/events", params={"since": "last tuesday"}), 400)
    assert error["message"] == (
        "Invalid since: 'last tuesday' (expected an ISO timestamp like 2026-01-31T00:00:00Z "
        "or a duration like 90d)"
    )
    error = error_of(admin.get("/audit/events", params={"limit": 0}), 400)
    assert "query.limit: Input should be greater than or equal to 1" in error["message"]


def test_audit_verify_reports_an_intact_chain(admin: httpx.Client) -> None:
    result = ok(admin.get("/audit/verify"))
    assert result["ok"] is True
    assert result["events"] > 0
    assert result["broken_seq"] is None
    assert result["reason"] is None


def test_domain_admins_read_the_events_about_their_domain_only(
    admin: httpx.Client, api_server: ApiServer, make_domain: Callable[[str], DomainAdmin]
) -> None:
    owner, other = make_domain("nosy"), make_domain("neighbour")
    user = f"user:analyst@{owner.domain}"
    ok(admin.post("/principals", json={"name": user}), 201)
    ok(admin.post("/principals", json={"name": f"user:analyst@{other.domain}"}), 201)
    with api_server.client(owner.token) as client:
        events = ok(client.get("/audit/events", params={"limit": 10_000}))
        seen = {(e["action"], e["resource"]) for e in events}
        assert ("domain.create", owner.domain) in seen
        assert ("principal.create", user) in seen
        assert all(
            owner.domain in (e["resource"] or "") or e["actor"].endswith(f"@{owner.domain}")
            for e in events
        )
        assert not [e for e in events if other.domain in e["resource"] + e["actor"]]
        assert ok(client.get("/audit/events", params={"resource": other.domain})) == []
        error = error_of(client.get("/audit/verify"), 403)
        assert error["message"] == f"{owner.principal} is not a mesh admin"


def test_principals_without_an_admin_role_cannot_read_the_audit_trail(
    admin: httpx.Client, api_server: ApiServer, make_domain: Callable[[str], DomainAdmin]
) -> None:
    owner = make_domain("plain")
    user = f"user:reader@{owner.domain}"
    ok(admin.post("/principals", json={"name": user}), 201)
    token = ok(admin.post("/tokens", json={"principal": user}), 201)["token"]
    with api_server.client(token) as client:
        error = error_of(client.get("/audit/events"), 403)
        assert error["message"] == f"{user} is not a mesh admin or a domain admin"
    denials = ok(admin.get("/audit/events", params={"actor": user, "action": "audit.search"}))
    assert [e["outcome"] for e in denials] == ["denied"]


def test_settings_read_and_change(
    api_server: ApiServer, admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    settings = ok(admin.get("/settings"))
    assert settings["discovery"] == "published"
    changed = ok(admin.put("/settings/auto_accept_shares", json={"value": True}))
    assert changed["auto_accept_shares"] is True
    events = ok(admin.get("/audit/events", params={"action": "setting.change", "limit": 1}))
    assert events[0]["resource"] == "setting:auto_accept_shares"
    assert events[0]["details"] == {"from": False, "to": True}
    ok(admin.put("/settings/auto_accept_shares", json={"value": False}))

    error = error_of(admin.put("/settings/colour", json={"value": "blue"}), 400)
    assert error["message"] == "Unknown setting: colour"
    error = error_of(admin.put("/settings/discovery", json={"value": 3}), 400)
    assert error["message"] == "Setting discovery takes a str, got int"
    owner = make_domain("settings")
    with api_server.client(owner.token) as client:
        # Only mesh admins read the settings (like Lake Formation's data lake settings).
        read = error_of(client.get("/settings"), 403)
        error = error_of(client.put("/settings/discovery", json={"value": "granted"}), 403)
    assert read["message"] == error["message"] == f"{owner.principal} is not a mesh admin"
    denied = ok(admin.get("/audit/events", params={"actor": owner.principal}))
    assert [(e["action"], e["outcome"]) for e in denied][-1] == ("setting.read", "denied")
