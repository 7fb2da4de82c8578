"""Endpoint x role access matrix (issue 10): per operation of the OpenAPI document, which roles
pass (mesh admin, domain admin, analyst, no token), and that every other role gets 401/403/404.

Each role runs every operation, in the order below, on its own copy of one demo mesh (so what one
role changes never decides another's answer). The operations target the domain admin's domain
(sales). "Passes" means the hub did not refuse the caller: the answer is neither 401, 403 nor 404
(a 400 or 409 about the request itself still passes).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lakemesh import clock
from lakemesh.api.server import serve_in_background
from lakemesh.catalog.columns import current_columns
from lakemesh.catalog.tables import get_table_row
from lakemesh.hub import Hub
from lakemesh.model.names import parse_resource
from lakemesh.store.schema import SchemaProposal
from tests.api.conftest import ok
from tests.factories.demo import DemoHome, copy_demo

MESH, DOMAIN, ANALYST, NOBODY = "M", "D", "A", "U"
PROFILES = {MESH: "steward", DOMAIN: "sales-admin", ANALYST: "marketing-analyst", NOBODY: None}
REFUSED = {401, 403, 404}

TABLE = {
    "name": "sales.crm.extra",
    "location": "{home}/storage/sales/crm/extra",
    "format": "parquet",
    "columns": [{"name": "id", "type": "BIGINT"}],
}
GRANT = {"grantee": "user:emma@sales", "permissions": ["SELECT"], "on": "sales.crm.stores"}
SUBSCRIBE = {
    "product": "sales_customers",
    "principal": "user:mia@marketing",
    "reason": "r",
    "exclude_columns": ["email", "phone"],  # the PII a guardrail keeps from shares
}
LINEAGE_EVENT = {
    "eventType": "COMPLETE",
    "run": {"runId": "0190b2e4-8d35-7bd2-9d2a-7b1c1f7a1b11"},
    "job": {"namespace": "spark", "name": "orders_etl"},
    "inputs": [{"namespace": "file", "name": "{home}/storage/sales/crm/customers"}],
    "outputs": [{"namespace": "file", "name": "{home}/storage/sales/crm/orders"}],
}
SALES_FILE = {"name": "sales", "producer": True, "description": "Sales"}
EXPLAIN = "principal=user:mia@marketing&permission=SELECT&resource=sales.crm.orders"

# (method, path, body, roles that pass). {home}, {token}, {subscription} and {job} are filled in.
MATRIX: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/health", None, "MDAU"),
    ("GET", "/whoami", None, "MDA"),
    ("GET", "/domains", None, "MDA"),
    ("POST", "/domains", {"name": "newdomain"}, "M"),
    ("GET", "/domains/{name}", None, "MDA"),
    ("PATCH", "/domains/sales", {"description": "Sales"}, "MD"),
    ("POST", "/domains/sales/admins", {"principal": "user:emma@sales"}, "MD"),
    ("DELETE", "/domains/sales/admins/user:emma@sales", None, "MD"),
    ("GET", "/attribute-keys", None, "MDA"),
    ("POST", "/attribute-keys", {"key": "team", "values": ["west"]}, "M"),
    ("GET", "/attribute-keys/region", None, "MDA"),
    ("PATCH", "/attribute-keys/team", {"values": ["west", "east"]}, "M"),
    ("POST", "/attribute-keys/team/delegates", {"principal": "user:sam@sales"}, "M"),
    ("DELETE", "/attribute-keys/team/delegates/user:sam@sales", None, "M"),
    ("GET", "/principals?domain=sales", None, "MD"),
    ("POST", "/principals", {"name": "user:newbie@sales"}, "MD"),
    ("GET", "/principals/user:emma@sales", None, "MD"),
    # Attribute values: mesh admins and the key's delegates only (not domain admins).
    ("PATCH", "/principals/user:emma@sales", {"set": {"region": "EU"}}, "M"),
    (
        "POST",
        "/groups/group:regional_managers@sales/members",
        {"member": "user:newbie@sales"},
        "MD",
    ),
    ("DELETE", "/groups/group:regional_managers@sales/members/user:newbie@sales", None, "MD"),
    ("DELETE", "/principals/user:newbie@sales", None, "MD"),
    ("DELETE", "/attribute-keys/team", None, "M"),
    ("POST", "/tokens", {"principal": "user:emma@sales", "expires_in": "1d"}, "MD"),
    ("GET", "/tokens", None, "MDA"),
    ("DELETE", "/tokens/{token}", None, "MD"),
    ("GET", "/locations", None, "MDA"),
    ("POST", "/locations", {"uri": "{home}/storage/sales/more", "domain": "sales"}, "MD"),
    ("DELETE", "/locations?uri={home}/storage/sales/more", None, "MD"),
    ("GET", "/databases", None, "MDA"),
    ("POST", "/databases", {"domain": "sales", "name": "scratch"}, "MD"),
    ("GET", "/databases/sales.crm", None, "MD"),
    ("PATCH", "/databases/sales.crm", {"description": "CRM"}, "MD"),
    ("DELETE", "/databases/sales.scratch", None, "MD"),
    ("GET", "/tables", None, "MDA"),
    ("POST", "/tables", TABLE, "MD"),
    ("GET", "/tables/sales.crm.orders", None, "MDA"),
    ("PATCH", "/tables/sales.crm.orders", {"description": "Orders"}, "MD"),
    ("GET", "/tables/sales.crm.orders/history", None, "MDA"),
    ("DELETE", "/tables/sales.crm.extra", None, "MD"),
    ("GET", "/audit/events", None, "MD"),
    ("GET", "/audit/verify", None, "M"),
    ("GET", "/settings", None, "M"),
    ("PUT", "/settings/discovery", {"value": "published"}, "M"),
    ("GET", "/workgroups", None, "MDA"),
    ("POST", "/workgroups", {"name": "adhoc"}, "M"),
    ("GET", "/workgroups/primary", None, "MDA"),
    ("GET", "/workgroups/primary/usage", None, "MDA"),  # one's own queries
    ("GET", "/workgroups/primary/usage?all_principals=true", None, "M"),
    ("GET", "/workgroups/primary/usage?principal=user:steward@governance", None, "M"),
    ("PATCH", "/workgroups/adhoc", {"description": "Ad hoc"}, "M"),
    ("DELETE", "/workgroups/adhoc", None, "M"),
    ("GET", "/tags", None, "MDA"),
    ("POST", "/tags", {"key": "tier", "values": ["gold"]}, "M"),
    ("GET", "/tags/owner", None, "MDA"),
    ("PATCH", "/tags/tier", {"add_values": ["silver"]}, "M"),
    ("DELETE", "/tags/tier", None, "M"),
    ("GET", "/resources/sales.crm.orders/tags", None, "MDA"),
    ("POST", "/resources/sales.crm.orders/tags", {"tags": {"owner": "sales"}}, "M"),  # ASSOCIATE
    ("DELETE", "/resources/sales.crm.orders/tags?key=owner", None, "M"),
    ("GET", "/search/tables?tags=owner=sales", None, "MDA"),
    ("GET", "/filters", None, "MDA"),
    ("POST", "/filters", {"name": "us_only", "table": "sales.crm.orders", "rows": "1 = 1"}, "MD"),
    ("GET", "/filters/eu_only?table=sales.crm.orders", None, "MD"),
    ("PATCH", "/filters/us_only?table=sales.crm.orders", {"all_rows": True}, "MD"),
    ("DELETE", "/filters/us_only?table=sales.crm.orders", None, "MD"),
    ("GET", "/masks", None, "MDA"),
    ("POST", "/masks", {"name": "hide", "tag_expression": "owner=sales", "function": "null"}, "M"),
    ("GET", "/masks/hide", None, "M"),
    ("DELETE", "/masks/hide", None, "M"),
    ("GET", "/grants", None, "MDA"),
    ("POST", "/grants", GRANT, "MD"),
    ("POST", "/grants/revoke", GRANT, "MD"),
    ("GET", f"/explain?{EXPLAIN}", None, "MDA"),  # one's own access
    ("GET", "/guardrails", None, "MDA"),
    ("POST", "/guardrails", {"name": "owners", "kind": "required-tags", "keys": ["owner"]}, "M"),
    ("GET", "/guardrails/owners", None, "M"),
    ("PATCH", "/guardrails/owners", {"keys": ["owner"]}, "M"),
    ("DELETE", "/guardrails/owners", None, "M"),
    ("GET", "/doctor", None, "M"),
    ("GET", "/shares", None, "MDA"),
    ("GET", "/shares/8", None, "MD"),
    ("POST", "/shares/8/accept", None, "M"),
    ("POST", "/shares/8/decline", None, "M"),
    ("GET", "/links", None, "MDA"),
    (
        "POST",
        "/links",
        {"name": "sales.linked.invoices", "target": "finance.ledger.invoices"},
        "MD",
    ),
    ("GET", "/links/sales.linked.invoices", None, "MD"),
    ("DELETE", "/links/sales.linked.invoices", None, "MD"),
    ("GET", "/products", None, "MDA"),
    (
        "POST",
        "/products",
        {"name": "sales_stores", "domain": "sales", "tables": ["crm.stores"]},
        "MD",
    ),
    ("GET", "/products/search?text=orders", None, "MDA"),
    ("GET", "/products/search/facets?text=orders", None, "MDA"),
    ("GET", "/products/sales_orders", None, "MDA"),
    ("POST", "/products/sales_stores/deprecate", {"message": "gone"}, "MD"),
    ("GET", "/subscriptions", None, "MDA"),
    ("POST", "/subscriptions", SUBSCRIBE, "MA"),
    ("GET", "/subscriptions/{subscription}", None, "MDA"),
    ("POST", "/subscriptions/{subscription}/approve", {"comment": ""}, "MD"),
    ("POST", "/subscriptions/{subscription}/reject", {"reason": "no"}, "MD"),
    ("POST", "/subscriptions/{subscription}/revoke", {"reason": "no"}, "MD"),
    (
        "POST",
        "/crawls",
        {"uri": "{home}/storage/sales/crm", "domain": "sales", "database": "crm"},
        "MD",
    ),
    (
        "POST",
        "/onboarding/producers",
        {"name": "sales", "location": "{home}/storage/sales", "admin": "user:sam@sales"},
        "MD",
    ),
    (
        "POST",
        "/onboarding/consumers",
        {"name": "newconsumer", "admin": "user:boss@newconsumer"},
        "M",
    ),
    ("POST", "/queries", {"sql": "SELECT 1 AS one"}, "MDA"),
    ("POST", "/queries/jobs", {"sql": "SELECT 1 AS one"}, "MDA"),
    ("GET", "/queries/jobs/{job}", None, "MA"),
    ("GET", "/queries/jobs/{job}/results", None, "A"),
    ("DELETE", "/queries/jobs/{job}", None, "MA"),
    ("GET", "/queries/history", None, "MDA"),
    ("GET", "/mesh/schema", None, "MDAU"),
    ("GET", "/mesh/export", None, "MD"),
    ("GET", "/mesh/export?domain=sales", None, "MD"),
    ("GET", "/mesh/decisions", None, "M"),
    ("POST", "/mesh/plan", {"files": {"domains": [{"domain": SALES_FILE}]}}, "MD"),
    ("POST", "/mesh/apply", {"files": {"domains": [{"domain": SALES_FILE}]}}, "MD"),
    ("GET", "/products/sales_orders/checks", None, "MDA"),
    ("POST", "/products/sales_orders/checks", None, "MD"),
    ("GET", "/schedules", None, "MDA"),
    ("PUT", "/schedules", {"kind": "check", "target": "sales_orders", "cron": "0 3 * * *"}, "MD"),
    ("GET", "/schedules/check/sales_orders/runs", None, "MD"),
    ("POST", "/schedules/tick", None, "M"),
    ("DELETE", "/schedules/check/sales_orders", None, "MD"),
    ("POST", "/lineage", LINEAGE_EVENT, "D"),
    ("GET", "/lineage/sales.crm.orders", None, "MDA"),
    ("GET", "/lineage/sales.crm.orders/openlineage", None, "MDA"),
    ("GET", "/lineage/products/sales_orders", None, "MDA"),
    ("GET", "/tables/sales.crm.orders/diff", None, "MDA"),
    ("GET", "/products/sales_orders/versions", None, "MDA"),
    ("POST", "/products/sales_orders/proposals/{proposal}/accept", {}, "MD"),
    ("POST", "/products/sales_orders/proposals/{proposal}/reject", {}, "MD"),  # 409 by then
    ("GET", "/inbox", None, "MDA"),
    ("POST", "/inbox/read", {"all": True}, "MDA"),
    ("PUT", "/webhooks/secrets", {"name": "hooks", "value": "a-secret-of-20-chars"}, "MDA"),
    ("GET", "/webhooks/secrets", None, "MDA"),
    ("POST", "/webhooks", {"url": "https://hooks.invalid/x", "secret": "hooks"}, "MDA"),
    ("GET", "/webhooks", None, "MDA"),
    ("GET", "/webhooks/deliveries", None, "MDA"),
    # No delivery was made (nothing happened after the webhook): nobody finds this one.
    ("POST", "/webhooks/deliveries/999/redeliver", None, ""),
    ("DELETE", "/webhooks/1", None, "MDA"),  # each role's copy: its own first webhook
    ("DELETE", "/webhooks/secrets/hooks", None, "MDA"),
    ("DELETE", "/grants/3", None, "MD"),
    ("DELETE", "/domains/sales", None, "M"),
]


@dataclass
class Demo:
    """A built demo home and what the matrix fills into paths (``{home}``: the home whose
    ``storage/`` the demo's locations name, shared by the copies)."""

    home: Path
    tokens: dict[str, str]
    values: dict[str, str]
    data: Path


@pytest.fixture(scope="module")
def demo(demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    result = copy_demo(demo_home, tmp_path_factory.mktemp("matrix") / "home")
    home = result.home
    hub = Hub.open(home)
    with serve_in_background(hub) as url:
        steward = _client(url, result.tokens["steward"])
        analyst = _client(url, result.tokens["marketing-analyst"])
        token = ok(steward.post("/tokens", json={"principal": "user:emma@sales"}), 201)
        subscription = ok(analyst.post("/subscriptions", json=SUBSCRIBE), 201)
        job = ok(analyst.post("/queries/jobs", json={"sql": "SELECT 1 AS one"}), 202)
        while ok(analyst.get(f"/queries/jobs/{job['id']}"))["status"] in ("queued", "running"):
            time.sleep(0.05)
    proposal = _proposal(hub)
    hub.close()
    values = {
        "token": str(token["id"]),
        "subscription": str(subscription["id"]),
        "job": job["id"],
        "proposal": str(proposal),
    }
    return Demo(home, result.tokens, values, demo_home.home)


def _proposal(hub: Hub) -> int:
    """A schema change of sales_orders waiting for review (as a crawl would leave one; the
    demo's files have none to find), proposing the columns it has."""
    with hub.transaction() as session:
        table = get_table_row(session, parse_resource("sales.crm.orders"))
        columns = [column.to_dict() for column in current_columns(table)]
        row = SchemaProposal(
            table_id=table.id,
            status="pending",
            mode="hold",
            base_version=table.schema_version,
            columns=columns,
            changes={"added": [], "removed": [], "changed": [], "breaking": True},
            breaking=True,
            products=["sales_orders"],
            proposed_by="user:sam@sales",
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        return row.id


def _client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=60)


@pytest.fixture(params=list(PROFILES), ids=list(PROFILES.values()))
def role_hub(
    request: pytest.FixtureRequest, demo: Demo, tmp_path: Path
) -> Iterator[tuple[str, httpx.Client, dict[str, str]]]:
    """A copy of the demo served for one role, and that role's client."""
    role: str = request.param
    home = tmp_path / "home"
    shutil.copytree(demo.home, home)
    hub = Hub.open(home)
    profile = PROFILES[role]
    with serve_in_background(hub) as url:
        token = demo.tokens[profile] if profile is not None else None
        with _client(url, token) as client:
            yield role, client, {**demo.values, "home": str(demo.data), "name": "sales"}
    hub.close()


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
        return template
    if isinstance(template, dict):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    return template


def test_the_matrix_covers_every_operation(anonymous: httpx.Client) -> None:
    document = ok(anonymous.get("/openapi.json"))
    operations = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in document["paths"].items()
        for method in item
    }
    covered: set[tuple[str, str]] = set()
    for method, path, _, _ in MATRIX:
        route = path.split("?")[0]
        matches = {(m, p) for m, p in operations if m == method and _route_matches(p, route)}
        assert matches, (method, path)
        covered |= matches
    assert operations - covered == set()


def _route_matches(template: str, path: str) -> bool:
    parts, concrete = template.split("/"), path.split("/")
    return len(parts) == len(concrete) and all(
        p == c or (p.startswith("{") and p.endswith("}"))
        for p, c in zip(parts, concrete, strict=True)
    )


@pytest.mark.slow
def test_each_role_passes_exactly_where_the_matrix_says(
    role_hub: tuple[str, httpx.Client, dict[str, str]],
) -> None:
    role, client, values = role_hub
    wrong: list[str] = []
    for method, path, body, allowed in MATRIX:
        response = client.request(
            method, _fill(path, values), json=_fill(body, values) if body is not None else None
        )
        passed = response.status_code not in REFUSED
        if passed != (role in allowed):
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if not passed and response.status_code >= 400:
            assert set(response.json()) == {"error"}, (method, path)
    assert not wrong, f"role {PROFILES[role]}:\n" + "\n".join(wrong)
