"""`lakemesh audit search` and `audit verify`, including a tampered chain."""

from __future__ import annotations

import sqlite3

from tests.cli.conftest import Cli


def test_search_finds_changes_by_action_actor_and_resource(admin_cli: Cli) -> None:
    cli = admin_cli
    cli.run("domain", "create", "sales")
    cli.run("domain", "create", "finance")
    events = cli.json("audit", "search", "--action", "domain.create", "--since", "1d")
    assert [e["resource"] for e in events] == ["finance", "sales"]
    assert {e["actor"] for e in events} == {"user:admin@governance"}
    assert set(events[0]) >= {"seq", "time", "actor", "action", "resource", "outcome", "hash"}
    assert len(cli.json("audit", "search", "--resource", "sales", "--limit", "1")) == 1
    assert cli.json("audit", "search", "--actor", "user:nobody@sales") == []
    table = cli.run("audit", "search", env={"COLUMNS": "200"}).stdout
    assert "domain.create" in table
    assert "user:admin@governance" in table


def test_verify_prints_ok_with_the_event_count(admin_cli: Cli) -> None:
    admin_cli.run("domain", "create", "sales")
    result = admin_cli.json("audit", "verify")
    assert result["ok"] is True
    assert result["broken_seq"] is None
    assert admin_cli.run("audit", "verify").stdout == (
        f"OK: {result['events']} audit events verified\n"
    )


def test_verify_reports_the_first_broken_event_and_exits_1(admin_cli: Cli) -> None:
    admin_cli.run("domain", "create", "sales")
    with sqlite3.connect(admin_cli.home / "hub.db") as connection:
        connection.execute("UPDATE audit_events SET actor = 'user:mallory@sales' WHERE seq = 2")
    result = admin_cli.run("audit", "verify", code=1)
    assert result.stderr == "Audit chain broken at event 2: event 2 was altered\n"
    broken = admin_cli.run("--json", "audit", "verify", code=1)
    assert '"broken_seq": 2' in broken.stdout


def test_search_refuses_an_unknown_action_listing_the_known_ones(admin_cli: Cli) -> None:
    error = admin_cli.error("audit", "search", "--action", "domain.created", code=6)
    assert error["type"] == "invalid_input"
    assert error["message"].startswith("Unknown action: 'domain.created' (known: access.denied, ")
    assert "domain.create, " in error["message"]
