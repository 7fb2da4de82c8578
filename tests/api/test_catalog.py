"""Locations, databases and tables through HTTP: lifecycle, visibility and errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok

COLUMNS = [
    {"name": "id", "type": "BIGINT"},
    {"name": "amount", "type": "DOUBLE"},
    {"name": "day", "type": "DATE", "partition": True},
]


def _catalog(admin: httpx.Client, owner: DomainAdmin, tmp_path: Path) -> tuple[str, str]:
    """A registered location and a database ``crm`` in ``owner``'s domain: (uri, database)."""
    folder = tmp_path / owner.domain
    folder.mkdir()
    location = ok(admin.post("/locations", json={"uri": str(folder), "domain": owner.domain}), 201)
    database = f"{owner.domain}.crm"
    ok(admin.post("/databases", json={"domain": owner.domain, "name": "crm"}), 201)
    return location["uri"], database


def test_location_lifecycle(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("loc")
    created = ok(admin.post("/locations", json={"uri": str(tmp_path), "domain": owner.domain}), 201)
    assert created["uri"] == f"file://{tmp_path}"
    assert created["domain"] == owner.domain
    assert ok(admin.get("/locations", params={"domain": owner.domain})) == [created]

    error = error_of(
        admin.post("/locations", json={"uri": str(tmp_path), "domain": owner.domain}), 409
    )
    assert error["message"] == (
        f"Location already registered: file://{tmp_path} (by domain {owner.domain})"
    )
    other = make_domain("loc_other")
    error = error_of(
        admin.post("/locations", json={"uri": str(tmp_path / "inner"), "domain": other.domain}),
        409,
    )
    assert error["type"] == "conflict"
    assert error["message"] == (
        f"Location file://{tmp_path}/inner is inside location file://{tmp_path} of domain "
        f"{owner.domain}"
    )

    assert admin.delete("/locations", params={"uri": str(tmp_path)}).status_code == 204
    assert ok(admin.get("/locations", params={"domain": owner.domain})) == []
    error = error_of(admin.delete("/locations", params={"uri": str(tmp_path)}), 404)
    assert error["message"] == f"Location does not exist: file://{tmp_path}"


def test_database_lifecycle(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("db")
    _, database = _catalog(admin, owner, tmp_path)
    shown = ok(admin.get(f"/databases/{database}"))
    assert shown["name"] == database
    assert shown["database"] == "crm"
    assert [d["name"] for d in ok(admin.get("/databases", params={"domain": owner.domain}))] == [
        database
    ]
    assert ok(admin.patch(f"/databases/{database}", json={"description": "CRM"}))[
        "description"
    ] == ("CRM")
    error = error_of(admin.post("/databases", json={"domain": owner.domain, "name": "crm"}), 409)
    assert error["message"] == f"Database already exists: {database}"

    assert admin.delete(f"/databases/{database}").status_code == 204
    error = error_of(admin.get(f"/databases/{database}"), 404)
    assert error["message"] == f"Database does not exist: {database}"
    error = error_of(admin.get(f"/databases/{owner.domain}"), 400)
    assert error["message"] == f"Expected a database name, got domain name: '{owner.domain}'"


def test_table_lifecycle_and_history(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("tbl")
    uri, database = _catalog(admin, owner, tmp_path)
    name = f"{database}.orders"
    body = {
        "name": name,
        "location": f"{uri}/orders",
        "format": "parquet",
        "columns": COLUMNS,
        "description": "Orders",
        "properties": {"owner": "sales-team"},
    }
    created = ok(admin.post("/tables", json=body), 201)
    assert created["name"] == name
    assert created["partition_columns"] == ["day"]
    assert [(c["name"], c["type"]) for c in created["columns"]] == [
        ("id", "BIGINT"),
        ("amount", "DOUBLE"),
        ("day", "DATE"),
    ]
    assert ok(admin.get(f"/tables/{name}")) == created
    listed = ok(admin.get("/tables", params={"domain": owner.domain, "database": "crm"}))
    assert [t["name"] for t in listed] == [name]

    altered = ok(
        admin.patch(
            f"/tables/{name}",
            json={"columns": [*COLUMNS[:1], {"name": "total", "type": "DOUBLE"}, COLUMNS[2]]},
        )
    )
    assert altered["table"]["schema_version"] == 2
    assert altered["changes"]["added"] == [{"name": "total", "type": "DOUBLE", "partition": False}]
    assert altered["changes"]["removed"] == [
        {"name": "amount", "type": "DOUBLE", "partition": False}
    ]
    described = ok(admin.patch(f"/tables/{name}", json={"description": "All orders"}))
    assert described["table"]["description"] == "All orders"
    assert described["changes"] == {"added": [], "removed": [], "changed": []}

    history = ok(admin.get(f"/tables/{name}/history"))
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["actor"] == "user:admin@governance"

    error = error_of(admin.post("/tables", json=body), 409)
    assert error["message"] == f"Table already exists: {name}"
    error = error_of(admin.delete(f"/databases/{database}"), 409)
    assert error["message"] == f"Database {database} still has tables: orders (use cascade)"

    assert admin.delete(f"/tables/{name}").status_code == 204
    error = error_of(admin.get(f"/tables/{name}"), 404)
    assert error["message"] == f"Table does not exist: {name}"
    assert admin.delete(f"/databases/{database}", params={"cascade": True}).status_code == 204


def test_table_errors(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("tblerr")
    _, database = _catalog(admin, owner, tmp_path)
    base = {"name": f"{database}.t", "location": str(tmp_path / owner.domain / "t")}
    error = error_of(admin.post("/tables", json={**base, "format": "xls", "columns": COLUMNS}), 400)
    assert error["message"] == (
        "Unknown table format: xls (known: parquet, csv, json, iceberg, delta)"
    )
    error = error_of(admin.post("/tables", json={**base, "format": "csv", "columns": []}), 400)
    assert error["message"] == "A table needs at least one column"
    outside = {**base, "location": "/elsewhere/t", "format": "csv", "columns": COLUMNS}
    error = error_of(admin.post("/tables", json=outside), 400)
    assert error["message"].startswith(
        f"file:///elsewhere/t is not inside any location registered by domain {owner.domain}"
    )
    error = error_of(admin.post("/tables", json={**base, "format": "csv"}), 400)
    assert error["message"] == "Invalid request: body.columns: Field required"


def test_catalog_reads_are_limited_to_what_the_caller_may_describe(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    tmp_path: Path,
) -> None:
    sales, marketing = make_domain("vis_sales"), make_domain("vis_mkt")
    _, database = _catalog(admin, sales, tmp_path)
    with api_server.client(marketing.token) as client:
        assert ok(client.get("/databases", params={"domain": sales.domain})) == []
        assert ok(client.get("/locations", params={"domain": sales.domain})) == []
        error = error_of(client.get(f"/databases/{database}"), 403)
        assert error["message"] == f"{marketing.principal} lacks DESCRIBE on {database}"
        error = error_of(client.get(f"/tables/{database}.orders"), 403)
        assert error["message"] == f"{marketing.principal} lacks DESCRIBE on {database}.orders"
    with api_server.client(sales.token) as client:
        assert [
            d["name"] for d in ok(client.get("/databases", params={"domain": sales.domain}))
        ] == [database]
