"""The CLI through sharing: onboard, product publish/search, subscription request/approve/revoke,
share list/accept, link create/list, with the JSON shapes scripts rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.factories.lake import Lake
from tests.factories.sharing import write_sales_lake

CONTRACT = """
apiVersion: v3.0.2
kind: DataContract
id: urn:sales:orders
version: 3.0.0
status: active
schema:
  - name: orders
    properties:
      - {name: order_id, logicalType: integer}
"""


@pytest.fixture
def mesh(admin_cli: Cli, lake: Lake) -> dict[str, str]:
    """sales and marketing onboarded; tokens of sam, maria and the analyst mia."""
    cli = admin_cli
    write_sales_lake(lake)
    cli.run(
        "onboard", "producer", "sales", "--location", str(lake.root / "sales"),
        "--admin", "user:sam@sales",
    )  # fmt: skip
    cli.run("onboard", "consumer", "marketing", "--admin", "user:maria@marketing")
    cli.run("principal", "create", "user:mia@marketing")
    return {
        ref: cli.json("token", "create", f"user:{ref}")["token"]
        for ref in ("sam@sales", "maria@marketing", "mia@marketing")
    }


def _as(cli: Cli, token: str, *args: str) -> Any:
    return cli.json("--token", token, *args)


def test_onboarding_reports_what_it_did_and_then_nothing(admin_cli: Cli, lake: Lake) -> None:
    write_sales_lake(lake)
    args = ("onboard", "producer", "sales", "--location", str(lake.root / "sales"),
            "--admin", "user:sam@sales")  # fmt: skip
    first = admin_cli.run(*args).stdout
    assert "Onboarded producer domain sales:" in first
    assert "crawled sales.crm: sales.crm.customers created, sales.crm.orders created" in first
    assert "nothing to change" in admin_cli.run(*args).stdout
    result = admin_cli.json(*args)
    assert (result["domain"], result["changes"]) == ("sales", [])
    error = admin_cli.error("onboard", "consumer", "sales", "--admin", "user:bob@sales", code=5)
    assert error["message"].startswith("Domain sales exists and user:bob@sales is not its admin")


def test_publish_search_subscribe_link_and_revoke(admin_cli: Cli, mesh: dict[str, str]) -> None:
    cli = admin_cli
    sam, maria, mia = mesh["sam@sales"], mesh["maria@marketing"], mesh["mia@marketing"]
    published = _as(
        cli, sam, "product", "publish", "sales_customers", "--domain", "sales",
        "--tables", "crm.customers,crm.orders", "--title", "Customers",
    )  # fmt: skip
    assert published["status"] == "published"
    found = _as(cli, mia, "product", "search", "customers")
    assert [(p["name"], p["domain"], p["tables"]) for p in found] == [
        ("sales_customers", "sales", ["sales.crm.customers", "sales.crm.orders"])
    ]
    requested = _as(
        cli, mia, "subscription", "request", "sales_customers", "--for", "user:mia@marketing",
        "--reason", "campaigns", "--exclude-columns", "email",
    )  # fmt: skip
    assert requested["status"] == "pending"
    subscription_id = str(requested["id"])
    pending = _as(cli, sam, "subscription", "list", "--status", "pending")
    assert [s["id"] for s in pending] == [requested["id"]]
    approved = _as(
        cli, sam, "subscription", "approve", subscription_id, "--comment", "ok",
        "--exclude-columns", "phone",
    )  # fmt: skip
    assert (approved["status"], approved["comment"]) == ("approved", "ok")
    assert approved["scope"]["exclude_columns"] == ["email", "phone"]
    shares = _as(cli, maria, "share", "list", "--incoming")
    assert {(s["resource"], s["from_domain"], s["to_domain"], s["status"]) for s in shares} == {
        ("sales.crm.customers (excluding columns email, phone)", "sales", "marketing", "accepted"),
        ("sales.crm.orders", "sales", "marketing", "accepted"),
    }
    link = _as(
        cli, maria, "link", "create", "marketing.shared_sales.customers",
        "--target", "sales.crm.customers",
    )  # fmt: skip
    assert link["status"] == "ok"
    revoked = _as(cli, sam, "subscription", "revoke", subscription_id, "--reason", "done")
    assert revoked["status"] == "revoked"
    listing = cli.run("--token", maria, "link", "list")
    assert "Warning: Link marketing.shared_sales.customers is broken" in listing.stderr
    assert "broken" in listing.stdout


def test_shares_are_answered_on_the_command_line(admin_cli: Cli, mesh: dict[str, str]) -> None:
    cli = admin_cli
    sam, maria = mesh["sam@sales"], mesh["maria@marketing"]
    cli.run(
        "--token", sam, "grant", "SELECT", "--on", "sales.crm.orders", "--to", "domain:marketing"
    )
    [share] = _as(cli, maria, "share", "list", "--status", "pending")
    assert share["status"] == "pending"
    human = cli.run("--token", maria, "share", "accept", str(share["id"])).stdout
    assert f"Accepted share #{share['id']} of sales.crm.orders from sales" in human
    error = cli.error("--token", sam, "share", "decline", str(share["id"]), code=4)
    assert error["message"] == "user:sam@sales is not an admin of domain marketing"


def test_contract_file_and_deprecation(
    admin_cli: Cli, mesh: dict[str, str], tmp_path: Path
) -> None:
    cli = admin_cli
    sam, mia = mesh["sam@sales"], mesh["mia@marketing"]
    contract = tmp_path / "orders.yaml"
    contract.write_text(CONTRACT)
    product = _as(
        cli, sam, "product", "publish", "sales_orders", "--domain", "sales",
        "--tables", "crm.orders", "--contract", str(contract),
    )  # fmt: skip
    assert (product["version"], product["contract"]["id"]) == ("3.0.0", "urn:sales:orders")
    contract.write_text(CONTRACT.replace("order_id", "refund_id"))
    error = cli.error(
        "--token", sam, "product", "publish", "sales_orders", "--domain", "sales",
        "--contract", str(contract), code=6,
    )  # fmt: skip
    assert error["message"] == "Invalid ODCS v3 contract: orders has no column refund_id"
    cli.run("--token", sam, "product", "deprecate", "sales_orders", "--message", "use v2")
    shown = cli.run("--token", mia, "product", "show", "sales_orders")
    assert "Warning: Data product sales_orders is deprecated: use v2" in shown.stderr
    refused = cli.error(
        "--token", mia, "subscription", "request", "sales_orders", "--for",
        "user:mia@marketing", "--reason", "x", code=5,
    )  # fmt: skip
    assert refused["message"] == (
        "Data product sales_orders is deprecated: use v2: it takes no new subscriptions"
    )
