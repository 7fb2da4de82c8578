"""Data filters over HTTP: lifecycle, validation errors, admins only, deleting one in use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from lakemesh.governance import grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.identity.tokens import authenticate
from lakemesh.model.permissions import Permission
from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok
from tests.factories.api_governance import customers_table


def test_filter_lifecycle(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    tmp_path: Path,
) -> None:
    owner = make_domain("flt")
    table = customers_table(admin, owner, tmp_path)
    body = {"name": "eu_rows", "table": table, "rows": "Region = principal_attribute('region')"}
    with api_server.client(owner.token) as client:
        created = ok(client.post("/filters", json={**body, "excluded_columns": ["EMAIL"]}), 201)
        assert {
            k: created[k] for k in ("name", "table", "rows", "columns", "excluded_columns")
        } == {
            "name": "eu_rows",
            "table": table,
            "rows": "\"region\" = PRINCIPAL_ATTRIBUTE('region')",
            "columns": None,
            "excluded_columns": ["email"],
        }
        assert created["grants"] == []
        assert ok(client.get("/filters/eu_rows", params={"table": table})) == created
        assert ok(client.get("/filters", params={"table": table})) == [created]
        updated = ok(
            client.patch("/filters/eu_rows", json={"rows": "region = 'EU'", "columns": ["id"]})
        )
        assert (updated["rows"], updated["columns"], updated["excluded_columns"]) == (
            "\"region\" = 'EU'",
            ["id"],
            [],
        )
        updated = ok(client.patch("/filters/eu_rows", json={"all_rows": True, "all_columns": True}))
        assert (updated["rows"], updated["columns"]) == (None, None)
        deleted = ok(client.delete("/filters/eu_rows", params={"table": table}))
        assert deleted == {"name": "eu_rows", "table": table, "revoked_grants": []}
        error = error_of(client.get("/filters/eu_rows", params={"table": table}), 404)
        assert error["message"] == f"Data filter does not exist: eu_rows on {table}"


def test_filter_errors(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    tmp_path: Path,
) -> None:
    owner, other = make_domain("flterr"), make_domain("flterr_other")
    table = customers_table(admin, owner, tmp_path)
    base = {"name": "f", "table": table}
    cases = [
        ({"rows": "read_csv('/etc/passwd') IS NULL"}, "Row filter may not use function read_csv"),
        ({"rows": "id IN (SELECT 1)"}, "Row filter may not use a subquery"),
        (
            {"rows": "nickname = 'x'"},
            "Row filter refers to unknown column 'nickname' (columns: id, email, region)",
        ),
        ({"columns": ["fax"]}, f"Column does not exist: {table}.fax"),
        (
            {"columns": ["id"], "excluded_columns": ["email"]},
            "Give a column include list or an exclude list, not both",
        ),
    ]
    for extra, message in cases:
        error = error_of(admin.post("/filters", json={**base, **extra}), 400)
        assert error["message"].startswith(message), error
    error = error_of(admin.post("/filters", json={**base, "rows": "id = '1'; DROP TABLE t"}), 400)
    assert error["details"]["token"] == ";"
    with api_server.client(other.token) as client:
        error = error_of(client.post("/filters", json={**base, "rows": "id = '1'"}), 403)
        assert error["message"] == f"{other.principal} is not an admin of domain {owner.domain}"
        assert ok(client.get("/filters")) == []
    error = error_of(admin.post("/filters", json={"name": "f", "rows": "id = '1'"}), 400)
    assert error["message"] == "Invalid request: body.table: Field required"


def test_a_filter_in_use_is_deleted_only_when_forced(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    tmp_path: Path,
) -> None:
    owner, reader = make_domain("fltuse"), make_domain("fltuse_reader")
    table = customers_table(admin, owner, tmp_path)
    body = {"name": "eu_rows", "table": table, "rows": "region = 'EU'"}
    ok(admin.post("/filters", json=body), 201)
    with api_server.hub.transaction() as session:
        request = GrantRequest(
            permissions=frozenset({Permission.SELECT}), on=table, filter="eu_rows"
        )
        actor = authenticate(session, api_server.admin_token)
        grant_id = grants.grant(session, actor=actor, grantee=reader.principal, request=request).id
    shown = ok(admin.get("/filters/eu_rows", params={"table": table}))
    assert shown["grants"] == [
        {"id": grant_id, "grantee": reader.principal, "permissions": ["SELECT"]}
    ]
    error = error_of(admin.delete("/filters/eu_rows", params={"table": table}), 409)
    assert error["message"] == (
        f"Data filter eu_rows on {table} is used by grants: #{grant_id} SELECT to "
        f"{reader.principal} (force the deletion to revoke them)"
    )
    deleted = ok(admin.delete("/filters/eu_rows", params={"table": table, "force": True}))
    assert deleted["revoked_grants"] == [grant_id]
