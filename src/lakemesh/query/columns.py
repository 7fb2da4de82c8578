"""Which columns of which tables a statement names, and refusal of the ones it may not read.

The secured relations the rewriter puts in place of each table only hold the available columns, so
a hidden column can never be read whatever this module decides. Its job is to say so clearly
(``user:bob@marketing lacks SELECT on sales.crm.customers.email``) and to report the columns read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope, walk_in_scope

from lakemesh.errors import AccessDeniedError
from lakemesh.query.table import TableAccess

DIALECT = "duckdb"


@dataclass(frozen=True)
class Reference:
    """One place a statement reads a catalog table: the node and what it resolved to."""

    node: exp.Table
    table: TableAccess


def columns_read(
    statement: exp.Expr, references: Sequence[Reference], *, principal: str
) -> dict[str, frozenset[str]]:
    """Map each table name to the columns ``statement`` reads of it (stars expand to visible ones).

    Raises:
        AccessDeniedError: the statement names a column of a table that ``principal`` may not read.
    """
    token = uuid.uuid4().hex[:12]
    stand_ins = {f"_lakemesh_{token}_{i}": ref.table for i, ref in enumerate(references)}
    analysed = _with_stand_ins(statement, references, list(stand_ins))
    normalize_identifiers(analysed, dialect=DIALECT)
    schema: dict[str, object] = {name: _schema(table) for name, table in stand_ins.items()}
    hidden = _hidden_columns(stand_ins.values())
    try:
        qualified = qualify(
            analysed,
            schema=schema,
            dialect=DIALECT,
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
        root = build_scope(qualified)
    except SqlglotError:
        root = None
    if root is None:
        # Beyond what sqlglot can resolve: refuse any hidden name, report every visible column.
        _refuse_hidden_names(analysed, hidden, principal)
        return {table.name: frozenset(table.visible_columns) for table in stand_ins.values()}
    read: dict[str, set[str]] = {table.name: set() for table in stand_ins.values()}
    for scope in root.traverse():
        _scope_columns(scope, stand_ins, hidden, read, principal)
    return {name: frozenset(columns) for name, columns in read.items()}


def _with_stand_ins(
    statement: exp.Expr, references: Sequence[Reference], names: Sequence[str]
) -> exp.Expr:
    """A copy of ``statement`` where each referenced table is a stand-in with a one-part name."""
    copy = statement.copy()
    positions = {id(node): i for i, node in enumerate(statement.find_all(exp.Table))}
    copied = list(copy.find_all(exp.Table))
    for name, reference in zip(names, references, strict=True):
        node = copied[positions[id(reference.node)]]
        alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
        stand_in = exp.Table(this=exp.to_identifier(name), alias=alias.copy())
        for key in ("joins", "laterals", "sample"):
            if node.args.get(key):
                stand_in.set(key, node.args[key])
        node.replace(stand_in)
    return copy


def _schema(table: TableAccess) -> dict[str, str]:
    return {name.lower(): _known_type(table.column_type(name)) for name in table.visible_columns}


@lru_cache(maxsize=4096)
def _known_type(type_: str) -> str:
    """``type_`` when sqlglot understands it, else ``UNKNOWN``."""
    try:
        exp.DataType.build(type_, dialect=DIALECT)
    except SqlglotError:
        return "UNKNOWN"
    return type_


def _hidden_columns(tables: Iterable[TableAccess]) -> dict[str, TableAccess]:
    """Lower-case name of every column some referenced table hides, mapped to that table."""
    hidden: dict[str, TableAccess] = {}
    for table in tables:
        visible = {name.lower() for name in table.visible_columns}
        for name in table.column_names:
            if name.lower() not in visible:
                hidden.setdefault(name.lower(), table)
    return hidden


def _scope_columns(
    scope: Scope,
    stand_ins: dict[str, TableAccess],
    hidden: dict[str, TableAccess],
    read: dict[str, set[str]],
    principal: str,
) -> None:
    for node in walk_in_scope(scope.expression):
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Column | exp.Count):
            # A star sqlglot could not expand (e.g. * LIKE 'x%'): it reads every visible column.
            for candidate in scope.sources.values():
                starred = _catalog_table(candidate, stand_ins)
                if starred is not None:
                    read[starred.name].update(starred.visible_columns)
        if isinstance(node, exp.Join):
            for identifier in node.args.get("using") or []:
                _refuse_if_hidden(identifier.name, hidden, principal)
        if not isinstance(node, exp.Column):
            continue
        if isinstance(node.this, exp.Star):
            # ``profile.*`` on a struct column: the qualifier may name a hidden column.
            if node.table and _source_of(scope, node.table) is None:
                _refuse_if_hidden(node.table, hidden, principal)
            continue
        if _is_lambda_variable(node):
            continue
        source = _source_of(scope, node.table) if node.table else None
        table = _catalog_table(source, stand_ins)
        if table is not None:
            column = _column_of(table, source, node.name)
            if column is not None:
                read[table.name].add(column)
                continue
            if node.name.lower() in _hidden_names(table):
                raise _denied(principal, table, node.name)
        elif isinstance(source, Scope):
            continue  # a derived table or CTE column: its own scope names the base columns
        for part in node.parts:
            _refuse_if_hidden(part.name, hidden, principal)


def _source_of(scope: Scope | None, name: str) -> exp.Expr | Scope | None:
    """The source ``name`` means in ``scope`` or, for correlated references, an outer scope."""
    while scope is not None:
        source = scope.sources.get(name)
        if source is not None:
            return source
        scope = scope.parent
    return None


def _catalog_table(source: object, stand_ins: dict[str, TableAccess]) -> TableAccess | None:
    if isinstance(source, exp.Table):
        return stand_ins.get(source.name)
    return None


def _column_of(table: TableAccess, source: object, name: str) -> str | None:
    """The table's column that ``name`` denotes, honouring column aliases ``AS t(a, b)``."""
    visible = table.visible_columns
    alias = source.args.get("alias") if isinstance(source, exp.Table) else None
    renamed = [column.name.lower() for column in alias.columns] if alias is not None else []
    if name.lower() in renamed:
        index = renamed.index(name.lower())
        return visible[index] if index < len(visible) else None
    matches = [column for column in visible[len(renamed) :] if column.lower() == name.lower()]
    return matches[0] if matches else None


def _hidden_names(table: TableAccess) -> set[str]:
    visible = {name.lower() for name in table.visible_columns}
    return {name.lower() for name in table.column_names} - visible


def _is_lambda_variable(column: exp.Column) -> bool:
    for ancestor in _ancestors(column):
        if isinstance(ancestor, exp.Lambda):
            names = {param.name.lower() for param in ancestor.expressions}
            if column.name.lower() in names and not column.table:
                return True
    return False


def _ancestors(node: exp.Expr) -> list[exp.Expr]:
    result = []
    parent = node.parent
    while parent is not None:
        result.append(parent)
        parent = parent.parent
    return result


def _refuse_hidden_names(
    statement: exp.Expr, hidden: dict[str, TableAccess], principal: str
) -> None:
    for node in statement.walk():
        if isinstance(node, exp.Column) and not _is_lambda_variable(node):
            for part in node.parts:
                _refuse_if_hidden(part.name, hidden, principal)
        elif isinstance(node, exp.Join):
            for identifier in node.args.get("using") or []:
                _refuse_if_hidden(identifier.name, hidden, principal)


def _refuse_if_hidden(name: str, hidden: dict[str, TableAccess], principal: str) -> None:
    table = hidden.get(name.lower())
    if table is not None:
        raise _denied(principal, table, name)


def _denied(principal: str, table: TableAccess, name: str) -> AccessDeniedError:
    column = next((c for c in table.column_names if c.lower() == name.lower()), name)
    return AccessDeniedError(
        f"{principal} lacks SELECT on {table.name}.{column}",
        details={"principal": principal, "table": table.name, "column": column},
    )
