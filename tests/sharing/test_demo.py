"""The sharing part of the NimbusCart demo: products, one approved and one pending subscription."""

from __future__ import annotations

import pytest

from lakemesh.authz import decisions
from lakemesh.hub import Hub
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.sharing import link_access, links, products, subscriptions


@pytest.fixture
def demo(demo_mesh: tuple[Hub, Actor]) -> tuple[Hub, Actor]:
    """The shared demo mesh (tests/conftest.py)."""
    return demo_mesh


def test_every_producer_publishes_its_products(demo: tuple[Hub, Actor]) -> None:
    hub, steward = demo
    with hub.read() as session:
        found = {
            row.name: (row.domain.name, row.status, row.version)
            for row in products.list_products(session, actor=steward)
        }
    assert found == {
        "finance_ledger": ("finance", "published", "1.0.0"),
        "marketing_campaigns": ("marketing", "published", "1.0.0"),
        "sales_customers": ("sales", "published", "1.0.0"),
        "sales_orders": ("sales", "published", "1.1.0"),
        "supply_chain_logistics": ("supply_chain", "published", "1.0.0"),
    }


def test_one_approved_and_one_pending_subscription(demo: tuple[Hub, Actor]) -> None:
    hub, steward = demo
    with hub.read() as session:
        found = [
            (row.product.name, row.principal, row.status, row.decided_by)
            for row in subscriptions.list_subscriptions(session, actor=steward)
        ]
    assert found == [
        ("marketing_campaigns", "user:dana@data_science", "pending", None),
        ("sales_orders", "user:dana@data_science", "approved", "user:sam@sales"),
        ("sales_customers", "user:ana@analytics", "approved", "user:sam@sales"),
    ]


def test_links_reach_what_was_approved(demo: tuple[Hub, Actor]) -> None:
    hub, steward = demo
    with hub.read() as session:
        listed = {view.name: view.status for view in links.list_links(session, actor=steward)}
        ana = load_actor(session, get_principal(session, "user:ana@analytics"))
        target = link_access.follow_link(
            session, actor=ana, name=parse_resource("analytics.shared_sales.customers")
        )
        decision = decisions.decide(
            session, actor=ana, permission=Permission.SELECT, resource=target
        )
    assert listed == {
        "analytics.shared_sales.customers": "ok",
        "data_science.shared_sales.orders": "ok",
    }
    assert target == parse_resource("sales.crm.customers")
    assert decision.allowed
    assert not {"email", "phone"} & set(decision.columns)
