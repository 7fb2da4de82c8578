"""Sharing over real HTTP: onboarding, products, subscriptions, shares and links, with the JSON
shapes scripts rely on and every error in the one error shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ApiServer, error_of, ok
from tests.factories.lake import Lake
from tests.factories.sharing import write_sales_lake


@dataclass
class Pair:
    """A producer and a consumer domain onboarded through the API, with their people's clients."""

    producer: str
    consumer: str
    producer_admin: httpx.Client
    consumer_admin: httpx.Client
    analyst: httpx.Client
    analyst_ref: str


def _token(admin: httpx.Client, principal: str) -> str:
    token: str = ok(admin.post("/tokens", json={"principal": principal}), 201)["token"]
    return token


@pytest.fixture
def pair(
    api_server: ApiServer, admin: httpx.Client, unique: Callable[[str], str], tmp_path: Path
) -> Iterator[Pair]:
    producer, consumer = unique("sales"), unique("marketing")
    lake = Lake(tmp_path / "lake")
    write_sales_lake(lake)
    onboarded = ok(
        admin.post(
            "/onboarding/producers",
            json={
                "name": producer,
                "location": lake.uri_of("sales"),
                "admin": f"user:sam@{producer}",
            },
        )
    )
    assert [t["name"] for t in onboarded["databases"]["crm"]] == [
        f"{producer}.crm.customers",
        f"{producer}.crm.orders",
    ]
    ok(
        admin.post(
            "/onboarding/consumers", json={"name": consumer, "admin": f"user:maria@{consumer}"}
        )
    )
    analyst = f"user:mia@{consumer}"
    ok(admin.post("/principals", json={"name": analyst}), 201)
    with (
        api_server.client(_token(admin, f"user:sam@{producer}")) as sam,
        api_server.client(_token(admin, f"user:maria@{consumer}")) as maria,
        api_server.client(_token(admin, analyst)) as mia,
    ):
        yield Pair(producer, consumer, sam, maria, mia, analyst)


def _publish(pair: Pair, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"{pair.producer}_customers",
        "domain": pair.producer,
        "tables": ["crm.customers", "crm.orders"],
        "title": "Customers and their orders",
        **fields,
    }
    product: dict[str, Any] = ok(pair.producer_admin.post("/products", json=body))
    return product


def test_subscription_flow_over_http(pair: Pair) -> None:
    product = _publish(pair)
    name = product["name"]
    found = ok(pair.analyst.get("/products/search", params={"text": "customers"}))
    assert {"name", "domain", "tables"} <= set(found[0])
    assert [p["name"] for p in found if p["domain"] == pair.producer] == [name]
    requested = ok(
        pair.analyst.post(
            "/subscriptions",
            json={
                "product": name,
                "principal": pair.analyst_ref,
                "reason": "campaigns",
                "exclude_columns": ["email"],
            },
        ),
        201,
    )
    assert requested["status"] == "pending"
    incoming = ok(pair.producer_admin.get("/subscriptions", params={"status": "pending"}))
    assert [s["id"] for s in incoming] == [requested["id"]]
    approved = ok(
        pair.producer_admin.post(
            f"/subscriptions/{requested['id']}/approve",
            json={"comment": "go ahead", "exclude_columns": ["phone"]},
        )
    )
    assert (approved["status"], approved["comment"]) == ("approved", "go ahead")
    assert approved["scope"]["exclude_columns"] == ["email", "phone"]
    shares = ok(pair.consumer_admin.get("/shares", params={"direction": "incoming"}))
    assert all({"id", "resource", "from_domain", "to_domain", "status"} <= set(s) for s in shares)
    assert {(s["from_domain"], s["to_domain"], s["status"]) for s in shares} == {
        (pair.producer, pair.consumer, "accepted")
    }
    link_name = f"{pair.consumer}.shared.customers"
    target = f"{pair.producer}.crm.customers"
    link = ok(pair.consumer_admin.post("/links", json={"name": link_name, "target": target}), 201)
    assert (link["status"], link["kind"]) == ("ok", "table")
    ok(pair.producer_admin.post(f"/subscriptions/{requested['id']}/revoke", json={}))
    [broken] = ok(pair.consumer_admin.get("/links", params={"domain": pair.consumer}))
    assert broken["status"] == "broken"
    assert f"its target {target} is no longer shared with {pair.consumer}" in broken["message"]
    history = ok(pair.consumer_admin.get("/subscriptions", params={"consumer": pair.consumer}))
    assert [e["action"] for e in history[0]["history"]] == [
        "requested",
        "narrowed",
        "approved",
        "revoked",
    ]


def test_shares_are_accepted_through_http(pair: Pair, admin: httpx.Client) -> None:
    granted = ok(
        pair.producer_admin.post(
            "/grants",
            json={
                "permissions": ["SELECT"],
                "on": f"{pair.producer}.crm.orders",
                "grantee": f"domain:{pair.consumer}",
            },
        ),
        201,
    )
    share_id = granted["id"]
    [pending] = ok(pair.consumer_admin.get("/shares", params={"status": "pending"}))
    assert pending["id"] == share_id
    accepted = ok(pair.consumer_admin.post(f"/shares/{share_id}/accept"))
    assert (accepted["status"], accepted["decided_by"]) == (
        "accepted",
        f"user:maria@{pair.consumer}",
    )
    assert ok(pair.consumer_admin.get(f"/shares/{share_id}"))["status"] == "accepted"
    error = error_of(pair.producer_admin.post(f"/shares/{share_id}/decline"), 403)
    assert error["message"] == f"user:sam@{pair.producer} is not an admin of domain {pair.consumer}"


def test_product_is_shown_with_columns_and_deprecated_with_a_warning(pair: Pair) -> None:
    name = _publish(pair)["name"]
    shown = ok(pair.analyst.get(f"/products/{name}"))
    assert [c["name"] for c in shown["schema"][0]["columns"]] == [
        "customer_id",
        "name",
        "email",
        "phone",
        "region",
    ]
    deprecated = ok(
        pair.producer_admin.post(f"/products/{name}/deprecate", json={"message": "use v2"})
    )
    assert deprecated["warning"] == f"Data product {name} is deprecated: use v2"
    assert ok(pair.analyst.get("/products", params={"status": "deprecated"}))[0]["name"] == name


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "message"),
    [
        ("analyst", "get", "/subscriptions/999999", None, 404,
         "Subscription does not exist: 999999"),
        ("consumer_admin", "post", "/shares/999999/accept", None, 404,
         "Share does not exist: 999999"),
        ("producer_admin", "post", "/products", {"name": "p", "domain": "{producer}",
         "tables": ["crm.orders"], "contract": "kind: DataContract"}, 400,
         "Invalid ODCS v3 contract: apiVersion is required; id is required; version is "
         "required; status is required"),
        ("consumer_admin", "post", "/links", {"name": "{consumer}.x.orders",
         "target": "{producer}.crm"}, 400, "A table link points to a table, got database"),
        ("analyst", "post", "/products", {"name": "p", "domain": "{producer}",
         "tables": ["crm.orders"]}, 403,
         "user:mia@{consumer} is not an admin of domain {producer}"),
        ("analyst", "get", "/products/nothing_here", None, 404,
         "Data product does not exist: nothing_here"),
    ],
)  # fmt: skip
def test_errors_name_what_is_wrong(
    pair: Pair,
    who: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    message: str,
) -> None:
    names = {"producer": pair.producer, "consumer": pair.consumer}
    if body is not None:
        body = {k: v.format(**names) if isinstance(v, str) else v for k, v in body.items()}
    client: httpx.Client = getattr(pair, who)
    error = error_of(client.request(method, path, json=body), status)
    assert error["message"].startswith(message.format(**names))


def test_onboarding_refuses_a_conflicting_admin(pair: Pair, admin: httpx.Client) -> None:
    error = error_of(
        admin.post(
            "/onboarding/consumers",
            json={"name": pair.consumer, "admin": f"user:x@{pair.consumer}"},
        ),
        409,
    )
    assert error["message"].startswith(
        f"Domain {pair.consumer} exists and user:x@{pair.consumer} is not its admin"
    )
