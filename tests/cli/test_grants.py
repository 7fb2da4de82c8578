"""The CLI for grants, revokes, explain, guardrails and the doctor, on a real hub home."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Cli
from tests.factories.lake import Lake

TABLE = "sales.crm.customers"
WIDE = {"COLUMNS": "250"}  # Rich folds table cells to the terminal's width


@pytest.fixture
def shop(admin_cli: Cli, lake: Lake) -> Cli:
    """sales.crm.customers (id, email, region), user:mia@sales in group:analysts@sales."""
    cli = admin_cli
    lake.parquet(
        "sales/customers/part-0.parquet",
        {"id": [1, 2], "email": ["a@x.io", "b@y.io"], "region": ["EU", "US"]},
    )
    cli.run("domain", "create", "sales", "--producer", "--admin", "user:sam@sales")
    cli.run("domain", "create", "marketing", "--consumer")
    cli.run("principal", "create", "user:mia@sales")
    cli.run("principal", "create", "group:analysts@sales")
    cli.run("group", "add-member", "group:analysts@sales", "user:mia@sales")
    cli.run("location", "register", str(lake.root / "sales"), "--domain", "sales")
    cli.run("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "crm")
    cli.run("tag", "create", "sensitivity", "--values", "public,internal,pii")
    cli.run("tag", "assign", "sales.crm", "sensitivity=internal")
    cli.run("tag", "assign", f"{TABLE}.email", "sensitivity=pii")
    return cli


def _token(cli: Cli, principal: str) -> str:
    token: str = cli.json("token", "create", principal, "--expires", "1d")["token"]
    return token


def test_grant_explain_list_and_revoke(shop: Cli) -> None:
    cli = shop
    granted = cli.json(
        "grant", "SELECT", "--on", TABLE, "--exclude-columns", "email", "--to", "user:mia@sales"
    )
    assert (granted["grantee"], granted["target"]) == (
        "user:mia@sales",
        f"{TABLE} (excluding columns email)",
    )
    explained = cli.json("explain", "user:mia@sales", "SELECT", TABLE)
    assert set(explained) == {
        "allowed",
        "columns",
        "row_filter",
        "masks",
        "reasons",
        "attributes",
        "vended_credentials",
    }
    assert explained["vended_credentials"]["allowed"] is False
    shown = cli.run("explain", "user:mia@sales", "SELECT", TABLE).stdout
    assert "vended storage credentials: no, it may not read the columns email" in shown
    assert (explained["allowed"], explained["columns"], explained["row_filter"]) == (
        True,
        ["id", "region"],
        None,
    )
    human = cli.run("explain", "user:mia@sales", "SELECT", TABLE).stdout
    assert f"ALLOWED: user:mia@sales SELECT on {TABLE}" in human
    assert f"grant #{granted['id']}" in human
    listed = cli.json("grants", "list", "--principal", "user:mia@sales")
    assert [g["id"] for g in listed] == [granted["id"]]
    listing = cli.run("grants", "list", "--resource", TABLE, env=WIDE).stdout
    assert "excluding columns email" in listing

    revoked = cli.json(
        "revoke", "SELECT", "--on", TABLE, "--exclude-columns", "email", "--from", "user:mia@sales"
    )
    assert revoked == {"revoked": [granted["id"]]}
    assert cli.json("explain", "user:mia@sales", "SELECT", TABLE)["allowed"] is False
    assert "DENIED" in cli.run("explain", "user:mia@sales", "SELECT", TABLE).stdout


def test_tag_grant_with_grant_option_and_revoke_by_id(shop: Cli) -> None:
    cli = shop
    granted = cli.json(
        "grant", "SELECT", "--on-tags", "sensitivity=public|internal",
        "--to", "group:analysts@sales", "--with-grant-option",
    )  # fmt: skip
    assert granted["with_grant_option"] is True
    assert cli.json("explain", "user:mia@sales", "SELECT", TABLE)["columns"] == ["id", "region"]
    human = cli.run("revoke", "--id", str(granted["id"])).stdout
    assert f"Revoked #{granted['id']}" in human
    assert cli.json("grants", "list") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("revoke",), "Name what to revoke: PERMISSIONS, a target"),
        (("revoke", "SELECT", "--id", "1"), "Give --id alone"),
        (("grant", "SELECT", "--to", "user:mia@sales"), "Name exactly one target"),
        (("grant", "FLY", "--on", TABLE, "--to", "user:mia@sales"), "Unknown permission: 'FLY'"),
        (("explain", "user:mia@sales", "SELECT,DESCRIBE", TABLE), "Explain one permission"),
        (("doctor", "--fail-on", "dire"), "Unknown severity: 'dire'"),
    ],
)
def test_bad_requests_are_named(shop: Cli, args: tuple[str, ...], message: str) -> None:
    assert shop.error(*args, code=6)["message"].startswith(message)


def test_refusals_exit_with_4(shop: Cli) -> None:
    cli = shop
    mia = _token(cli, "user:mia@sales")
    # A table she may not see reads as one that does not exist (exit 3)...
    result = cli.run(
        "--json", "--token", mia, "grant", "SELECT", "--on", TABLE, "--to", "user:mia@sales",
        code=3,
    )  # fmt: skip
    assert json.loads(result.stderr)["error"]["message"] == f"Table does not exist: {TABLE}"
    # ...and one she sees, but may not grant, is refused (exit 4).
    cli.run("grant", "DESCRIBE", "--on", TABLE, "--to", "user:mia@sales")
    result = cli.run(
        "--json", "--token", mia, "grant", "SELECT", "--on", TABLE, "--to", "user:mia@sales",
        code=4,
    )  # fmt: skip
    error = json.loads(result.stderr)["error"]
    assert error["message"].startswith(f"user:mia@sales may not grant SELECT on {TABLE}")
    result = cli.run("--token", mia, "explain", "user:sam@sales", "SELECT", TABLE, code=4)
    assert "may not explain the access of user:sam@sales" in result.stderr
    denials = cli.json("audit", "search", "--actor", "user:mia@sales")
    assert {(e["action"], e["outcome"]) for e in denials} >= {
        ("grant.create", "denied"),
        ("explain", "denied"),
    }


def test_guardrails(shop: Cli, lake: Lake) -> None:
    cli = shop
    created = cli.json(
        "guardrail", "create", "pii-only-named", "--kind", "sensitive-scope",
        "--on-tags", "sensitivity=pii",
    )  # fmt: skip
    assert created["rule"] == "sensitive-scope sensitivity=pii"
    cli.run("guardrail", "create", "tagged", "--kind", "required-tags", "--keys", "sensitivity")
    cli.run("guardrail", "create", "monthly", "--kind", "max-token-lifetime", "--max", "30d")
    cli.run(
        "guardrail", "create", "lake-only", "--kind", "location-prefixes",
        "--prefixes", f"{lake.uri},s3://lake",
    )  # fmt: skip
    assert [g["name"] for g in cli.json("guardrail", "list")] == [
        "lake-only",
        "monthly",
        "pii-only-named",
        "tagged",
    ]
    assert "location-prefixes" in cli.run("guardrail", "list", "--kind", "location-prefixes").stdout
    assert cli.json("guardrail", "show", "monthly")["config"] == {"max": "30d", "seconds": 2592000}

    error = cli.error("grant", "SELECT", "--on", TABLE, "--to", "domain:marketing", code=4)
    assert error["type"] == "guardrail_violation"
    assert error["message"].startswith("Guardrail pii-only-named (sensitive-scope sensitivity=pii)")
    shared = cli.json(
        "grant", "SELECT", "--on", TABLE, "--columns", "id,region", "--to", "domain:marketing"
    )
    assert shared["columns"] == ["id", "region"]
    error = cli.error("token", "create", "user:mia@sales", code=4)
    assert error["message"] == (
        "Guardrail monthly (max-token-lifetime 30d): tokens may live at most 30d; "
        "asked for no expiry"
    )
    error = cli.error("location", "register", "/elsewhere", "--domain", "sales", code=4)
    assert "location file:///elsewhere is outside the allowed prefixes" in error["message"]

    sam = _token(cli, "user:sam@sales")
    error = cli.error("--token", sam, "guardrail", "delete", "monthly", code=4)
    assert error["message"] == "user:sam@sales is not a mesh admin"
    assert cli.json("guardrail", "update", "monthly", "--max", "90d")["rule"] == (
        "max-token-lifetime 90d"
    )
    assert "Deleted guardrail monthly" in cli.run("guardrail", "delete", "monthly").stdout
    cli.run("token", "create", "user:mia@sales")


def test_doctor(shop: Cli) -> None:
    cli = shop
    cli.run(
        "guardrail", "create", "pii", "--kind", "sensitive-scope", "--on-tags", "sensitivity=pii"
    )
    cli.run("grant", "SELECT", "--on", TABLE, "--to", "user:mia@sales")
    report = cli.json("doctor")
    [finding] = [f for f in report["findings"] if f["kind"] == "sensitive-columns-granted"]
    assert finding == {
        "kind": "sensitive-columns-granted",
        "severity": "medium",
        "resource": TABLE,
        "message": finding["message"],
        "details": finding["details"],
    }
    assert finding["details"]["grantee"] == "user:mia@sales"
    assert finding["details"]["columns"] == ["email"]
    assert "lets user:mia@sales read email of sales.crm.customers" in finding["message"]
    human = cli.run("doctor", env=WIDE).stdout
    assert "sensitive-columns-granted" in human
    assert "0 high" in human
    cli.run("doctor", "--fail-on", "high")
    cli.run("doctor", "--fail-on", "medium", code=1)
    sam = _token(cli, "user:sam@sales")
    assert cli.error("--token", sam, "doctor", code=4)["message"] == (
        "user:sam@sales is not a mesh admin"
    )


def test_another_domains_principal_reads_as_a_missing_one(shop: Cli) -> None:
    """Granting to, or adding to a group, a principal of a domain sam does not administer: the
    same exit code and message whether it exists or not (issue 9)."""
    cli = shop
    cli.run("principal", "create", "user:max@marketing")
    sam = _token(cli, "user:sam@sales")
    for command in (
        ("grant", "SELECT", "--on", TABLE, "--to"),
        ("group", "add-member", "group:analysts@sales"),
    ):
        seen = []
        for name in ("user:max@marketing", "user:gone@marketing"):
            error = cli.error("--token", sam, *command, name, code=4)
            seen.append((error["type"], error["message"].replace(name, "NAME")))
            human = cli.run("--token", sam, *command, name, code=4).stderr
            seen.append(("human", human.replace(name, "NAME")))
        assert seen[:2] == seen[2:], seen
        assert "it is a principal of domain marketing" in seen[0][1]
