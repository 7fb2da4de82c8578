"""Find the table references of a statement that name catalog tables (not CTEs, not functions)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import Scope, build_scope

from lakemesh.errors import QueryRejectedError
from lakemesh.query.validate import DIALECT


def catalog_references(statement: exp.Expr) -> list[exp.Table]:
    """The ``Table`` nodes of ``statement`` that name catalog tables, in statement order.

    A CTE shadows a table of the same name only where the CTE is in scope, and a qualified name
    (``crm.customers``) never means a CTE. Names compare case-insensitively, as in DuckDB.

    Raises:
        QueryRejectedError: a table reference is neither a catalog table, a CTE nor a function.
    """
    normalized = normalize_identifiers(statement.copy(), dialect=DIALECT)
    originals = list(statement.find_all(exp.Table))
    copies = list(normalized.find_all(exp.Table))
    position = {id(node): i for i, node in enumerate(copies)}
    catalog: set[int] = set()
    ctes: set[int] = set()
    try:
        root = build_scope(normalized)
    except SqlglotError as e:
        raise QueryRejectedError(f"Could not resolve the query's tables: {e}") from e
    for scope in root.traverse() if root is not None else []:
        for table in scope.tables:
            if isinstance(table.this, exp.Func):
                continue
            source = scope.sources.get(table.alias_or_name)
            if not table.args.get("db") and isinstance(source, Scope):
                ctes.add(position[id(table)])
            else:
                catalog.add(position[id(table)])
    for i, node in enumerate(copies):
        if i not in catalog and i not in ctes and not isinstance(node.this, exp.Func):
            raise QueryRejectedError(
                f"Unsupported table reference: {node.sql(DIALECT)}",
                details={"construct": node.sql(DIALECT)},
            )
    return [originals[i] for i in sorted(catalog)]


def written_parts(table: exp.Table) -> tuple[str, ...]:
    """The name parts as written, unquoted ones lower-cased (DuckDB folds them).

    A quoted part with dots is several parts: PostgreSQL clients name another domain's database
    as one schema, ``"marketing.campaigns".leads`` (catalog names never hold a dot).
    """
    parts: list[str] = []
    for part in _identifiers(table):
        name = part.name if part.quoted else part.name.lower()
        parts.extend(name.split(".") if part.quoted and "." in name else (name,))
    return tuple(parts)


def _identifiers(table: exp.Table) -> list[exp.Identifier]:
    parts = []
    for part in table.parts:
        if not isinstance(part, exp.Identifier):
            raise QueryRejectedError(
                f"Unsupported table name: {table.sql(DIALECT)}",
                details={"construct": table.sql(DIALECT)},
            )
        parts.append(part)
    return parts
