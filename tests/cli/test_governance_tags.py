"""The CLI's tag, table search, filter and mask commands on a real hub home, with --json shapes."""

from __future__ import annotations

from typing import Any

import pytest

from lakemesh.governance import grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.permissions import Permission
from tests.cli.conftest import Cli
from tests.factories.lake import Lake

TABLE = "sales.crm.customers"


@pytest.fixture
def mesh_cli(admin_cli: Cli, lake: Lake) -> Cli:
    """sales.crm.customers (id, email, region) crawled from Parquet; keys sensitivity, owner."""
    cli = admin_cli
    lake.parquet(
        "sales/customers/part-0.parquet",
        {"id": [1, 2], "email": ["a@x.io", "b@y.io"], "region": ["EU", "US"]},
    )
    cli.run("domain", "create", "sales", "--producer", "--admin", "user:sam@sales")
    cli.run("location", "register", str(lake.root / "sales"), "--domain", "sales")
    cli.run("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "crm")
    cli.run("tag", "create", "sensitivity", "--values", "public, internal,pii")
    cli.run("tag", "create", "owner", "--values", "sales,marketing")
    return cli


def _sam_token(cli: Cli) -> str:
    token: str = cli.json("token", "create", "user:sam@sales")["token"]
    return token


def test_tag_keys(mesh_cli: Cli) -> None:
    cli = mesh_cli
    created = cli.json(
        "tag", "create", "region", "--values", "eu-west,us-east", "--description", "Where"
    )
    assert set(created) == {"key", "values", "description", "created_at"}
    assert (created["key"], created["values"], created["description"]) == (
        "region",
        ["eu-west", "us-east"],
        "Where",
    )
    assert [t["key"] for t in cli.json("tag", "list")] == ["owner", "region", "sensitivity"]
    assert cli.json("tag", "show", "region") == created
    updated = cli.json("tag", "update", "region", "--add", "ap-south", "--remove", "us-east")
    assert updated["values"] == ["ap-south", "eu-west"]
    assert (
        "Created tag colour (blue, red)"
        in cli.run("tag", "create", "colour", "--values", "red,blue").stdout
    )
    assert "eu-west" in cli.run("tag", "list").stdout
    assert cli.json("tag", "delete", "region") == {"deleted": "region"}

    error = cli.error("tag", "show", "region", code=3)
    assert error["message"] == "Tag key does not exist: region"
    error = cli.error("tag", "create", "owner", "--values", "x", code=5)
    assert error["message"] == "Tag key already exists: owner"
    error = cli.error("tag", "create", "Size", "--values", "x", code=6)
    assert error["message"].startswith("Invalid tag key: 'Size'")
    error = cli.error("--token", _sam_token(cli), "tag", "create", "size", "--values", "s", code=4)
    assert error["message"] == "user:sam@sales is not a mesh admin"


def test_assign_show_and_remove(mesh_cli: Cli) -> None:
    cli = mesh_cli
    assigned = cli.json("tag", "assign", "sales.crm", "sensitivity=internal", "owner=sales")
    assert set(assigned) == {"resource", "changes", "tags"}
    assert assigned["changes"] == [
        {"key": "owner", "value": "sales", "previous": None},
        {"key": "sensitivity", "value": "internal", "previous": None},
    ]
    cli.run("tag", "assign", f"{TABLE}.email", "sensitivity=public")
    replaced = cli.run("tag", "assign", f"{TABLE}.email", "sensitivity=pii").stdout
    assert f"Assigned sensitivity=pii on {TABLE}.email (replaced sensitivity=public)" in replaced
    again = cli.run("tag", "assign", f"{TABLE}.email", "sensitivity=pii").stdout
    assert f"sensitivity=pii was already assigned on {TABLE}.email" in again

    view = cli.json("tag", "show-resource", f"{TABLE}.email")
    assert view == {
        "resource": f"{TABLE}.email",
        "level": "column",
        "own": {"sensitivity": "pii"},
        "inherited": {"owner": {"value": "sales", "from": "sales.crm"}},
        "overridden": {"sensitivity": {"value": "internal", "from": "sales.crm"}},
        "effective": {"owner": "sales", "sensitivity": "pii"},
    }
    human = cli.run("tag", "show-resource", f"{TABLE}.email").stdout
    assert "own (overrides internal from sales.crm)" in human
    assert "inherited from sales.crm" in human

    table = cli.json("table", "show", TABLE)
    assert table["tags"]["effective"] == {"owner": "sales", "sensitivity": "internal"}
    assert [c["tags"]["effective"]["sensitivity"] for c in table["columns"]] == [
        "internal",
        "pii",
        "internal",
    ]
    assert "sensitivity=pii" in cli.run("table", "show", TABLE).stdout

    removed = cli.json("tag", "remove", f"{TABLE}.email", "sensitivity")
    assert removed["changes"] == [{"key": "sensitivity", "value": None, "previous": "pii"}]
    assert removed["tags"]["effective"] == {"owner": "sales", "sensitivity": "internal"}
    assert (
        "Removed owner=sales from sales.crm"
        in cli.run("tag", "remove", "sales.crm", "owner").stdout
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["assign", TABLE, "colour=red"], 3, "Tag key does not exist: colour"),
        (
            ["assign", TABLE, "sensitivity=secret"],
            3,
            "Tag value does not exist: sensitivity=secret (allowed: internal, pii, public)",
        ),
        (["assign", TABLE, "sensitivity"], 6, "Invalid tag: 'sensitivity' (expected KEY=VALUE)"),
        (
            ["assign", TABLE, "sensitivity=pii", "sensitivity=public"],
            6,
            "Tag sensitivity given twice: pii and public (one value per key)",
        ),
        (["assign", f"{TABLE}.fax", "owner=sales"], 3, f"Column does not exist: {TABLE}.fax"),
        (["remove", TABLE, "owner"], 3, f"Tag owner is not assigned on {TABLE}"),
        (["show-resource", "sales.crm.nope"], 3, "Table does not exist: sales.crm.nope"),
    ],
)
def test_tag_errors(mesh_cli: Cli, args: list[str], code: int, message: str) -> None:
    assert mesh_cli.error("tag", *args, code=code)["message"] == message


def test_assigning_needs_associate_on_the_value(mesh_cli: Cli) -> None:
    token = _sam_token(mesh_cli)
    error = mesh_cli.error("--token", token, "tag", "assign", TABLE, "sensitivity=pii", code=4)
    assert error["message"] == "user:sam@sales lacks ASSOCIATE on tag sensitivity=pii"
    _grant(mesh_cli, "user:sam@sales", GrantRequest(
        permissions=frozenset({Permission.ASSOCIATE}), tag_values="sensitivity=pii"
    ))  # fmt: skip
    answer = mesh_cli.json("--token", token, "tag", "assign", TABLE, "sensitivity=pii")
    assert answer["tags"]["own"] == {"sensitivity": "pii"}


def _grant(cli: Cli, grantee: str, request: GrantRequest) -> int:
    """A grant made through the service on the CLI's hub home (the grant command is elsewhere)."""
    hub = Hub.open(cli.home)
    try:
        with hub.transaction() as session:
            token = str(hub.home.profile(None)["token"])
            actor = authenticate(session, token)
            return grants.grant(session, actor=actor, grantee=grantee, request=request).id
    finally:
        hub.close()


def test_table_search(mesh_cli: Cli) -> None:
    cli = mesh_cli
    cli.run("tag", "assign", TABLE, "sensitivity=internal")
    cli.run("tag", "assign", f"{TABLE}.email", "sensitivity=pii")
    search: list[tuple[str, list[dict[str, Any]]]] = [
        ("sensitivity=pii", [{"name": TABLE, "columns": ["email"]}]),
        ("sensitivity!=pii", [{"name": TABLE, "columns": ["id", "region"]}]),
        ("NOT sensitivity=internal OR owner=sales", [{"name": TABLE, "columns": ["email"]}]),
        ("owner=marketing", []),
    ]
    for expression, expected in search:
        assert cli.json("table", "search", "--tags", expression) == expected
    human = cli.run("table", "search", "--tags", "sensitivity=pii").stdout
    assert TABLE in human
    assert "email" in human
    error = cli.error("table", "search", "--tags", "sensitivity=pii OR", code=6)
    assert error["message"].startswith(
        "Invalid tag expression at position 18: expected a tag key, found the end"
    )
    assert error["details"]["position"] == 18
    error = cli.error("table", "search", "--tags", "colour=red", code=6)
    assert error["message"] == "Tag key does not exist: colour"


def test_filters(mesh_cli: Cli) -> None:
    cli = mesh_cli
    created = cli.json(
        "filter", "create", "eu_rows", "--table", TABLE,
        "--rows", "region = principal_attribute('region')", "--exclude-columns", "email",
    )  # fmt: skip
    assert set(created) == {
        "name", "table", "rows", "columns", "excluded_columns", "grants",
        "created_by", "created_at", "updated_at",
    }  # fmt: skip
    assert (created["rows"], created["columns"], created["excluded_columns"]) == (
        "\"region\" = PRINCIPAL_ATTRIBUTE('region')",
        None,
        ["email"],
    )
    assert cli.json("filter", "list", "--table", TABLE) == [created]
    assert cli.json("filter", "show", "eu_rows") == created
    updated = cli.json("filter", "update", "eu_rows", "--rows", "region = 'EU'", "--columns", "id")
    assert (updated["rows"], updated["columns"]) == ("\"region\" = 'EU'", ["id"])
    assert "eu_rows" in cli.run("filter", "list").stdout

    grant_id = _grant(cli, "user:sam@sales", GrantRequest(
        permissions=frozenset({Permission.SELECT}), on=TABLE, filter="eu_rows"
    ))  # fmt: skip
    assert f"#{grant_id} to user:sam@sales" in cli.run("filter", "show", "eu_rows").stdout
    error = cli.error("filter", "delete", "eu_rows", code=5)
    assert error["message"] == (
        f"Data filter eu_rows on {TABLE} is used by grants: #{grant_id} SELECT to "
        "user:sam@sales (force the deletion to revoke them)"
    )
    forced = cli.run("filter", "delete", "eu_rows", "--force").stdout
    assert f"Deleted filter eu_rows on {TABLE}" in forced
    assert f"Revoked grants: #{grant_id}" in forced
    assert cli.json("filter", "list") == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--rows", "lower(email) = 'x'"], 6, "Row filter may not use function lower"),
        (["--rows", "id = 1; SELECT 2"], 6, "Row filter may not use ';'"),
        (
            ["--rows", "fax = '1'"],
            6,
            "Row filter refers to unknown column 'fax' (columns: id, email, region)",
        ),
        (["--columns", "id,fax"], 6, f"Column does not exist: {TABLE}.fax"),
        (
            ["--columns", "id", "--exclude-columns", "email"],
            6,
            "Give a column include list or an exclude list, not both",
        ),
    ],
)
def test_filter_errors(mesh_cli: Cli, args: list[str], code: int, message: str) -> None:
    error = mesh_cli.error("filter", "create", "f", "--table", TABLE, *args, code=code)
    assert error["message"].startswith(message)


def test_masks(mesh_cli: Cli) -> None:
    cli = mesh_cli
    created = cli.json(
        "mask", "create", "hide_pii", "--on-tags", "sensitivity=pii", "--function", "redact"
    )
    assert set(created) == {"name", "tag_expression", "function", "created_by", "created_at"}
    assert (created["tag_expression"], created["function"]) == ("sensitivity=pii", "redact")
    assert cli.json("mask", "list") == [created]
    assert cli.json("mask", "show", "hide_pii") == created
    assert "redact" in cli.run("mask", "list").stdout
    error = cli.error("tag", "delete", "sensitivity", code=5)
    assert error["message"] == (
        "Tag key sensitivity is still in use: mask hide_pii (sensitivity=pii)"
    )
    assert error["details"]["uses"] == [
        {"kind": "mask", "name": "hide_pii", "tag": "sensitivity=pii"}
    ]
    error = cli.error(
        "mask", "create", "m", "--on-tags", "sensitivity=pii", "--function", "blur", code=6
    )
    assert error["message"] == (
        "Unknown mask function: 'blur' (known: redact, hash, last4, null, email_domain)"
    )
    token = _sam_token(cli)
    error = cli.error("--token", token, "mask", "delete", "hide_pii", code=4)
    assert error["message"] == "user:sam@sales is not a mesh admin"
    assert cli.json("mask", "delete", "hide_pii") == {"deleted": "hide_pii"}
    error = cli.error("mask", "show", "hide_pii", code=3)
    assert error["message"] == "Mask does not exist: hide_pii"
