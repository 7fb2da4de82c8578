"""Tags on databases, tables and columns: inheritance and override, who may assign (ASSOCIATE
delegation), unknown names, and tag search by expression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lakemesh import audit
from lakemesh.api.schemas.tags import ResourceTags
from lakemesh.authz.state import policy_index
from lakemesh.catalog import databases, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import AccessDeniedError, InvalidInputError, LakemeshError, NotFoundError
from lakemesh.governance import grants, tag_assignments, tags
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.names import ResourceName, parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.store.schema import AuditEvent
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

ORDERS = ResourceName("sales", "crm", "orders")
EVENTS = ResourceName("sales", "crm", "events")

Assignment = tuple[str, str, str]
"""(resource, key, value), assigned by the mesh admin."""


@pytest.fixture
def mesh(env: Any, tmp_path: Path) -> Mesh:
    """The factory's mesh plus sales.crm.orders and sales.crm.events, a marketing database, and
    the keys ``owner`` and ``region``."""
    mesh = build_mesh(env, tmp_path)
    admin = env.admin
    with env.hub.transaction() as session:
        for name, columns in ((ORDERS, ("order_id", "customer_id", "amount")), (EVENTS, ("kind",))):
            tables.create_table(
                session,
                actor=admin,
                name=name,
                location=str(tmp_path / "sales" / str(name.table)),
                format="parquet",
                columns=[ColumnSpec(c, "VARCHAR") for c in columns],
            )
        databases.create_database(session, actor=admin, domain="marketing", name="campaigns")
        tags.create_tag(session, actor=admin, key="owner", values=["sales", "marketing"])
        tags.create_tag(session, actor=admin, key="region", values=["eu-west", "us-east"])
    return mesh


def _assign_all(mesh: Mesh, assignments: list[Assignment]) -> None:
    with mesh.env.hub.transaction() as session:
        for resource, key, value in assignments:
            tag_assignments.assign_tags(
                session, actor=mesh.env.admin, resource=resource, tags={key: value}
            )


# -- inheritance and override ------------------------------------------------------------------

DB_INTERNAL = ("sales.crm", "sensitivity", "internal")
DB_OWNER = ("sales.crm", "owner", "sales")
TABLE_PUBLIC = ("sales.crm.customers", "sensitivity", "public")
EMAIL_PII = ("sales.crm.customers.email", "sensitivity", "pii")


@pytest.mark.parametrize(
    ("assignments", "resource", "expected"),
    [
        (
            [DB_INTERNAL],
            "sales.crm.customers.email",
            {
                "own": {},
                "inherited": {"sensitivity": {"value": "internal", "from": "sales.crm"}},
                "overridden": {},
                "effective": {"sensitivity": "internal"},
            },
        ),
        (
            [DB_INTERNAL, TABLE_PUBLIC],
            "sales.crm.customers.email",
            {
                "own": {},
                "inherited": {"sensitivity": {"value": "public", "from": "sales.crm.customers"}},
                "overridden": {},
                "effective": {"sensitivity": "public"},
            },
        ),
        (
            [DB_INTERNAL, TABLE_PUBLIC, EMAIL_PII],
            "sales.crm.customers.EMAIL",
            {
                "own": {"sensitivity": "pii"},
                "inherited": {},
                "overridden": {"sensitivity": {"value": "public", "from": "sales.crm.customers"}},
                "effective": {"sensitivity": "pii"},
            },
        ),
        (
            [DB_OWNER, EMAIL_PII],
            "sales.crm.customers.email",
            {
                "own": {"sensitivity": "pii"},
                "inherited": {"owner": {"value": "sales", "from": "sales.crm"}},
                "overridden": {},
                "effective": {"owner": "sales", "sensitivity": "pii"},
            },
        ),
        (
            [DB_INTERNAL, TABLE_PUBLIC],
            "sales.crm.customers",
            {
                "own": {"sensitivity": "public"},
                "inherited": {},
                "overridden": {"sensitivity": {"value": "internal", "from": "sales.crm"}},
                "effective": {"sensitivity": "public"},
            },
        ),
        (
            [DB_OWNER, EMAIL_PII],
            "sales.crm.customers",
            {
                "own": {},
                "inherited": {"owner": {"value": "sales", "from": "sales.crm"}},
                "overridden": {},
                "effective": {"owner": "sales"},
            },
        ),
        (
            [DB_INTERNAL, TABLE_PUBLIC, EMAIL_PII],
            "sales.crm",
            {
                "own": {"sensitivity": "internal"},
                "inherited": {},
                "overridden": {},
                "effective": {"sensitivity": "internal"},
            },
        ),
        (
            [DB_INTERNAL, EMAIL_PII],
            "sales.crm.orders.amount",
            {
                "own": {},
                "inherited": {"sensitivity": {"value": "internal", "from": "sales.crm"}},
                "overridden": {},
                "effective": {"sensitivity": "internal"},
            },
        ),
    ],
)
def test_effective_tags_inherit_and_override(
    mesh: Mesh, assignments: list[Assignment], resource: str, expected: dict[str, Any]
) -> None:
    _assign_all(mesh, assignments)
    with mesh.env.hub.read() as session:
        view = tag_assignments.resource_tags(session, actor=mesh.sam, resource=resource)
        table = view.name.table_name if view.name.level in ("table", "column") else None
        facts = policy_index(session).table_facts(table) if table else None
    shown = ResourceTags.of(view).model_dump(by_alias=True)
    assert shown == {"resource": str(view.name), "level": view.name.level, **expected}
    if facts is not None and view.name.column is not None:
        # The policy engine decides on the very same effective tags.
        assert dict(facts.tags_of(view.name.column)) == expected["effective"]


def test_a_table_has_its_own_tags_and_each_column_its_own(mesh: Mesh) -> None:
    _assign_all(mesh, [DB_OWNER, TABLE_PUBLIC, EMAIL_PII])
    with mesh.env.hub.read() as session:
        row = tables.show_table(session, actor=mesh.sam, name=CUSTOMERS)
        shown = tag_assignments.table_tags(session, row)
        column_names = [c.name for c in row.columns]
    assert shown.table.effective == {"owner": "sales", "sensitivity": "public"}
    by_column = {name: view.effective for name, view in shown.columns.items()}
    assert by_column["email"] == {"owner": "sales", "sensitivity": "pii"}
    assert by_column["phone"] == {"owner": "sales", "sensitivity": "public"}
    overridden = shown.columns["email"].overridden
    assert {key: (tag.value, str(tag.source)) for key, tag in overridden.items()} == {
        "sensitivity": ("public", "sales.crm.customers")
    }
    assert list(shown.columns) == column_names


# -- assigning, replacing, removing ------------------------------------------------------------


def test_a_new_value_replaces_the_old_and_says_so(mesh: Mesh) -> None:
    admin = mesh.env.admin
    resource = "sales.crm.customers.email"
    with mesh.env.hub.transaction() as session:
        first = tag_assignments.assign_tags(
            session, actor=admin, resource=resource, tags={"sensitivity": "internal"}
        )
        second = tag_assignments.assign_tags(
            session,
            actor=admin,
            resource=resource,
            tags={"sensitivity": "pii", "owner": "sales"},
        )
        again = tag_assignments.assign_tags(
            session, actor=admin, resource=resource, tags={"sensitivity": "pii"}
        )
        removed = tag_assignments.remove_tags(
            session, actor=admin, resource=resource, keys=["owner"]
        )
        view = tag_assignments.resource_tags(session, actor=admin, resource=resource)
        events = audit.search(session, reader=admin, resource=resource, limit=10)
    assert [c.to_dict() for c in first] == [
        {"key": "sensitivity", "value": "internal", "previous": None}
    ]
    assert [c.to_dict() for c in second] == [
        {"key": "owner", "value": "sales", "previous": None},
        {"key": "sensitivity", "value": "pii", "previous": "internal"},
    ]
    assert again == []
    assert [c.to_dict() for c in removed] == [{"key": "owner", "value": None, "previous": "sales"}]
    assert view.own == {"sensitivity": "pii"}
    assert [e.action for e in reversed(events)] == ["tag.assign", "tag.assign", "tag.remove"]
    assert events[0].details == {"changes": [{"key": "owner", "value": None, "previous": "sales"}]}


def test_a_tag_change_decides_the_next_request(mesh: Mesh) -> None:
    admin = mesh.env.admin
    with mesh.env.hub.transaction() as session:
        request = GrantRequest(
            permissions=frozenset({Permission.SELECT}), on_tags="sensitivity=public"
        )
        grants.grant(session, actor=admin, grantee="user:mia@marketing", request=request)
    _assign_all(mesh, [("sales.crm.customers", "sensitivity", "public")])
    with mesh.env.hub.read() as session:
        before = policy_index(session).explain(
            principal=parse_principal(MIA), permission=Permission.SELECT, resource=CUSTOMERS
        )
    _assign_all(mesh, [EMAIL_PII])
    with mesh.env.hub.read() as session:
        after = policy_index(session).explain(
            principal=parse_principal(MIA), permission=Permission.SELECT, resource=CUSTOMERS
        )
    assert "email" in before.columns
    assert "email" not in after.columns
    assert after.allowed


@pytest.mark.parametrize(
    ("resource", "assigned", "error", "message"),
    [
        ("sales.crm.customers", {"colour": "red"}, NotFoundError, "Tag key does not exist: colour"),
        (
            "sales.crm.customers",
            {"sensitivity": "secret"},
            NotFoundError,
            r"^Tag value does not exist: sensitivity=secret \(allowed: internal, pii, public\)$",
        ),
        (
            "sales.crm",
            {"owner": "sales", "region": "mars"},
            NotFoundError,
            r"Tag value does not exist: region=mars \(allowed: eu-west, us-east\)",
        ),
        (
            "sales",
            {"owner": "sales"},
            InvalidInputError,
            "Tags are assigned on databases, tables and columns, not on domain sales",
        ),
        ("sales.nope", {"owner": "sales"}, NotFoundError, "Database does not exist: sales.nope"),
        (
            "sales.crm.nope",
            {"owner": "sales"},
            NotFoundError,
            "Table does not exist: sales.crm.nope",
        ),
        (
            "sales.crm.customers.nickname",
            {"owner": "sales"},
            NotFoundError,
            "Column does not exist: sales.crm.customers.nickname",
        ),
        ("sales.crm.customers", {}, InvalidInputError, "Name at least one tag KEY=VALUE"),
        ("sales..x", {"owner": "sales"}, InvalidInputError, "Invalid resource name: 'sales..x'"),
    ],
)
def test_unknown_names_are_refused_by_name(
    mesh: Mesh,
    resource: str,
    assigned: dict[str, str],
    error: type[LakemeshError],
    message: str,
) -> None:
    with pytest.raises(error, match=message), mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags(session, actor=mesh.env.admin, resource=resource, tags=assigned)


@pytest.mark.parametrize(
    ("assignments", "resource", "keys", "error", "message"),
    [
        (
            [DB_INTERNAL],
            "sales.crm.customers",
            ["sensitivity"],
            NotFoundError,
            r"Tag sensitivity is not assigned on sales.crm.customers "
            r"\(it is inherited from sales.crm\)",
        ),
        ([], "sales.crm", ["owner"], NotFoundError, r"Tag owner is not assigned on sales.crm$"),
        ([], "sales.crm", ["colour"], NotFoundError, "Tag key does not exist: colour"),
        ([], "sales.crm", [], InvalidInputError, "Name at least one tag KEY to remove"),
    ],
)
def test_removal_errors(
    mesh: Mesh,
    assignments: list[Assignment],
    resource: str,
    keys: list[str],
    error: type[LakemeshError],
    message: str,
) -> None:
    _assign_all(mesh, assignments)
    with pytest.raises(error, match=message), mesh.env.hub.transaction() as session:
        tag_assignments.remove_tags(session, actor=mesh.env.admin, resource=resource, keys=keys)


# -- who may assign: ASSOCIATE delegation ------------------------------------------------------

SAM, MARIA, MIA = "user:sam@sales", "user:maria@marketing", "user:mia@marketing"


@pytest.mark.parametrize(
    ("delegated", "principal", "resource", "assigned", "denial"),
    [
        (None, "user:admin@governance", "sales.crm.customers.email", {"sensitivity": "pii"}, None),
        (
            None,
            SAM,
            "sales.crm.customers.email",
            {"sensitivity": "pii"},
            "user:sam@sales lacks ASSOCIATE on tag sensitivity=pii",
        ),
        ((SAM, "sensitivity=pii"), SAM, "sales.crm.customers.email", {"sensitivity": "pii"}, None),
        ((SAM, "sensitivity"), SAM, "sales.crm", {"sensitivity": "internal"}, None),
        (
            ("domain:sales", "sensitivity=pii|internal"),
            SAM,
            "sales.crm",
            {"sensitivity": "pii"},
            None,
        ),
        (
            (SAM, "sensitivity=public"),
            SAM,
            "sales.crm.customers.email",
            {"sensitivity": "pii"},
            "user:sam@sales lacks ASSOCIATE on tag sensitivity=pii",
        ),
        (
            (SAM, "sensitivity=pii"),
            SAM,
            "sales.crm.customers",
            {"sensitivity": "pii", "owner": "sales"},
            "user:sam@sales lacks ASSOCIATE on tag owner=sales",
        ),
        (
            (SAM, "sensitivity"),
            SAM,
            "marketing.campaigns",
            {"sensitivity": "pii"},
            "user:sam@sales is not an admin of domain marketing",
        ),
        (
            (MARIA, "sensitivity"),
            MARIA,
            "sales.crm.customers",
            {"sensitivity": "pii"},
            "user:maria@marketing is not an admin of domain sales",
        ),
        (
            (MIA, "sensitivity"),
            MIA,
            "sales.crm.customers",
            {"sensitivity": "pii"},
            "user:mia@marketing is not an admin of domain sales",
        ),
        (
            (MARIA, "sensitivity=public"),
            MARIA,
            "marketing.campaigns",
            {"sensitivity": "public"},
            None,
        ),
    ],
)
def test_associate_delegation(
    mesh: Mesh,
    delegated: tuple[str, str] | None,
    principal: str,
    resource: str,
    assigned: dict[str, str],
    denial: str | None,
) -> None:
    if delegated is not None:
        grantee, values = delegated
        with mesh.env.hub.transaction() as session:
            request = GrantRequest(permissions=frozenset({Permission.ASSOCIATE}), tag_values=values)
            grants.grant(session, actor=mesh.env.admin, grantee=grantee, request=request)
    actor = mesh.actor(principal)
    if denial is None:
        with mesh.env.hub.transaction() as session:
            changes = tag_assignments.assign_tags(
                session, actor=actor, resource=resource, tags=assigned
            )
        assert {c.key: c.value for c in changes} == assigned
        return
    with pytest.raises(AccessDeniedError, match=denial), mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags(session, actor=actor, resource=resource, tags=assigned)
    with mesh.env.hub.read() as session:
        last = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalar()
        assert last is not None
        assert (last.actor, last.action, last.outcome) == (principal, "tag.assign", "denied")
        assert (
            tag_assignments.resource_tags(session, actor=mesh.env.admin, resource=resource).own
            == {}
        )


def test_removing_needs_associate_on_the_value_in_place(mesh: Mesh) -> None:
    _assign_all(mesh, [EMAIL_PII])
    with mesh.env.hub.transaction() as session:
        request = GrantRequest(
            permissions=frozenset({Permission.ASSOCIATE}), tag_values="sensitivity=public"
        )
        grants.grant(session, actor=mesh.env.admin, grantee=SAM, request=request)
    with (
        pytest.raises(
            AccessDeniedError, match="user:sam@sales lacks ASSOCIATE on tag sensitivity=pii"
        ),
        mesh.env.hub.transaction() as session,
    ):
        tag_assignments.remove_tags(
            session, actor=mesh.sam, resource="sales.crm.customers.email", keys=["sensitivity"]
        )


def test_reading_tags_needs_describe(mesh: Mesh) -> None:
    with (
        pytest.raises(
            AccessDeniedError, match="user:mia@marketing lacks DESCRIBE on sales.crm.customers"
        ),
        mesh.env.hub.read() as session,
    ):
        tag_assignments.resource_tags(session, actor=mesh.mia, resource="sales.crm.customers.email")


# -- search ------------------------------------------------------------------------------------

SEARCH_TAGS: list[Assignment] = [
    ("sales.crm", "owner", "sales"),
    ("sales.crm.customers", "sensitivity", "internal"),
    ("sales.crm.customers.email", "sensitivity", "pii"),
    ("sales.crm.orders", "sensitivity", "public"),
    ("sales.crm.orders", "region", "eu-west"),
    ("sales.crm.orders.amount", "region", "us-east"),
]
CUSTOMERS_BUT_EMAIL = ["customer_id", "name", "phone", "region"]
ALL_ORDERS = ["order_id", "customer_id", "amount"]


@pytest.mark.parametrize(
    ("principal", "expression", "expected"),
    [
        ("user:admin@governance", "sensitivity=pii", {"sales.crm.customers": ["email"]}),
        (
            SAM,
            "sensitivity=public|internal",
            {"sales.crm.customers": CUSTOMERS_BUT_EMAIL, "sales.crm.orders": ALL_ORDERS},
        ),
        (
            SAM,
            "sensitivity!=pii",
            {
                "sales.crm.customers": CUSTOMERS_BUT_EMAIL,
                "sales.crm.events": ["kind"],
                "sales.crm.orders": ALL_ORDERS,
            },
        ),
        (
            SAM,
            "NOT sensitivity=internal AND owner=sales",
            {
                "sales.crm.customers": ["email"],
                "sales.crm.events": ["kind"],
                "sales.crm.orders": ALL_ORDERS,
            },
        ),
        (
            SAM,
            "sensitivity=pii OR region=us-east",
            {"sales.crm.customers": ["email"], "sales.crm.orders": ["amount"]},
        ),
        (
            SAM,
            "(sensitivity=public OR sensitivity=pii) and region!=us-east",
            {"sales.crm.customers": ["email"], "sales.crm.orders": ["order_id", "customer_id"]},
        ),
        (SAM, "owner=marketing", {}),
        (MIA, "owner=sales", {}),
        (MARIA, "owner=sales", {}),
    ],
)
def test_search_by_expression(
    mesh: Mesh, principal: str, expression: str, expected: dict[str, list[str]]
) -> None:
    _assign_all(mesh, SEARCH_TAGS)
    with mesh.env.hub.read() as session:
        found = tag_assignments.search_tables(
            session, actor=mesh.actor(principal), expression=expression
        )
    assert {str(hit.name): hit.columns for hit in found} == expected
    assert [str(hit.name) for hit in found] == sorted(expected)


def test_search_shows_only_what_the_caller_may_describe(mesh: Mesh) -> None:
    _assign_all(mesh, SEARCH_TAGS)
    with mesh.env.hub.transaction() as session:
        request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=str(ORDERS))
        grants.grant(session, actor=mesh.env.admin, grantee=MIA, request=request)
    with mesh.env.hub.read() as session:
        found = tag_assignments.search_tables(session, actor=mesh.mia, expression="owner=sales")
    assert [(str(hit.name), hit.columns) for hit in found] == [("sales.crm.orders", ALL_ORDERS)]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("sensitivity=", r"Invalid tag expression at position 12: expected a value after '='"),
        (
            "sensitivity=pii AND (owner=sales",
            r"Invalid tag expression at position 32: expected '\)'",
        ),
        ("colour=red", "Tag key does not exist: colour"),
        (
            "owner=hr OR sensitivity=pii",
            r"Tag value does not exist: owner=hr \(allowed: marketing, sales\)",
        ),
    ],
)
def test_search_errors(mesh: Mesh, expression: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message), mesh.env.hub.read() as session:
        tag_assignments.search_tables(session, actor=mesh.sam, expression=expression)
