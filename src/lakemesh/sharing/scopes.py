"""What a subscription asks for, table by table: the grant request for each product table.

A scope is every column (the default), an include list, an exclude list, or a data filter name.
Column lists apply to the product tables that have the columns: an include list skips the tables
holding none of them, an exclude list drops the columns from the tables that have them. A filter
applies to the tables that have a data filter of that name; the others are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.catalog.tables import table_name
from lakemesh.errors import InvalidInputError
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy import ColumnChoice
from lakemesh.store.schema import DataFilterRow, DataProduct, Table

SUBSCRIPTION_PERMISSIONS = frozenset({Permission.SELECT})
"""What an approved subscription gives on each table (SELECT implies DESCRIBE)."""


@dataclass(frozen=True)
class Scope:
    """The part of a product a subscription asks for."""

    columns: tuple[str, ...] | None = None
    excluded_columns: tuple[str, ...] = ()
    filter: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns) if self.columns is not None else None,
            "exclude_columns": list(self.excluded_columns),
            "filter": self.filter,
        }


@dataclass(frozen=True)
class TableScope:
    """One product table as the subscription would get it: the grant request, the columns."""

    table: ResourceName
    request: GrantRequest
    columns: tuple[str, ...]


def make_scope(
    columns: Sequence[str] | None, excluded: Sequence[str], data_filter: str | None
) -> Scope:
    """A checked scope: one of a column list, an exclude list and a filter."""
    chosen = tuple(c.strip() for c in columns or () if c.strip()) if columns is not None else None
    dropped = tuple(c.strip() for c in excluded if c.strip())
    given = [name for name, on in (("--columns", chosen), ("--exclude-columns", dropped)) if on]
    if data_filter:
        given.append("--filter")
    if len(given) > 1:
        raise InvalidInputError(
            f"Give one of --columns, --exclude-columns and --filter, not {' and '.join(given)} "
            "(a data filter carries its own columns)",
            details={"options": given},
        )
    if columns is not None and not chosen:
        raise InvalidInputError("An empty column list asks for nothing")
    return Scope(chosen, dropped, data_filter or None)


def _filter_on(session: Session, table: Table, name: str) -> DataFilterRow | None:
    return session.execute(
        select(DataFilterRow).where(DataFilterRow.table_id == table.id, DataFilterRow.name == name)
    ).scalar()


def _table_scope(session: Session, table: Table, scope: Scope) -> TableScope | None:
    name = table_name(table)
    all_columns = tuple(c.name for c in table.columns)
    known = {c.lower(): c for c in all_columns}
    if scope.filter is not None:
        row = _filter_on(session, table, scope.filter)
        if row is None:
            return None
        choice = ColumnChoice(
            frozenset(row.columns) if row.columns is not None else None,
            frozenset(row.excluded_columns or ()),
        )
        request = GrantRequest(SUBSCRIPTION_PERMISSIONS, on=str(name), filter=scope.filter)
        return TableScope(name, request, choice.pick(all_columns))
    if scope.columns is not None:
        picked = tuple(known[c.lower()] for c in scope.columns if c.lower() in known)
        if not picked:
            return None
        request = GrantRequest(SUBSCRIPTION_PERMISSIONS, on=str(name), columns=picked)
        return TableScope(name, request, ColumnChoice(frozenset(picked)).pick(all_columns))
    dropped = tuple(known[c.lower()] for c in scope.excluded_columns if c.lower() in known)
    kept = ColumnChoice(None, frozenset(dropped)).pick(all_columns)
    if not kept:
        return None
    request = GrantRequest(SUBSCRIPTION_PERMISSIONS, on=str(name), exclude_columns=dropped)
    return TableScope(name, request, kept)


def table_scopes(session: Session, product: DataProduct, scope: Scope) -> list[TableScope]:
    """The grant request for each product table the scope reaches.

    Raises:
        InvalidInputError: a named column is in no table of the product, or nothing is left.
    """
    tables = [item.table for item in product.tables]
    columns = {c.name.lower() for table in tables for c in table.columns}
    named = [*(scope.columns or ()), *scope.excluded_columns]
    unknown = [c for c in named if c.lower() not in columns]
    if unknown:
        raise InvalidInputError(
            f"Column does not exist in data product {product.name}: {', '.join(unknown)}",
            details={"product": product.name, "columns": unknown},
        )
    found = [s for table in tables if (s := _table_scope(session, table, scope)) is not None]
    if not found:
        what = f"filter {scope.filter}" if scope.filter else "the columns asked for"
        raise InvalidInputError(
            f"No table of data product {product.name} has {what}",
            details={"product": product.name, **scope.to_dict()},
        )
    return found
