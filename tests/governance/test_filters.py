"""Data filters: predicates checked against the grammar, column lists, lifecycle, and grants
through a filter following its changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lakemesh import audit
from lakemesh.authz.state import policy_index
from lakemesh.catalog import tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    LakemeshError,
    NotFoundError,
)
from lakemesh.governance import filters, grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.names import ResourceName, parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision
from lakemesh.store.schema import DataFilterRow, Grant
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

ORDERS = ResourceName("sales", "crm", "orders")
MIA = "user:mia@marketing"


@pytest.fixture
def mesh(env: Any, tmp_path: Path) -> Mesh:
    """The factory's mesh plus sales.crm.orders."""
    mesh = build_mesh(env, tmp_path)
    with env.hub.transaction() as session:
        tables.create_table(
            session,
            actor=env.admin,
            name=ORDERS,
            location=str(tmp_path / "sales" / "orders"),
            format="parquet",
            columns=[ColumnSpec(c, "VARCHAR") for c in ("order_id", "region", "amount")],
        )
    return mesh


def _create(mesh: Mesh, name: str = "eu_rows", **kwargs: Any) -> DataFilterRow:
    arguments: dict[str, Any] = {"table": str(CUSTOMERS), "rows": "region = 'EU'", **kwargs}
    with mesh.env.hub.transaction() as session:
        row = filters.create_filter(session, actor=mesh.sam, name=name, **arguments)
        return row


def _grant_through(mesh: Mesh, name: str, grantee: str = MIA, table: str = str(CUSTOMERS)) -> int:
    with mesh.env.hub.transaction() as session:
        request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=table, filter=name)
        return grants.grant(session, actor=mesh.env.admin, grantee=grantee, request=request).id


def _select(mesh: Mesh, principal: str = MIA) -> Decision:
    with mesh.env.hub.read() as session:
        return policy_index(session).explain(
            principal=parse_principal(principal), permission=Permission.SELECT, resource=CUSTOMERS
        )


@pytest.mark.parametrize(
    ("rows", "stored"),
    [
        ("Region = principal_attribute('region')", "\"region\" = PRINCIPAL_ATTRIBUTE('region')"),
        (
            "region in ('EU', 'UK') and EMAIL like '%@example.com'",
            "\"region\" IN ('EU', 'UK') AND \"email\" LIKE '%@example.com'",
        ),
        (
            "customer_id BETWEEN '1' AND '9' OR phone IS NULL",
            "\"customer_id\" BETWEEN '1' AND '9' OR \"phone\" IS NULL",
        ),
        (None, None),
    ],
)
def test_valid_predicates_are_stored_in_canonical_form(
    mesh: Mesh, rows: str | None, stored: str | None
) -> None:
    assert _create(mesh, rows=rows).predicate == stored


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("region = 'EU'; DROP TABLE x", r"Row filter may not use ';'"),
        ("read_csv('x') IS NOT NULL", "Row filter may not use function read_csv"),
        ("upper(region) = 'EU'", "Row filter may not use function upper"),
        ("region IN (SELECT 1)", "Row filter may not use a subquery"),
        ("email || 'x' = 'y'", r"Row filter may not use operator \|\|"),
        ("customer_id + 1 > 3", r"Row filter may not use operator \+"),
        ("region = 'EU' -- and more", "Row filter may not contain comments"),
        (
            "nickname = 'x'",
            r"Row filter refers to unknown column 'nickname' \(columns: customer_id, name, ",
        ),
        ("region = principal_attribute(region)", "must call principal_attribute with one"),
        ("principal_attribute('region') IS NULL", "may not test principal_attribute"),
        ("", "Row filter is empty"),
        ("region =", "Row filter is not valid SQL"),
    ],
)
def test_predicates_outside_the_grammar_are_refused_naming_the_token(
    mesh: Mesh, rows: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        _create(mesh, rows=rows)


@pytest.mark.parametrize(
    ("columns", "excluded", "expected"),
    [
        (["EMAIL", "name", "email"], (), (["name", "email"], [])),
        (None, ["phone"], (None, ["phone"])),
        (None, (), (None, [])),
    ],
)
def test_column_lists_take_the_tables_spelling(
    mesh: Mesh,
    columns: list[str] | None,
    excluded: tuple[str, ...],
    expected: tuple[list[str] | None, list[str]],
) -> None:
    shown = _create(mesh, columns=columns, excluded_columns=excluded)
    assert (shown.columns, shown.excluded_columns) == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"columns": ["nickname"]},
            InvalidInputError,
            "Column does not exist: sales.crm.customers.nickname",
        ),
        (
            {"excluded_columns": ["email", "fax"]},
            InvalidInputError,
            "Column does not exist: sales.crm.customers.fax",
        ),
        (
            {"columns": ["email"], "excluded_columns": ["phone"]},
            InvalidInputError,
            "Give a column include list or an exclude list, not both",
        ),
        ({"columns": []}, InvalidInputError, "A column include list may not be empty"),
        (
            {"excluded_columns": ["customer_id", "name", "email", "phone", "region"]},
            InvalidInputError,
            "A data filter must leave at least one column of sales.crm.customers",
        ),
        ({"name": "EU rows"}, InvalidInputError, "Invalid data filter name: 'EU rows'"),
        ({"table": "sales.crm.nope"}, NotFoundError, "Table does not exist: sales.crm.nope"),
        ({"table": "sales.crm"}, InvalidInputError, "Expected a table name, got database name"),
    ],
)
def test_filter_definition_errors(
    mesh: Mesh, kwargs: dict[str, Any], error: type[LakemeshError], message: str
) -> None:
    with pytest.raises(error, match=message):
        _create(mesh, **kwargs)


def test_only_admins_of_the_tables_domain_manage_filters(mesh: Mesh) -> None:
    _create(mesh)
    maria = mesh.maria
    denial = "user:maria@marketing is not an admin of domain sales"
    with pytest.raises(AccessDeniedError, match=denial), mesh.env.hub.transaction() as session:
        filters.create_filter(
            session, actor=maria, name="mine", table=str(CUSTOMERS), rows="region = 'US'"
        )
    # Named without its table, another domain's filter reads as one that does not exist.
    missing = "Data filter does not exist: eu_rows$"
    with pytest.raises(NotFoundError, match=missing), mesh.env.hub.transaction() as session:
        filters.update_filter(session, actor=maria, name="eu_rows", all_rows=True)
    with pytest.raises(NotFoundError, match=missing), mesh.env.hub.transaction() as session:
        filters.delete_filter(session, actor=maria, name="eu_rows")
    with pytest.raises(AccessDeniedError, match=denial), mesh.env.hub.transaction() as session:
        filters.delete_filter(session, actor=maria, name="eu_rows", table=str(CUSTOMERS))
    with pytest.raises(AccessDeniedError, match=denial), mesh.env.hub.read() as session:
        filters.show_filter(session, actor=maria, name="eu_rows", table=str(CUSTOMERS))
    with pytest.raises(AccessDeniedError, match=denial), mesh.env.hub.read() as session:
        filters.list_filters(session, actor=maria, table=str(CUSTOMERS))
    with mesh.env.hub.read() as session:
        assert filters.list_filters(session, actor=maria) == []
        assert [f.name for f in filters.list_filters(session, actor=mesh.sam)] == ["eu_rows"]
        assert [f.name for f in filters.list_filters(session, actor=mesh.env.admin)] == ["eu_rows"]


def test_names_are_unique_per_table_and_found_without_the_table_when_unambiguous(
    mesh: Mesh,
) -> None:
    _create(mesh)
    with pytest.raises(AlreadyExistsError, match="Data filter already exists: eu_rows on sales"):
        _create(mesh)
    with mesh.env.hub.read() as session:
        assert filters.show_filter(session, actor=mesh.sam, name="eu_rows").name == "eu_rows"
    _create(mesh, table=str(ORDERS))
    message = (
        r"Data filter eu_rows exists on several tables: sales.crm.customers, sales.crm.orders "
        r"\(name the table\)"
    )
    with pytest.raises(InvalidInputError, match=message), mesh.env.hub.read() as session:
        filters.show_filter(session, actor=mesh.sam, name="eu_rows")
    missing = "Data filter does not exist: us_rows$"
    with pytest.raises(NotFoundError, match=missing), mesh.env.hub.read() as session:
        filters.show_filter(session, actor=mesh.sam, name="us_rows")
    missing = "Data filter does not exist: us_rows on sales.crm.orders"
    with pytest.raises(NotFoundError, match=missing), mesh.env.hub.read() as session:
        filters.show_filter(session, actor=mesh.sam, name="us_rows", table=str(ORDERS))


def test_updating_a_filter_changes_what_its_grants_give(mesh: Mesh) -> None:
    _create(mesh, columns=["customer_id", "region"])
    grant_id = _grant_through(mesh, "eu_rows")
    before = _select(mesh)
    with mesh.env.hub.transaction() as session:
        row = filters.update_filter(
            session,
            actor=mesh.sam,
            name="eu_rows",
            table=str(CUSTOMERS),
            rows="region IN ('EU', 'UK')",
            excluded_columns=["email"],
        )
        shown, through = row, filters.filter_grants(session, row)
    after = _select(mesh)
    assert (before.row_filter, before.columns) == ("(\"region\" = 'EU')", ("customer_id", "region"))
    assert after.row_filter == "(\"region\" IN ('EU', 'UK'))"
    assert after.columns == ("customer_id", "name", "phone", "region")
    assert (shown.columns, shown.excluded_columns) == (None, ["email"])
    assert [g.id for g in through] == [grant_id]
    with mesh.env.hub.transaction() as session:
        filters.update_filter(session, actor=mesh.sam, name="eu_rows", all_rows=True)
        filters.update_filter(session, actor=mesh.sam, name="eu_rows", all_columns=True)
    everything = _select(mesh)
    assert everything.row_filter is None
    assert len(everything.columns) == 5
    with mesh.env.hub.read() as session:
        events = audit.search(session, reader=mesh.env.admin, action="filter", limit=10)
    assert [e.action for e in reversed(events)] == [
        "filter.create",
        "filter.update",
        "filter.update",
        "filter.update",
    ]
    assert events[-2].details["before"]["rows"] == "\"region\" = 'EU'"
    assert events[-2].details["grants"] == [grant_id]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": "region = 'US'", "all_rows": True}, "Give a row predicate or all rows, not both"),
        (
            {"columns": ["email"], "all_columns": True},
            "Give a column list or all columns, not both",
        ),
        ({"rows": "shoe_size > 40"}, "Row filter refers to unknown column 'shoe_size'"),
        ({"columns": ["shoe_size"]}, "Column does not exist: sales.crm.customers.shoe_size"),
    ],
)
def test_update_errors(mesh: Mesh, kwargs: dict[str, Any], message: str) -> None:
    _create(mesh)
    with pytest.raises(InvalidInputError, match=message), mesh.env.hub.transaction() as session:
        filters.update_filter(session, actor=mesh.sam, name="eu_rows", **kwargs)


def test_deleting_a_filter_in_use_is_refused_unless_forced(mesh: Mesh) -> None:
    _create(mesh)
    first = _grant_through(mesh, "eu_rows")
    second = _grant_through(mesh, "eu_rows", grantee="group:analysts@marketing")
    message = (
        rf"Data filter eu_rows on sales.crm.customers is used by grants: #{first} SELECT to "
        rf"user:mia@marketing; #{second} SELECT to group:analysts@marketing \(force the "
        r"deletion to revoke them\)"
    )
    with (
        pytest.raises(ConflictError, match=message) as raised,
        mesh.env.hub.transaction() as session,
    ):
        filters.delete_filter(session, actor=mesh.sam, name="eu_rows")
    assert [g["id"] for g in raised.value.details["grants"]] == [first, second]
    assert _select(mesh).allowed
    with mesh.env.hub.transaction() as session:
        deleted = filters.delete_filter(session, actor=mesh.sam, name="eu_rows", force=True)
    assert (deleted.name, str(deleted.table), deleted.revoked_grants) == (
        "eu_rows",
        "sales.crm.customers",
        [first, second],
    )
    assert not _select(mesh).allowed
    with mesh.env.hub.read() as session:
        assert session.execute(select(Grant.id)).all() == []
        (event,) = audit.search(session, reader=mesh.env.admin, action="filter.delete")
        revokes = audit.search(session, reader=mesh.env.admin, action="grant.revoke")
    assert event.details["revoked_grants"] == [first, second]
    assert event.resource == "sales.crm.customers"
    assert sorted((e.details["grant_id"], e.details["grantee"]) for e in revokes) == [
        (first, "user:mia@marketing"),
        (second, "group:analysts@marketing"),
    ]
    assert {e.resource for e in revokes} == {"sales.crm.customers"}


def test_an_unused_filter_is_deleted_without_force(mesh: Mesh) -> None:
    _create(mesh)
    with mesh.env.hub.transaction() as session:
        deleted = filters.delete_filter(session, actor=mesh.sam, name="eu_rows")
        assert deleted.revoked_grants == []
        assert filters.list_filters(session, actor=mesh.sam) == []
