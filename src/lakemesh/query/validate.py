"""Refusal before execution: one read-only statement, allowed functions only (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from lakemesh.errors import QueryRejectedError
from lakemesh.model.names import IDENTIFIER
from lakemesh.model.sql_syntax import parse_problem, token_problem
from lakemesh.query.functions import (
    MAX_BUILT_VALUE,
    built_value_size,
    function_name,
    is_allowed_function,
    is_allowed_table_function,
)
from lakemesh.query.time_travel import TIME_TRAVEL_OPTIONS, snapshot_of

DIALECT = "duckdb"

MAX_SQL_BYTES_SETTING = "max_sql_bytes"
"""The mesh setting that limits a statement's size (default 1 MiB, ``lakemesh.settings``)."""
MAX_NESTING = 32
"""How deep parentheses (expressions, subqueries, calls) may nest: the parser recurses per level."""
_OPENING = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE})
_CLOSING = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE})

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


def parse_statement(sql: str, *, max_bytes: int | None = None) -> exp.Expr:
    """Parse ``sql`` as exactly one read-only statement and return its syntax tree.

    The statement's size (when ``max_bytes`` is given) and nesting are checked before the parser
    sees it: a huge text costs seconds to parse, and a parser that recurses once per level would
    fail deep inside.

    Raises:
        QueryRejectedError: the SQL is too long or nests too deeply, does not parse, holds
            several statements or is not read-only.
    """
    if max_bytes is not None:
        check_sql_size(sql, max_bytes=max_bytes)
    dialect = sqlglot.Dialect.get_or_raise(DIALECT)
    try:
        tokens = dialect.tokenize(sql)
    except TokenError as e:
        raise _token_error(sql, e) from e
    check_nesting(tokens)
    try:
        statements = [s for s in dialect.parser().parse(tokens, sql) if s is not None]
    except ParseError as e:
        keyword = tokens[0].text.upper() if tokens else ""
        if keyword in _STATEMENT_KEYWORDS:
            raise QueryRejectedError(
                f"Statement not allowed: {keyword}", details={"construct": keyword}
            ) from e
        raise syntax_error(e) from e
    except SqlglotError as e:
        raise QueryRejectedError(f"Could not parse the query: {e}") from e
    except RecursionError as e:
        raise too_deep() from e
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


def check_sql_size(sql: str, *, max_bytes: int) -> None:
    """Refuse a statement longer than ``max_bytes`` (UTF-8), before anything parses it.

    >>> check_sql_size("SELECT 1", max_bytes=4)
    Traceback (most recent call last):
    ...
    lakemesh.errors.QueryRejectedError: SQL is 8 bytes; the limit is 4 (setting max_sql_bytes)

    Raises:
        QueryRejectedError: naming the size, the limit and the setting that holds it.
    """
    size = len(sql.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise QueryRejectedError(
            f"SQL is {size:,} bytes; the limit is {max_bytes:,} (setting {MAX_SQL_BYTES_SETTING})",
            details={"limit": MAX_SQL_BYTES_SETTING, "value": max_bytes, "bytes": size},
        )


def check_nesting(tokens: Sequence[Token], *, limit: int = MAX_NESTING) -> None:
    """Refuse a statement whose parentheses (expressions, subqueries, calls) nest past ``limit``.

    Raises:
        QueryRejectedError: ``Statement nests too deeply (limit N)``, with where it does.
    """
    depth = 0
    for token in tokens:
        if token.token_type in _OPENING:
            depth += 1
            if depth > limit:
                raise too_deep(limit, line=token.line, column=_start_column(token))
        elif token.token_type in _CLOSING:
            depth = max(depth - 1, 0)


def too_deep(
    limit: int = MAX_NESTING, *, line: int | None = None, column: int | None = None
) -> QueryRejectedError:
    """The error of a statement that nests deeper than the gateway plans."""
    where = f" at line {line}, column {column}" if line is not None else ""
    return QueryRejectedError(
        f"Statement nests too deeply (limit {limit}){where}",
        details={"limit": "nesting", "value": limit, "line": line, "column": column},
    )


def syntax_error(error: ParseError) -> QueryRejectedError:
    """The parser's first complaint in SQL terms (line, column, the token near it, what)."""
    problem = parse_problem(error)
    return QueryRejectedError(
        f"Could not parse the query: {problem.describe()}", details=problem.details()
    )


def _token_error(sql: str, error: TokenError) -> QueryRejectedError:
    problem = token_problem(sql, error)
    return QueryRejectedError(
        f"Could not parse the query: {problem.describe()}", details={"near": problem.near}
    )


def _start_column(token: Token) -> int:
    return max(token.col - len(token.text) + 1, 1)


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


def _path_like(table: exp.Table, part: exp.Expr) -> bool:
    """Whether a part of a table's name could be read as a file's path. A schema of the form
    ``"domain.database"`` in a two-part name is not: PostgreSQL clients name another domain's
    database so (:func:`~lakemesh.query.references.written_parts`)."""
    name = part.name.lower()
    if part is table.args.get("db") and not table.args.get("catalog"):
        pieces = name.split(".")
        if len(pieces) == 2 and all(IDENTIFIER.fullmatch(piece) for piece in pieces):
            return False
    return any(c in name for c in "./\\:")


def _check_table(table: exp.Table) -> None:
    source = table.this
    if isinstance(source, exp.Func):
        if not is_allowed_table_function(source):
            raise _rejected(f"Table function not allowed: {function_name(source)}", source)
        return
    snapshot_of(table)  # a snapshot or version named by number (checked per table in rewrite)
    for option in _TABLE_OPTIONS:
        if option not in TIME_TRAVEL_OPTIONS and table.args.get(option):
            raise _rejected(f"Not allowed in a query: {option.upper()} on a table", table)
    parts = [part.name.lower() for part in table.parts]
    if isinstance(source, exp.Literal) or any(_path_like(table, part) for part in table.parts):
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
    size = built_value_size(node)
    if size is not None and size > MAX_BUILT_VALUE:
        raise _rejected(
            f"Function {function_name(node)} would build a value of {size} elements or "
            f"characters, over the limit of {MAX_BUILT_VALUE} per call",
            node,
        )


def _rejected(message: str, node: exp.Expr) -> QueryRejectedError:
    return QueryRejectedError(message, details={"construct": node.sql(DIALECT)[:200]})
