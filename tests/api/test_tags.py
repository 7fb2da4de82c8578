"""Tags over HTTP: keys, assignments with inheritance, ASSOCIATE delegation, search, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from lakemesh.governance import grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok
from tests.factories.api_governance import customers_table


def _key(admin: httpx.Client, unique: Callable[[str], str]) -> str:
    key = unique("sensitivity")
    ok(admin.post("/tags", json={"key": key, "values": ["public", "internal", "pii"]}), 201)
    return key


def test_tag_key_lifecycle(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
) -> None:
    key = unique("tier")
    created = ok(
        admin.post("/tags", json={"key": key, "values": ["gold", "silver"], "description": "SLA"}),
        201,
    )
    assert {k: created[k] for k in ("key", "values", "description")} == {
        "key": key,
        "values": ["gold", "silver"],
        "description": "SLA",
    }
    assert ok(admin.get(f"/tags/{key}")) == created
    assert created in ok(admin.get("/tags"))
    updated = ok(admin.patch(f"/tags/{key}", json={"add_values": ["bronze"]}))
    assert updated["values"] == ["bronze", "gold", "silver"]
    updated = ok(admin.patch(f"/tags/{key}", json={"remove_values": ["gold"]}))
    assert updated["values"] == ["bronze", "silver"]

    error = error_of(admin.post("/tags", json={"key": key, "values": ["x"]}), 409)
    assert error["message"] == f"Tag key already exists: {key}"
    error = error_of(admin.patch(f"/tags/{key}", json={"remove_values": ["platinum"]}), 404)
    assert error["message"] == (
        f"Tag value does not exist: {key}=platinum (allowed: bronze, silver)"
    )
    error = error_of(admin.post("/tags", json={"key": "Tier", "values": ["x"]}), 400)
    assert error["message"].startswith("Invalid tag key: 'Tier'")
    owner = make_domain("tagkeys")
    with api_server.client(owner.token) as client:
        assert created["key"] in [t["key"] for t in ok(client.get("/tags"))]
        error = error_of(client.post("/tags", json={"key": unique("mine"), "values": ["a"]}), 403)
        assert error["message"] == f"{owner.principal} is not a mesh admin"
        error = error_of(client.delete(f"/tags/{key}"), 403)

    assert admin.delete(f"/tags/{key}").status_code == 204
    error = error_of(admin.get(f"/tags/{key}"), 404)
    assert error["message"] == f"Tag key does not exist: {key}"


def test_assigned_tags_are_inherited_shown_and_removed(
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    owner = make_domain("tagged")
    table = customers_table(admin, owner, tmp_path)
    database = table.rsplit(".", 1)[0]
    key = _key(admin, unique)

    answer = ok(admin.post(f"/resources/{database}/tags", json={"tags": {key: "internal"}}))
    assert answer["changes"] == [{"key": key, "value": "internal", "previous": None}]
    answer = ok(admin.post(f"/resources/{table}.EMAIL/tags", json={"tags": {key: "public"}}))
    assert answer["resource"] == f"{table}.email"
    answer = ok(admin.post(f"/resources/{table}.email/tags", json={"tags": {key: "pii"}}))
    assert answer["changes"] == [{"key": key, "value": "pii", "previous": "public"}]
    assert answer["tags"]["overridden"] == {key: {"value": "internal", "from": database}}

    view = ok(admin.get(f"/resources/{table}.region/tags"))
    assert view == {
        "resource": f"{table}.region",
        "level": "column",
        "own": {},
        "inherited": {key: {"value": "internal", "from": database}},
        "overridden": {},
        "effective": {key: "internal"},
    }
    shown = ok(admin.get(f"/tables/{table}"))
    assert shown["tags"]["effective"] == {key: "internal"}
    assert {c["name"]: c["tags"]["effective"][key] for c in shown["columns"]} == {
        "id": "internal",
        "email": "pii",
        "region": "internal",
    }

    removed = ok(admin.delete(f"/resources/{table}.email/tags", params={"key": key}))
    assert removed["changes"] == [{"key": key, "value": None, "previous": "pii"}]
    assert removed["tags"]["effective"] == {key: "internal"}
    error = error_of(admin.delete(f"/resources/{table}.email/tags", params={"key": key}), 404)
    assert error["message"] == (
        f"Tag {key} is not assigned on {table}.email (it is inherited from {database})"
    )
    error = error_of(admin.post(f"/resources/{table}/tags", json={"tags": {key: "secret"}}), 404)
    assert error["message"] == (
        f"Tag value does not exist: {key}=secret (allowed: internal, pii, public)"
    )
    error = error_of(admin.post(f"/resources/{table}/tags", json={"tags": {"nokey": "x"}}), 404)
    assert error["message"] == "Tag key does not exist: nokey"
    error = error_of(
        admin.post(f"/resources/{owner.domain}/tags", json={"tags": {key: "pii"}}), 400
    )
    assert error["message"] == (
        f"Tags are assigned on databases, tables and columns, not on domain {owner.domain}"
    )


def test_domain_admins_assign_the_values_delegated_to_them(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    owner, other = make_domain("assoc"), make_domain("assoc_other")
    table = customers_table(admin, owner, tmp_path)
    key = _key(admin, unique)
    body = {"tags": {key: "pii"}}
    with api_server.client(owner.token) as client:
        error = error_of(client.post(f"/resources/{table}.email/tags", json=body), 403)
        assert error["message"] == f"{owner.principal} lacks ASSOCIATE on tag {key}=pii"
        with api_server.hub.transaction() as session:
            request = GrantRequest(
                permissions=frozenset({Permission.ASSOCIATE}), tag_values=f"{key}=pii"
            )
            grants.grant(
                session,
                actor=_admin_actor(api_server),
                grantee=f"domain:{owner.domain}",
                request=request,
            )
        answer = ok(client.post(f"/resources/{table}.email/tags", json=body))
        assert answer["tags"]["own"] == {key: "pii"}
        error = error_of(
            client.post(f"/resources/{table}/tags", json={"tags": {key: "public"}}), 403
        )
        assert error["message"] == f"{owner.principal} lacks ASSOCIATE on tag {key}=public"
    with api_server.client(other.token) as client:
        error = error_of(client.post(f"/resources/{table}/tags", json=body), 403)
        assert error["message"] == f"{other.principal} is not an admin of domain {owner.domain}"
        error = error_of(client.get(f"/resources/{table}/tags"), 403)
        assert error["message"] == f"{other.principal} lacks DESCRIBE on {table}"


def _admin_actor(api_server: ApiServer) -> Actor:
    with api_server.hub.read() as session:
        return authenticate(session, api_server.admin_token)


def test_a_tag_in_use_cannot_be_deleted(
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    table = customers_table(admin, make_domain("inuse"), tmp_path)
    key = _key(admin, unique)
    ok(admin.post(f"/resources/{table}.email/tags", json={"tags": {key: "pii"}}))
    error = error_of(admin.delete(f"/tags/{key}"), 409)
    assert error["type"] == "conflict"
    assert error["message"] == f"Tag key {key} is still in use: column {table}.email ({key}=pii)"
    assert error["details"]["uses"] == [
        {"kind": "column", "name": f"{table}.email", "tag": f"{key}=pii"}
    ]
    error = error_of(admin.patch(f"/tags/{key}", json={"remove_values": ["pii"]}), 409)
    assert error["message"] == (
        f"Tag value {key}=pii is still in use: column {table}.email ({key}=pii)"
    )
    assert ok(admin.patch(f"/tags/{key}", json={"remove_values": ["public"]}))["values"] == [
        "internal",
        "pii",
    ]


def test_search_tables_by_tag_expression(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    owner, other = make_domain("search"), make_domain("search_other")
    table = customers_table(admin, owner, tmp_path)
    key = _key(admin, unique)
    ok(admin.post(f"/resources/{table}/tags", json={"tags": {key: "internal"}}))
    ok(admin.post(f"/resources/{table}.email/tags", json={"tags": {key: "pii"}}))

    found = ok(admin.get("/search/tables", params={"tags": f"{key}=pii"}))
    assert found == [{"name": table, "columns": ["email"]}]
    found = ok(admin.get("/search/tables", params={"tags": f"{key}!=pii OR {key}=public"}))
    # Untagged tables of other tests match `!=` as well: keep this test's own.
    assert [hit for hit in found if hit["name"] == table] == [
        {"name": table, "columns": ["id", "region"]}
    ]
    found = ok(admin.get("/search/tables", params={"tags": f"NOT ({key}=pii|internal)"}))
    assert table not in [hit["name"] for hit in found]
    with api_server.client(owner.token) as client:
        found = ok(client.get("/search/tables", params={"tags": f"{key}=pii"}))
        assert found == [{"name": table, "columns": ["email"]}]
    with api_server.client(other.token) as client:
        assert ok(client.get("/search/tables", params={"tags": f"{key}=pii"})) == []

    error = error_of(admin.get("/search/tables", params={"tags": f"{key}=pii AND"}), 400)
    position = len(key) + 8
    assert error["message"].startswith(
        f"Invalid tag expression at position {position}: expected a tag key"
    )
    assert error["details"]["position"] == position
    error = error_of(admin.get("/search/tables"), 400)
    assert error["message"] == "Invalid request: query.tags: Field required"
