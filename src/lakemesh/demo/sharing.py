"""Sharing in the NimbusCart demo: data products, subscriptions and a resource link.

Applied after the governance part (tags, guardrails) through the services, each step by the
persona who would take it:

- every producer publishes its products (``sales_orders`` with an ODCS v3 contract and an
  auto-approval rule for public and internal columns);
- analytics' admin asks for ``sales_customers`` without the PII columns, sales' admin approves,
  and analytics links it as ``analytics.shared_sales.customers``;
- data science's admin asks for ``sales_orders`` (approved at once by its rule) and links it, and
  asks for ``marketing_campaigns`` without PII: that request stays pending for marketing's admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lakemesh.hub import Hub
from lakemesh.identity.actors import first_admin
from lakemesh.model.actors import Actor
from lakemesh.sharing import links, products, subscriptions
from lakemesh.sharing.products import ProductSpec

ORDERS_CONTRACT = """\
apiVersion: v3.0.2
kind: DataContract
id: urn:nimbuscart:sales:orders
name: NimbusCart orders
version: 1.1.0
status: active
domain: sales
dataProduct: sales_orders
description:
  purpose: Every order of the shops, the web and the app, one row per order line.
schema:
  - name: orders
    physicalType: table
    properties:
      - {name: order_id, logicalType: integer, primaryKey: true, required: true}
      - {name: customer_id, logicalType: integer, required: true}
      - {name: store_id, logicalType: integer}
      - {name: amount, logicalType: number, required: true}
      - {name: currency, logicalType: string}
      - {name: status, logicalType: string}
"""


@dataclass(frozen=True)
class Product:
    """A demo product: its domain, tables and the fields of its publication."""

    name: str
    domain: str
    tables: tuple[str, ...]
    title: str
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    contract: str | None = None
    auto_approve: str | None = None


PRODUCTS = (
    Product(
        "sales_customers",
        "sales",
        ("crm.customers", "crm.stores"),
        "Customers and stores",
        "Every customer (email and phone are PII) and every store, by region.",
        {"owner": "sales", "sensitivity": "internal"},
    ),
    Product(
        "sales_orders",
        "sales",
        ("crm.orders",),
        "Orders",
        "Every order of 2025, partitioned by day.",
        {"owner": "sales", "sensitivity": "internal"},
        contract=ORDERS_CONTRACT,
        auto_approve="sensitivity=public|internal",
    ),
    Product(
        "marketing_campaigns",
        "marketing",
        ("campaigns.campaigns", "campaigns.leads"),
        "Campaigns and leads",
        "Campaigns with their budgets, and the leads they brought in (email and phone are PII).",
        {"owner": "marketing", "sensitivity": "internal"},
    ),
    Product(
        "supply_chain_logistics",
        "supply_chain",
        ("logistics.products", "logistics.inventory", "logistics.shipments"),
        "Products, inventory and shipments",
        "The catalogue, daily store inventory and every shipment.",
        {"owner": "supply_chain", "sensitivity": "internal"},
    ),
    Product(
        "finance_ledger",
        "finance",
        ("ledger.invoices",),
        "Invoices",
        "One invoice per order, with tax and payment status.",
        {"owner": "finance", "sensitivity": "internal"},
    ),
)
PII = ("email", "phone")


def _admin_of(hub: Hub, domain: str) -> Actor:
    """The first admin of ``domain``, as the actor the demo acts as."""
    with hub.read() as session:
        admin = first_admin(session, domain)
    assert admin is not None, f"the demo domain {domain} has an admin"
    return admin


def _publish(hub: Hub, product: Product) -> None:
    with hub.transaction() as session:
        products.publish_product(
            session,
            actor=_admin_of(hub, product.domain),
            spec=ProductSpec(
                name=product.name,
                domain=product.domain,
                tables=product.tables,
                title=product.title,
                description=product.description,
                tags=product.tags,
                contract=product.contract,
                auto_approve=product.auto_approve,
            ),
        )


def _request(
    hub: Hub, consumer: str, product: str, reason: str, exclude: Sequence[str] = ()
) -> int:
    """A request by ``consumer``'s admin for itself; returns the subscription's id."""
    admin = _admin_of(hub, consumer)
    with hub.transaction() as session:
        row = subscriptions.request_subscription(
            session,
            actor=admin,
            product=product,
            principal=admin.ref,
            reason=reason,
            exclude_columns=exclude,
        )
        return row.id


def _link(hub: Hub, name: str, target: str) -> None:
    with hub.transaction() as session:
        links.create_link(
            session, actor=_admin_of(hub, name.split(".", 1)[0]), name=name, target=target
        )


def apply_sharing(hub: Hub, steward: Actor) -> None:
    """Publish the NimbusCart products, and show one approved and one pending subscription.

    ``steward`` is accepted for symmetry with the other demo parts: every step here is taken by
    the domain admin whose job it is.
    """
    del steward  # the domains act for themselves
    for product in PRODUCTS:
        _publish(hub, product)
    approved = _request(
        hub, "analytics", "sales_customers", "Company-wide revenue reporting by region", PII
    )
    with hub.transaction() as session:
        subscriptions.approve_subscription(
            session,
            actor=_admin_of(hub, "sales"),
            subscription_id=approved,
            comment="Approved without PII for reporting.",
        )
    _link(hub, "analytics.shared_sales.customers", "sales.crm.customers")
    _request(hub, "data_science", "sales_orders", "Demand forecasting")  # auto-approved
    _link(hub, "data_science.shared_sales.orders", "sales.crm.orders")
    _request(hub, "data_science", "marketing_campaigns", "Lead scoring model", PII)
