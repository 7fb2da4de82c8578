"""Resource links: made by the consumer's admins, followed with DESCRIBE, broken by a revoke."""

from __future__ import annotations

import pytest

from lakemesh.catalog.databases import create_database
from lakemesh.catalog.tables import drop_table
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
)
from lakemesh.governance import grants
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.sharing import links, shares
from lakemesh.sharing.link_access import follow_link, resolve_link
from lakemesh.store.schema import Grant
from tests.factories.sharing import CUSTOMERS, MARIA, MIA, ORDERS, SAM, SharingMesh

LINKED_CUSTOMERS = "marketing.shared_sales.customers"
LINKED_ORDERS = "marketing.shared_sales.orders"


def _share(mesh: SharingMesh, target: str, **scope: object) -> Grant:
    """A share of ``target`` to marketing, accepted by maria."""
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=target, **scope)
    with mesh.transaction() as session:
        shares.accept_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    return share


def _link(mesh: SharingMesh, name: str, target: str, ref: str = MARIA) -> dict[str, object]:
    with mesh.transaction() as session:
        return links.create_link(session, actor=mesh.actor(ref), name=name, target=target).to_dict()


def _follow(mesh: SharingMesh, ref: str, name: str) -> ResourceName:
    with mesh.read() as session:
        return follow_link(session, actor=mesh.actor(ref), name=parse_resource(name))


def _listed(mesh: SharingMesh, ref: str = MARIA) -> dict[object, dict[str, object]]:
    with mesh.read() as session:
        return {
            view.name: view.to_dict()
            for view in links.list_links(session, actor=mesh.actor(ref), domain="marketing")
        }


def test_table_link_is_followed_with_describe_on_it(mesh: SharingMesh) -> None:
    share = _share(mesh, CUSTOMERS, exclude_columns=("email", "phone"))
    made = _link(mesh, LINKED_CUSTOMERS, CUSTOMERS)
    assert (made["kind"], made["target"], made["status"], made["share"]) == (
        "table",
        CUSTOMERS,
        "ok",
        share.id,
    )
    assert _follow(mesh, MARIA, LINKED_CUSTOMERS) == parse_resource(CUSTOMERS)
    with pytest.raises(
        AccessDeniedError, match=f"user:mia@marketing lacks DESCRIBE on {LINKED_CUSTOMERS}"
    ):
        _follow(mesh, MIA, LINKED_CUSTOMERS)
    mesh.grant(MARIA, MIA, "DESCRIBE", on="marketing.shared_sales")
    assert _follow(mesh, MIA, LINKED_CUSTOMERS) == parse_resource(CUSTOMERS)
    assert list(_listed(mesh, MIA)) == [LINKED_CUSTOMERS]
    [event] = mesh.events("link.create")
    assert (event.actor, event.resource, event.details["target"]) == (
        MARIA,
        LINKED_CUSTOMERS,
        CUSTOMERS,
    )


def test_database_link_maps_every_table_inside(mesh: SharingMesh) -> None:
    share = _share(mesh, "sales.crm")
    made = _link(mesh, "marketing.sales_crm", "sales.crm")
    assert (made["kind"], made["share"], made["status"]) == ("database", share.id, "ok")
    assert _follow(mesh, MARIA, "marketing.sales_crm.orders") == parse_resource(ORDERS)
    with mesh.read() as session:
        assert resolve_link(session, parse_resource("marketing.sales_crm.customers")) == (
            parse_resource(CUSTOMERS)
        )
        assert resolve_link(session, parse_resource("marketing.other.customers")) is None


def test_revoked_share_breaks_its_link_and_spares_the_others(mesh: SharingMesh) -> None:
    customers_share = _share(mesh, CUSTOMERS)
    _share(mesh, ORDERS)
    _link(mesh, LINKED_CUSTOMERS, CUSTOMERS)
    _link(mesh, LINKED_ORDERS, ORDERS)
    with mesh.transaction() as session:
        grants.revoke_grant(session, actor=mesh.actor(SAM), grant_id=customers_share.id)
    listed = _listed(mesh)
    broken = listed[LINKED_CUSTOMERS]
    message = (
        f"Link {LINKED_CUSTOMERS} is broken: its target {CUSTOMERS} is no longer shared with "
        f"marketing (share #{customers_share.id} of {CUSTOMERS} was revoked)"
    )
    assert (broken["status"], broken["message"]) == ("broken", message)
    assert listed[LINKED_ORDERS]["status"] == "ok"
    with pytest.raises(AccessDeniedError, match=rf"share #{customers_share.id} of .* was revoked"):
        _follow(mesh, MARIA, LINKED_CUSTOMERS)
    assert _follow(mesh, MARIA, LINKED_ORDERS) == parse_resource(ORDERS)
    again = _share(mesh, CUSTOMERS)
    assert _listed(mesh)[LINKED_CUSTOMERS]["status"] == "ok"
    assert again.id != customers_share.id


def test_link_to_a_dropped_table_is_broken(mesh: SharingMesh) -> None:
    _share(mesh, ORDERS)
    _link(mesh, LINKED_ORDERS, ORDERS)
    with mesh.transaction() as session:
        drop_table(session, actor=mesh.actor(SAM), name=parse_resource(ORDERS))
    assert _listed(mesh)[LINKED_ORDERS]["message"] == (
        f"Link {LINKED_ORDERS} is broken: its target {ORDERS} does not exist any more"
    )


def test_creating_the_same_link_again_changes_nothing(mesh: SharingMesh) -> None:
    _share(mesh, CUSTOMERS)
    first = _link(mesh, LINKED_CUSTOMERS, CUSTOMERS)
    assert _link(mesh, LINKED_CUSTOMERS, CUSTOMERS) == first
    assert len(mesh.events("link.create")) == 1
    with pytest.raises(
        AlreadyExistsError, match=f"Link already exists: {LINKED_CUSTOMERS} -> {CUSTOMERS}"
    ):
        _link(mesh, LINKED_CUSTOMERS, ORDERS)


def test_drop_link_keeps_the_target(mesh: SharingMesh) -> None:
    _share(mesh, "sales.crm")
    _link(mesh, "marketing.sales_crm", "sales.crm")
    with mesh.transaction() as session:
        links.drop_link(session, actor=mesh.actor(MARIA), name="marketing.sales_crm")
    assert _listed(mesh) == {}
    with mesh.read() as session:
        assert resolve_link(session, parse_resource("marketing.sales_crm.orders")) is None
    assert [e.resource for e in mesh.events("link.drop")] == ["marketing.sales_crm"]


@pytest.mark.parametrize(
    ("name", "target", "error", "message"),
    [
        (
            LINKED_CUSTOMERS,
            "sales.crm",
            InvalidInputError,
            "A table link points to a table, got database sales.crm",
        ),
        (
            "marketing",
            "sales",
            InvalidInputError,
            "A link is named DOMAIN.DATABASE.TABLE or DOMAIN.DATABASE, got marketing",
        ),
        (
            "sales.mirror.customers",
            CUSTOMERS,
            InvalidInputError,
            "A link points to another domain's table: sales.mirror.customers and "
            "sales.crm.customers are both in sales",
        ),
        (
            LINKED_CUSTOMERS,
            "sales.crm.nothing",
            AccessDeniedError,  # as for a target the admin may not see
            "user:maria@marketing lacks DESCRIBE on sales.crm.nothing",
        ),
        (
            "finance.shared.customers",
            CUSTOMERS,
            AccessDeniedError,
            "user:maria@marketing is not an admin of domain finance",
        ),
    ],
)
def test_bad_links_are_refused_by_name(
    mesh: SharingMesh, name: str, target: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _link(mesh, name, target)


def test_a_link_needs_describe_on_its_target(mesh: SharingMesh) -> None:
    with pytest.raises(
        AccessDeniedError, match="user:maria@marketing lacks DESCRIBE on sales.crm.customers"
    ):
        _link(mesh, LINKED_CUSTOMERS, CUSTOMERS)


def test_a_link_cannot_take_the_name_of_a_database_or_go_inside_a_link(
    mesh: SharingMesh,
) -> None:
    _share(mesh, "sales.crm")
    _link(mesh, "marketing.sales_crm", "sales.crm")
    with pytest.raises(ConflictError, match="Database marketing.sales_crm is a link itself"):
        _link(mesh, "marketing.sales_crm.orders", ORDERS)
    with mesh.transaction() as session:
        create_database(session, actor=mesh.actor(MARIA), domain="marketing", name="reports")
    with pytest.raises(AlreadyExistsError, match="Database already exists: marketing.reports"):
        _link(mesh, "marketing.reports", "sales.crm")
