"""The acceptance scenario of sharing across domains, end to end through the SDK.

sales publishes ``customers`` (email and phone tagged ``sensitivity=pii``) and ``orders``; a
marketing analyst finds them by searching "customers" and requests access without the PII columns;
sales approves; marketing's admin creates links; the analyst reads every column but email and
phone through the link with a real query; sales revokes; the analyst's next query is denied and
the link shows as broken. The audit trail shows each step with its actor.

Runs on a real hub home with real Parquet files, embedded and over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lakemesh.api.schemas.sharing import ProductPublic
from lakemesh.api.server import serve_in_background
from lakemesh.bootstrap import init_home
from lakemesh.errors import AccessDeniedError
from lakemesh.sdk import Client
from tests.factories.lake import Lake
from tests.factories.sharing import write_sales_lake

STEWARD, SAM, MARIA, MIA = (
    "user:admin@governance",
    "user:sam@sales",
    "user:maria@marketing",
    "user:mia@marketing",
)
LINK = "marketing.shared_sales.customers"
ORDERS_LINK = "marketing.shared_sales.orders"
Connect = Callable[[str | None], Client]


@pytest.fixture(params=["embedded", "remote"])
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connect]:
    """Clients of one new hub home, in-process or through a real uvicorn server."""
    home = tmp_path / "home"
    initialised = init_home(home)
    admin_token = initialised.token.token
    if request.param == "embedded":
        initialised.hub.close()
        yield lambda token: Client.open(home, token=token or admin_token)
        return
    try:
        with serve_in_background(initialised.hub) as url:
            yield lambda token: Client.connect(url, token=token or admin_token)
    finally:
        initialised.hub.close()


def _set_up_mesh(steward: Client, lake: Lake) -> dict[str, str]:
    """Mesh admin: tags, the two domains onboarded, the analyst, everyone's token."""
    steward.create_tag("sensitivity", values=["public", "internal", "pii"])
    steward.onboard_producer(
        "sales", location=lake.uri_of("sales"), admin=SAM, tags={"sensitivity": "public"}
    )
    for column in ("email", "phone"):
        steward.assign_tags(f"sales.crm.customers.{column}", {"sensitivity": "pii"})
    steward.onboard_consumer("marketing", admin=MARIA)
    steward.create_principal(MIA)
    return {ref: steward.create_token(ref).token for ref in (SAM, MARIA, MIA)}


def test_sharing_acceptance_scenario(connect: Connect, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    write_sales_lake(lake)
    with connect(None) as steward:
        tokens = _set_up_mesh(steward, lake)
    with (
        connect(tokens[SAM]) as sales,
        connect(tokens[MARIA]) as marketing,
        connect(tokens[MIA]) as analyst,
    ):
        # sales publishes customers and orders.
        sales.publish_product(
            "sales_customers",
            domain="sales",
            tables=["crm.customers", "crm.orders"],
            title="Customers and orders",
            description="Who buys what, by region.",
        )
        # The analyst finds them by searching "customers" and asks for everything but PII.
        [found] = analyst.search_products("customers")
        assert isinstance(found, ProductPublic)
        assert (found.name, found.tables) == (
            "sales_customers",
            ["sales.crm.customers", "sales.crm.orders"],
        )
        requested = analyst.request_subscription(
            "sales_customers",
            principal=MIA,
            reason="campaign targeting by region",
            exclude_columns=["email", "phone"],
        )
        assert requested.status == "pending"
        # sales sees the request and approves it.
        [incoming] = sales.list_subscriptions(status="pending")
        assert (incoming.id, incoming.principal) == (requested.id, MIA)
        approved = sales.approve_subscription(requested.id, comment="no PII, fine")
        assert approved.status == "approved"
        # marketing's admin links the shared tables and lets the analyst see the links.
        for name, target in ((LINK, "sales.crm.customers"), (ORDERS_LINK, "sales.crm.orders")):
            assert marketing.create_link(name, target=target).status == "ok"
        marketing.grant("DESCRIBE", on="marketing.shared_sales", grantee=MIA)
        # The analyst reads every column but email and phone through the link.
        table = analyst.query(f"SELECT * FROM {LINK} ORDER BY customer_id")
        assert table.column_names == ["customer_id", "name", "region"]
        assert table.to_pylist()[0] == {"customer_id": 1, "name": "Ada", "region": "EU"}
        joined = analyst.query(
            "SELECT c.region, sum(o.amount) AS total FROM shared_sales.customers c "
            "JOIN shared_sales.orders o USING (customer_id) GROUP BY c.region"
        )
        assert joined.to_pylist() == [{"region": "EU", "total": 32.75}]
        with pytest.raises(AccessDeniedError, match="email"):
            analyst.query(f"SELECT email FROM {LINK}")
        # sales revokes; the analyst's next query is denied and the link is broken.
        sales.revoke_subscription(requested.id, reason="campaign over")
        with pytest.raises(AccessDeniedError) as denied:
            analyst.query(f"SELECT * FROM {LINK}")
        [share] = [
            g.grant_id
            for g in approved.grants
            if g.role == "share" and g.table == "sales.crm.customers"
        ]
        message = (
            f"Link {LINK} is broken: its target sales.crm.customers is no longer shared with "
            f"marketing (share #{share} of sales.crm.customers (excluding columns email, phone) "
            "was revoked)"
        )
        assert denied.value.message == message
        links = {link.name: link for link in marketing.list_links(domain="marketing")}
        assert (links[LINK].status, links[LINK].message) == ("broken", message)
    # The audit trail shows each step with its actor.
    with connect(None) as steward:
        events = list(reversed(steward.audit_events(limit=500)))
    steps = [
        (event.actor, event.action, event.outcome)
        for event in events
        if event.action
        in ("product.publish", "subscription.request", "subscription.approve", "link.create",
            "query", "subscription.revoke")
    ]  # fmt: skip
    assert steps == [
        (SAM, "product.publish", "success"),
        (MIA, "subscription.request", "success"),
        (SAM, "subscription.approve", "success"),
        (MARIA, "link.create", "success"),
        (MARIA, "link.create", "success"),
        (MIA, "query", "success"),
        (MIA, "query", "success"),
        (MIA, "query", "denied"),
        (SAM, "subscription.revoke", "success"),
        (MIA, "query", "denied"),
    ]
    revokes = [e for e in events if e.action == "grant.revoke"]
    assert {e.actor for e in revokes} == {SAM}
    assert len(revokes) == 4  # two shares and the analyst's two delegations
