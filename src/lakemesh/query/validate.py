"""Refusal before execution: one read-only statement, allowed functions only (DESIGN §5)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from lakemesh.errors import QueryRejectedError
from lakemesh.query.functions import function_name, is_allowed_function, is_allowed_table_function

DIALECT = "duckdb"

# Schemas and tables that belong to the engine, never to the mesh's catalog.
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "main", "temp", "system"})
SYSTEM_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "pg_tables"})

_READ_ONLY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery, exp.Values)

# Nodes that write, change the session or reach outside the statement, wherever they appear.
_FORBIDDEN_NODES: dict[str, str] = {
    "Into": "SELECT INTO",
    "Lock": "FOR UPDATE/SHARE",
    "Placeholder": "a parameter placeholder",
    "Parameter": "a parameter",
    "Pivot": "PIVOT/UNPIVOT",
    "Unpivot": "UNPIVOT",
    "Columns": "COLUMNS(...)",
    "PositionalColumn": "a positional column reference (#n)",
    "Command": "a command",
    "Returning": "RETURNING",
}


# First words of statements that are never a query (named even when sqlglot cannot parse them).
_STATEMENT_KEYWORDS = frozenset(
    [
        "ALTER",
        "ANALYZE",
        "ATTACH",
        "CALL",
        "CHECKPOINT",
        "COMMENT",
        "COPY",
        "CREATE",
        "DELETE",
        "DETACH",
        "DROP",
        "EXPORT",
        "FORCE",
        "GRANT",
        "IMPORT",
        "INSERT",
        "INSTALL",
        "LOAD",
        "MERGE",
        "PRAGMA",
        "PREPARE",
        "EXECUTE",
        "RESET",
        "REVOKE",
        "SET",
        "TRUNCATE",
        "UPDATE",
        "UPDATE_EXTENSIONS",
        "USE",
        "VACUUM",
    ]
)

# Table clauses that reach other versions or parts of a table than the catalog's current data.
_TABLE_OPTIONS = ("version", "system_time", "changes", "partition", "when", "indexed", "hints")


def parse_statement(sql: str) -> exp.Expr:
    """Parse ``sql`` as exactly one read-only statement and return its syntax tree.

    Raises:
        QueryRejectedError: the SQL does not parse, holds several statements or is not read-only.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except ParseError as e:
        keyword = _first_keyword(sql)
        if keyword in _STATEMENT_KEYWORDS:
            raise QueryRejectedError(
                f"Statement not allowed: {keyword}", details={"construct": keyword}
            ) from e
        first = e.errors[0] if e.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        description = first.get("description") or str(e).splitlines()[0]
        raise QueryRejectedError(
            f"Could not parse the query: {description}{where}",
            details={
                "errors": [{k: v for k, v in err.items() if k != "highlight"} for err in e.errors]
            },
        ) from e
    except SqlglotError as e:
        raise QueryRejectedError(f"Could not parse the query: {e}") from e
    if not statements:
        raise QueryRejectedError("The query is empty")
    if len(statements) > 1:
        raise QueryRejectedError(
            f"Only one statement is allowed, got {len(statements)}",
            details={"statements": len(statements)},
        )
    statement = statements[0]
    validate(statement)
    return statement


def _first_keyword(sql: str) -> str:
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except SqlglotError:
        return ""
    return tokens[0].text.upper() if tokens else ""


def validate(statement: exp.Expr) -> None:
    """Refuse anything in ``statement`` that is not a read-only query over allowed functions.

    Raises:
        QueryRejectedError: naming the first construct that is not allowed.
    """
    if not isinstance(statement, _READ_ONLY_ROOTS):
        raise _rejected(f"Statement not allowed: {construct_name(statement)}", statement)
    validate_expression(statement)


def validate_expression(expression: exp.Expr) -> None:
    """Refuse any forbidden construct or function anywhere in ``expression``.

    Raises:
        QueryRejectedError: naming the first construct that is not allowed.
    """
    for node in expression.walk():
        _check_node(node)


def construct_name(node: exp.Expr) -> str:
    """A user-facing name for a statement or clause: ``INSERT``, ``PRAGMA``, ``LOAD`` ..."""
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Set) and node.args.get("unset"):
        return "RESET"
    return node.key.upper()


def _check_node(node: exp.Expr) -> None:
    label = _FORBIDDEN_NODES.get(type(node).__name__)
    if label is not None:
        if isinstance(node, exp.Command):
            label = construct_name(node)
        raise _rejected(f"Not allowed in a query: {label}", node)
    if isinstance(node, exp.DML | exp.DDL) or (
        node.parent is not None and isinstance(node, exp.Pragma | exp.Set | exp.Attach | exp.Detach)
    ):
        raise _rejected(f"Statement not allowed: {construct_name(node)}", node)
    if isinstance(node, exp.Table):
        _check_table(node)
    elif isinstance(node, exp.Func):
        _check_function(node)


def _check_table(table: exp.Table) -> None:
    source = table.this
    if isinstance(source, exp.Func):
        if not is_allowed_table_function(source):
            raise _rejected(f"Table function not allowed: {function_name(source)}", source)
        return
    for option in _TABLE_OPTIONS:
        if table.args.get(option):
            raise _rejected(f"Not allowed in a query: {option.upper()} on a table", table)
    parts = [part.name.lower() for part in table.parts]
    if isinstance(source, exp.Literal) or any(c in part for part in parts for c in "./\\:"):
        raise _rejected("Reading a file by its path is not allowed", table)
    if _is_system_catalog(parts):
        raise _rejected(f"System catalog not reachable: {'.'.join(parts)}", table)


def _is_system_catalog(parts: list[str]) -> bool:
    """Engine schemas (``information_schema.t``, ``system.main.t``) and unqualified system views."""
    if len(parts) == 1:
        return parts[0] in SYSTEM_TABLES or parts[0].startswith(("duckdb_", "pragma_", "pg_"))
    if len(parts) == 2:
        return parts[0] in SYSTEM_SCHEMAS
    return parts[1] in SYSTEM_SCHEMAS or bool({"information_schema", "pg_catalog"} & set(parts))


def _check_function(node: exp.Func) -> None:
    if isinstance(node.parent, exp.Table) and node.arg_key == "this":
        return  # a table function, checked with its table
    if isinstance(node.parent, exp.Dot) and node.arg_key == "expression":
        raise _rejected(
            f"Qualified function names are not allowed: {node.parent.sql(DIALECT)}", node
        )
    if not is_allowed_function(node):
        raise _rejected(f"Function not allowed: {function_name(node)}", node)


def _rejected(message: str, node: exp.Expr) -> QueryRejectedError:
    return QueryRejectedError(message, details={"construct": node.sql(DIALECT)[:200]})
