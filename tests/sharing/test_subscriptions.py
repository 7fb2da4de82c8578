"""Subscriptions: request, approve (share and delegation in one transaction), reject, revoke,
auto-approval by tag expression, and the history on each side."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.api.schemas import SubscriptionPublic
from lakemesh.api.schemas.grants import DecisionPublic
from lakemesh.errors import AccessDeniedError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.governance import grants
from lakemesh.governance.filters import create_filter
from lakemesh.model.permissions import Permission
from lakemesh.query import service
from lakemesh.sharing import link_access, links, products, shares, subscriptions
from lakemesh.sharing.products import ProductSpec
from lakemesh.store.schema import Grant, Subscription
from tests.factories.sharing import (
    ANALYSTS,
    CUSTOMERS,
    FIONA,
    MARIA,
    MAX,
    MIA,
    ORDERS,
    SAM,
    SharingMesh,
)

PRODUCT = "sales_customers"
NO_PII = ("customer_id", "name", "region")


def _publish(mesh: SharingMesh, **fields: Any) -> None:
    spec = ProductSpec(
        **{"name": PRODUCT, "domain": "sales", "tables": ("crm.customers", "crm.orders"), **fields}
    )
    with mesh.transaction() as session:
        products.publish_product(session, actor=mesh.actor(SAM), spec=spec)


def _shown(session: Session, row: Subscription) -> dict[str, Any]:
    """The subscription as the API shows it."""
    record = subscriptions.subscription_record(session, row)
    return SubscriptionPublic.from_record(record).model_dump()


def _request(mesh: SharingMesh, ref: str = MIA, **fields: Any) -> dict[str, Any]:
    fields.setdefault("principal", ref)
    fields.setdefault("reason", "campaign targeting")
    with mesh.transaction() as session:
        row = subscriptions.request_subscription(
            session, actor=mesh.actor(ref), product=PRODUCT, **fields
        )
        return _shown(session, row)


def _decide(
    mesh: SharingMesh, verb: str, subscription_id: int, ref: str = SAM, **text: str
) -> dict[str, Any]:
    with mesh.transaction() as session:
        row = getattr(subscriptions, f"{verb}_subscription")(
            session, actor=mesh.actor(ref), subscription_id=subscription_id, **text
        )
        return _shown(session, row)


@pytest.fixture
def published(mesh: SharingMesh) -> SharingMesh:
    _publish(mesh)
    return mesh


def test_approval_issues_share_and_delegation_and_revoke_takes_them_back(
    published: SharingMesh,
) -> None:
    mesh = published
    requested = _request(mesh, exclude_columns=("email", "phone"))
    assert (requested["status"], requested["consumer_domain"], requested["grants"]) == (
        "pending",
        "marketing",
        [],
    )
    assert mesh.columns(MIA) == ()
    approved = _decide(mesh, "approve", requested["id"], comment="ok for Q3")
    assert (approved["status"], approved["comment"], approved["decided_by"]) == (
        "approved",
        "ok for Q3",
        SAM,
    )
    assert sorted((g["role"], g["table"]) for g in approved["grants"]) == [
        ("delegation", CUSTOMERS),
        ("delegation", ORDERS),
        ("share", CUSTOMERS),
        ("share", ORDERS),
    ]
    assert mesh.columns(MIA) == NO_PII
    assert mesh.columns(MIA, ORDERS) == ("order_id", "customer_id", "amount")
    assert mesh.columns(MAX) == ()
    with mesh.read() as session:
        listed = shares.list_shares(session, actor=mesh.actor(MARIA), direction="incoming")
        by_grant = {g["grant_id"]: g for g in approved["grants"]}
        for grant_id, grant in by_grant.items():
            row = session.get(Grant, grant_id)
            assert row is not None
            if grant["role"] == "delegation":
                assert by_grant[row.parent_id or 0]["role"] == "share"
    derived = {
        e.details["grant_id"]: e.details["derived_from"] for e in mesh.events("grant.create")
    }
    assert {derived[g["grant_id"]] for g in approved["grants"] if g["role"] == "delegation"} == {
        g["grant_id"] for g in approved["grants"] if g["role"] == "share"
    }
    assert {(s.resource, s.status, s.origin) for s in listed} == {
        (f"{CUSTOMERS} (excluding columns email, phone)", "accepted", "subscription"),
        (ORDERS, "accepted", "subscription"),
    }
    revoked = _decide(mesh, "revoke", requested["id"], reason="campaign over")
    assert (revoked["status"], revoked["active"], revoked["grants"]) == ("revoked", False, [])
    assert mesh.columns(MIA) == ()
    assert [e["action"] for e in revoked["history"]] == ["requested", "approved", "revoked"]
    assert [(e.actor, e.action) for e in mesh.events("subscription.revoke")] == [
        (SAM, "subscription.revoke")
    ]


def test_revoking_the_share_directly_ends_the_subscriptions_access(published: SharingMesh) -> None:
    mesh = published
    requested = _request(mesh, columns=("customer_id", "region"))
    approved = _decide(mesh, "approve", requested["id"])
    issued = {g["table"]: g["grant_id"] for g in approved["grants"] if g["role"] == "share"}
    assert mesh.columns(MIA, ORDERS) == ("customer_id",)
    with mesh.transaction() as session:
        grants.revoke_grant(session, actor=mesh.actor(SAM), grant_id=issued[CUSTOMERS])
    assert (mesh.columns(MIA), mesh.columns(MIA, ORDERS)) == ((), ("customer_id",))
    with mesh.transaction() as session:
        grants.revoke_grant(session, actor=mesh.actor(SAM), grant_id=issued[ORDERS])
    with mesh.read() as session:
        row = subscriptions.show_subscription(
            session, actor=mesh.actor(MIA), subscription_id=requested["id"]
        )
        assert subscriptions.subscription_record(session, row).active is False


def test_a_share_two_subscriptions_rely_on_stays_until_the_last_is_revoked(
    published: SharingMesh,
) -> None:
    mesh = published
    first = _request(mesh, MIA, columns=("customer_id",))
    second = _request(mesh, MAX, columns=("customer_id",))
    _decide(mesh, "approve", first["id"])
    approved = _decide(mesh, "approve", second["id"])
    assert {g["role"] for g in approved["grants"]} == {"shared", "delegation"}
    _decide(mesh, "revoke", first["id"])
    assert (mesh.columns(MIA), mesh.columns(MAX)) == ((), ("customer_id",))
    _decide(mesh, "revoke", second["id"])
    assert mesh.columns(MAX) == ()
    with mesh.read() as session:
        left = session.execute(select(Grant.id)).scalars().all()
    assert left == []


def test_rejection_needs_a_reason_and_grants_nothing(published: SharingMesh) -> None:
    mesh = published
    requested = _request(mesh)
    with pytest.raises(InvalidInputError, match="Rejecting a subscription needs a reason"):
        _decide(mesh, "reject", requested["id"], reason=" ")
    rejected = _decide(mesh, "reject", requested["id"], reason="PII needs a DPIA")
    assert (rejected["status"], rejected["comment"]) == ("rejected", "PII needs a DPIA")
    assert mesh.columns(MIA) == ()
    with pytest.raises(
        ConflictError,
        match=f"Subscription #{requested['id']} is rejected: only a pending subscription can be "
        "approved",
    ):
        _decide(mesh, "approve", requested["id"])


def test_auto_approval_rule_approves_requests_within_its_tags(mesh: SharingMesh) -> None:
    _publish(mesh, auto_approve="sensitivity=public")
    approved = _request(mesh, MIA, exclude_columns=("email", "phone"))
    assert (approved["status"], approved["decided_by"]) == ("approved", SAM)
    assert approved["comment"] == "auto-approved: every column satisfies sensitivity=public"
    assert mesh.columns(MIA) == NO_PII
    pending = _request(mesh, MAX)
    assert pending["status"] == "pending"
    [event] = mesh.events("subscription.approve")
    assert (event.actor, event.details["automatic"]) == (SAM, True)


def test_a_filter_scope_grants_through_the_filter(published: SharingMesh) -> None:
    mesh = published
    with mesh.transaction() as session:
        create_filter(
            session,
            actor=mesh.actor(SAM),
            name="eu_only",
            table=CUSTOMERS,
            rows="region = 'EU'",
            columns=["customer_id", "region"],
        )
    approved = _decide(mesh, "approve", _request(mesh, filter="eu_only")["id"])
    assert sorted(g["table"] for g in approved["grants"]) == [CUSTOMERS, CUSTOMERS]
    assert mesh.columns(MIA) == ("customer_id", "region")
    assert mesh.columns(MIA, ORDERS) == ()


def _approve_less(mesh: SharingMesh, subscription_id: int, *dropped: str) -> dict[str, Any]:
    with mesh.transaction() as session:
        row = subscriptions.approve_subscription(
            session,
            actor=mesh.actor(SAM),
            subscription_id=subscription_id,
            comment="no contact data",
            exclude_columns=dropped,
        )
        return _shown(session, row)


def test_an_approver_may_grant_less_than_was_asked(published: SharingMesh) -> None:
    mesh = published
    everything = _request(mesh)
    approved = _approve_less(mesh, everything["id"], "email", " phone ")
    assert approved["scope"] == {
        "columns": None,
        "exclude_columns": ["email", "phone"],
        "filter": None,
    }
    assert [e["action"] for e in approved["history"]] == ["requested", "narrowed", "approved"]
    narrowed = approved["history"][1]["details"]
    assert narrowed["asked"]["exclude_columns"] == []
    assert narrowed["scope"]["exclude_columns"] == ["email", "phone"]
    assert mesh.columns(MIA) == NO_PII
    (event,) = mesh.events("subscription.approve")
    assert event.details["scope"]["exclude_columns"] == ["email", "phone"]
    listed = _request(mesh, MAX, columns=("customer_id", "email"))
    assert _approve_less(mesh, listed["id"], "EMAIL")["scope"]["columns"] == ["customer_id"]
    assert mesh.columns(MAX) == ("customer_id",)


def test_narrowing_names_product_columns_leaves_something_and_keeps_filters(
    published: SharingMesh,
) -> None:
    mesh = published
    with mesh.transaction() as session:
        create_filter(
            session, actor=mesh.actor(SAM), name="eu_only", table=CUSTOMERS, rows="region = 'EU'"
        )
    only_email = _request(mesh, columns=("email",))["id"]
    with pytest.raises(InvalidInputError, match=r"leaves subscription #\d+ nothing"):
        _approve_less(mesh, only_email, "email")
    with pytest.raises(
        InvalidInputError, match="Column does not exist in data product sales_customers: nope"
    ):
        _approve_less(mesh, only_email, "nope")
    filtered = _request(mesh, MAX, filter="eu_only")["id"]
    with pytest.raises(InvalidInputError, match="asks for data filter eu_only, whose columns"):
        _approve_less(mesh, filtered, "email")
    with mesh.read() as session:
        statuses = {row.status for row in session.execute(select(Subscription)).scalars()}
    assert statuses == {"pending"}


def test_a_group_subscription_reaches_its_members(published: SharingMesh) -> None:
    mesh = published
    requested = _request(mesh, MIA, principal=ANALYSTS, columns=("customer_id",))
    _decide(mesh, "approve", requested["id"])
    assert mesh.columns(MIA) == ("customer_id",)


def test_history_per_product_and_per_consumer(published: SharingMesh) -> None:
    mesh = published
    first = _request(mesh, MIA)
    _decide(mesh, "reject", first["id"], reason="too wide")
    second = _request(mesh, MIA, columns=("customer_id",))
    _decide(mesh, "approve", second["id"])
    with mesh.transaction() as session:
        subscriptions.request_subscription(
            session,
            actor=mesh.actor(FIONA),
            product=PRODUCT,
            principal=FIONA,
            reason="invoicing",
        )
    with mesh.read() as session:
        by_product = subscriptions.list_subscriptions(
            session, actor=mesh.actor(SAM), product=PRODUCT
        )
        by_consumer = subscriptions.list_subscriptions(
            session, actor=mesh.actor(MARIA), consumer="marketing"
        )
        seen_by_mia = subscriptions.list_subscriptions(session, actor=mesh.actor(MIA))
        pending = subscriptions.list_subscriptions(session, actor=mesh.actor(SAM), status="pending")
    assert [(s.principal, s.status) for s in by_product] == [
        (FIONA, "pending"),
        (MIA, "approved"),
        (MIA, "rejected"),
    ]
    assert [s.id for s in by_consumer] == [second["id"], first["id"]]
    assert [s.id for s in seen_by_mia] == [second["id"], first["id"]]
    assert [s.principal for s in pending] == [FIONA]


@pytest.mark.parametrize(
    ("ref", "fields", "error", "message"),
    [
        (MIA, {"reason": " "}, InvalidInputError, "A subscription request needs a reason"),
        (
            MIA,
            {"principal": MAX},
            AccessDeniedError,
            "user:mia@marketing may request access for itself or its groups only, not for "
            "user:max@marketing",
        ),
        (
            SAM,
            {"principal": SAM},
            InvalidInputError,
            "user:sam@sales is in domain sales, which produces sales_customers",
        ),
        (
            MIA,
            {"columns": ("nickname",)},
            InvalidInputError,
            "Column does not exist in data product sales_customers: nickname",
        ),
        (
            MIA,
            {"columns": ("name",), "exclude_columns": ("email",)},
            InvalidInputError,
            "Give one of --columns, --exclude-columns and --filter, not --columns and "
            "--exclude-columns",
        ),
        (
            MIA,
            {"filter": "nope"},
            InvalidInputError,
            "No table of data product sales_customers has filter nope",
        ),
        (
            MIA,
            {"principal": "user:ghost@marketing"},
            NotFoundError,
            "Principal does not exist: user:ghost@marketing",
        ),
    ],
)
def test_bad_requests_are_refused_by_name(
    published: SharingMesh,
    ref: str,
    fields: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        _request(published, ref, **fields)


def test_one_open_subscription_per_principal_and_product(published: SharingMesh) -> None:
    first = _request(published)
    with pytest.raises(
        ConflictError,
        match=f"user:mia@marketing already has subscription #{first['id']} to sales_customers "
        r"\(pending\)",
    ):
        _request(published)


def test_only_the_producers_admins_decide(published: SharingMesh) -> None:
    requested = _request(published)
    with pytest.raises(
        AccessDeniedError, match="user:maria@marketing is not an admin of domain sales"
    ):
        _decide(published, "approve", requested["id"], ref=MARIA)
    with pytest.raises(NotFoundError, match="Subscription does not exist: 999"):
        _decide(published, "approve", 999)


def test_deprecated_and_draft_products_take_no_new_subscriptions(published: SharingMesh) -> None:
    mesh = published
    with mesh.transaction() as session:
        products.deprecate_product(session, actor=mesh.actor(SAM), name=PRODUCT, message="gone")
    with pytest.raises(
        ConflictError,
        match="Data product sales_customers is deprecated: gone: it takes no new subscriptions",
    ):
        _request(mesh)


def test_an_approved_subscriber_reads_through_her_domains_link(published: SharingMesh) -> None:
    mesh = published
    requested = _request(mesh, exclude_columns=("email", "phone"))
    _decide(mesh, "approve", requested["id"])
    link = "marketing.shared_sales.customers"
    with mesh.transaction() as session:
        links.create_link(session, actor=mesh.actor(MARIA), name=link, target=CUSTOMERS)
    # No DESCRIBE on the link: her access to the target is enough, in her own domain's catalog.
    outcome = service.run(
        mesh.env.hub, actor=mesh.actor(MIA), sql=f"SELECT customer_id, name FROM {link}"
    )
    assert outcome.result.table.num_rows > 0
    with mesh.read() as session:
        assert [view.name for view in links.list_links(session, actor=mesh.actor(MIA))] == [link]
        explained = DecisionPublic.of(link_access.explain_access(
            session, actor=mesh.actor(MIA), principal=MIA, permission=Permission.SELECT,
            resource=link,
        )).model_dump()  # fmt: skip
    assert explained["allowed"] is True
    assert explained["reasons"][:2] == [
        f"{link} is a resource link to {CUSTOMERS}",
        f"{MIA} may use the link: it is in {MIA}'s own domain's catalog and {MIA} may read "
        f"{CUSTOMERS} (no DESCRIBE on the link needed)",
    ]
    # Someone of marketing who may not read the target still may not use the link.
    with pytest.raises(AccessDeniedError, match=f"{MAX} lacks DESCRIBE on {link}"):
        service.run(mesh.env.hub, actor=mesh.actor(MAX), sql=f"SELECT name FROM {link}")
    with mesh.read() as session:
        refused = DecisionPublic.of(link_access.explain_access(
            session, actor=mesh.actor(MAX), principal=MAX, permission=Permission.SELECT,
            resource=link,
        )).model_dump()  # fmt: skip
    assert refused["allowed"] is False
    assert refused["reasons"][1] == f"{MAX} may not use the link: it lacks DESCRIBE on {link}"
