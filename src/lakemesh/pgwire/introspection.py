"""Catalog queries: told apart from queries over mesh tables, and rewritten for the mirror.

A statement that reads ``pg_catalog`` or ``information_schema`` relations, or calls catalog
functions (``version()``, ``current_schema()``, ``format_type``...) and no mesh table, is parsed
as PostgreSQL and answered from the principal's catalog mirror (:mod:`lakemesh.pgwire.catalog`),
never by the engine that reads data.

>>> is_catalog_query("SELECT version()"), is_catalog_query("SELECT 1")
(True, False)
>>> to_mirror_sql(parse("SELECT relname FROM pg_catalog.pg_class WHERE oid = 'x'::regclass"),
...               user="u", database="d", search_path=[])
"SELECT relname FROM pgcat.pg_class WHERE oid = LM_REGCLASS_OID('x')"
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.errors import NotFoundError, QueryCancelledError, QueryRejectedError
from lakemesh.pgwire.catalog import VERSION
from lakemesh.pgwire.catalog_macros import MACROS
from lakemesh.pgwire.catalog_rows import MIRROR_SCHEMAS
from lakemesh.pgwire.catalog_schema import CATALOG_TABLES

CATALOG_TIMEOUT_SECONDS = 10.0
_CATALOG_NAMES = {name for _, name in CATALOG_TABLES}
_PG_CATALOG_NAMES = {name for schema, name in CATALOG_TABLES if schema == "pg_catalog"}
_CATALOG_FUNCTIONS = {
    *MACROS,
    "current_database",
    "current_schemas",
    "current_schema",
    "current_setting",
    "version",
    "pg_backend_pid",
    "inet_server_addr",
    "inet_server_port",
    "pg_my_temp_schema",
    "pg_is_other_temp_schema",
}
_REGPROC_COLUMNS = frozenset(
    {"typinput", "typoutput", "typreceive", "typsend", "typmodin", "typmodout", "typanalyze"}
)
_RENAMED = {"json_build_object": "json_object", "jsonb_build_object": "json_object"}
"""PostgreSQL functions DuckDB has under another name."""
_CATALOG_NODES = (
    exp.CurrentVersion,
    exp.CurrentSchema,
    exp.CurrentUser,
    exp.SessionUser,
    exp.CurrentCatalog,
    exp.CurrentDatabase,
)


def parse(sql: str) -> exp.Expr:
    """``sql`` parsed as PostgreSQL.

    Raises:
        QueryRejectedError: it does not parse, or holds several statements.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except SqlglotError as e:
        raise QueryRejectedError(f"Could not parse the query: {e}") from e
    if len(statements) != 1:
        raise QueryRejectedError("The gateway accepts exactly one statement")
    return statements[0]


def _catalog_table(table: exp.Table, ctes: set[str]) -> bool:
    schema = table.db.lower()
    if schema in MIRROR_SCHEMAS:
        return True
    return not schema and table.name.lower() in _PG_CATALOG_NAMES and table.name not in ctes


def catalog_statement(sql: str) -> exp.Expr | None:
    """The parsed statement when ``sql`` is a catalog query, else ``None`` (for the gateway).

    Raises:
        QueryRejectedError: it reads catalog relations and mesh tables together.
    """
    lowered = sql.lower()
    if not any(
        word in lowered
        for word in ("pg_", "information_schema", "version", "current_", "format_type", "user")
    ):
        return None
    try:
        statement = parse(sql)
    except QueryRejectedError:
        return None  # the gateway names what is wrong with it
    ctes = {cte.alias for cte in statement.find_all(exp.CTE)}
    tables = list(statement.find_all(exp.Table))
    catalog = [t for t in tables if _catalog_table(t, ctes)]
    others = [t for t in tables if t not in catalog and t.name not in ctes]
    functions = any(isinstance(node, _CATALOG_NODES) for node in statement.walk()) or any(
        isinstance(node, exp.Anonymous) and node.name.lower() in _CATALOG_FUNCTIONS
        for node in statement.walk()
    )
    if not catalog and not functions:
        return None
    if others:
        if not catalog:
            return None  # the gateway refuses (or allows) the functions itself
        raise QueryRejectedError(
            "A query cannot read catalog relations and mesh tables together: "
            f"{catalog[0].sql('postgres')} with {others[0].sql('postgres')}"
        )
    return statement


def is_catalog_query(sql: str) -> bool:
    """Whether ``sql`` is answered from the catalog mirror."""
    return catalog_statement(sql) is not None


def _type_name(to: exp.Expr) -> str:
    if isinstance(to, exp.ObjectIdentifier):
        return to.name.lower()
    if isinstance(to, exp.DataType):
        kind = to.args.get("kind")
        if isinstance(kind, exp.Dot):
            return str(kind.expression.name).lower()
        if to.this == exp.DType.USERDEFINED and kind is not None:
            return str(kind.name if isinstance(kind, exp.Expr) else kind).lower()
    return ""


def to_mirror_sql(
    statement: exp.Expr,
    *,
    user: str,
    database: str,
    search_path: Sequence[str],
    settings: Mapping[str, str] | None = None,
) -> str:
    """The statement in DuckDB's SQL over the mirror's tables and macros.

    Raises:
        NotFoundError: it reads a catalog relation the mirror does not hold.
    """
    # a DOMAIN.DATABASE entry names a schema (a database of the domain); a DOMAIN one does not
    schema = next((e.split(".")[1] for e in search_path if e.count(".") == 1), "public")

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
            node.set("db", None)  # pg_catalog.generate_series(...) AS s
            alias = node.args.get("alias")
            if isinstance(alias, exp.TableAlias) and alias.this and not alias.columns:
                # in PostgreSQL the alias of a function names its column too
                alias.set("columns", [alias.this.copy()])
            return node
        if isinstance(node, exp.Column) and node.db.lower() in MIRROR_SCHEMAS:
            node.set("db", exp.to_identifier(MIRROR_SCHEMAS[node.db.lower()]))
            return node
        if isinstance(node, exp.DataType) and isinstance(node.args.get("kind"), exp.Dot):
            return _data_type(str(node.args["kind"].expression.name))
        if isinstance(node, exp.Table) and _catalog_table(node, set()):
            name = node.name.lower()
            owner = node.db.lower() or "pg_catalog"
            if (owner, name) not in CATALOG_TABLES:
                raise NotFoundError(
                    f"Table does not exist: {owner}.{name} (not answered by lakemesh)",
                    details={"table": f"{owner}.{name}"},
                )
            node.set("db", exp.to_identifier(MIRROR_SCHEMAS[owner]))
            node.set("catalog", None)
            return node
        if (
            isinstance(node, exp.Dot)
            and isinstance(node.expression, exp.Func)
            and isinstance(node.this, exp.Identifier | exp.Column)
            and node.this.name.lower() in ("pg_catalog", "information_schema")
        ):
            return node.expression.transform(rewrite)  # the replacement's nodes are not visited
        if isinstance(node, exp.CurrentVersion):
            return exp.Literal.string(VERSION)
        if isinstance(node, exp.CurrentSchema):
            return exp.Literal.string(schema)
        if isinstance(node, exp.CurrentUser | exp.SessionUser):
            return exp.Literal.string(user)
        if isinstance(node, exp.CurrentCatalog | exp.CurrentDatabase):
            return exp.Literal.string(database)
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name == "current_database":
                return exp.Literal.string(database)
            if name == "version":
                return exp.Literal.string(VERSION)
            if name == "current_schema":
                return exp.Literal.string(schema)
            if name == "current_setting":
                # the session's settings, never the mirror engine's
                argument = node.expressions[0] if node.expressions else None
                if isinstance(argument, exp.Literal) and argument.is_string:
                    value = (settings or {}).get(argument.name.lower())
                    return exp.Literal.string(value) if value is not None else exp.null()
                return exp.null()
            if name == "current_schemas":
                return exp.array(
                    *(exp.Literal.string(s) for s in ["pg_catalog", schema]), copy=False
                )
            if name in ("pg_backend_pid", "inet_server_port"):
                return exp.Literal.number(0)
            if name in MACROS:
                node.set("this", f"lm_{name}")
            elif name in _RENAMED:
                node.set("this", _RENAMED[name])
            return node
        if isinstance(node, exp.Cast):
            return _cast(node, node.this.transform(rewrite))
        if isinstance(node, exp.Operator):
            operator = str(node.args.get("operator", "")).split(".")[-1]
            left, right = node.this.transform(rewrite), node.expression.transform(rewrite)
            if isinstance(right, exp.Collate):
                right = right.this
            if operator == "~":
                return exp.RegexpLike(this=left, expression=right)
            if operator == "~*":
                return exp.RegexpILike(this=left, expression=right)
            if operator == "!~":
                return exp.Not(this=exp.RegexpLike(this=left, expression=right))
            return exp.EQ(this=left, expression=right) if operator == "=" else node
        if isinstance(node, exp.Collate):
            collated: exp.Expr = node.this.transform(rewrite)
            return collated
        if (
            isinstance(node, exp.EQ | exp.NEQ)
            and isinstance(node.this, exp.Column)
            and node.this.name.lower() in _REGPROC_COLUMNS
            and isinstance(node.expression, exp.Literal)
            and not node.expression.is_string
        ):
            # regproc columns hold function names ('-' for none): 0 is the missing function
            node.set("expression", exp.Literal.string("-"))
            return node
        if (
            isinstance(node, exp.EQ)
            and isinstance(node.expression, exp.Any)
            and not isinstance(node.expression.this, exp.Subquery | exp.Select)
        ):
            items = node.expression.this
            items = items.this if isinstance(items, exp.Paren) else items
            return exp.func("list_contains", items.transform(rewrite), node.this.transform(rewrite))
        return node

    transformed = statement.copy().transform(rewrite)
    return transformed.sql(dialect="duckdb")


def _data_type(name: str) -> exp.DataType:
    """A PostgreSQL type named in a catalog query (``pg_catalog.int2``), as DuckDB reads it."""
    try:
        return exp.DataType.build(name, dialect="postgres")
    except SqlglotError:
        return exp.DataType.build("VARCHAR")


def _cast(node: exp.Cast, value: exp.Expr) -> exp.Expr:
    """A cast to a PostgreSQL catalog type, for DuckDB (``value`` rewritten already)."""
    target = _type_name(node.args["to"])
    literal = isinstance(value, exp.Literal) and value.is_string
    if target == "regclass":
        return exp.func("lm_regclass_oid" if literal else "lm_regclass_name", value)
    if target == "regtype":
        return exp.func("lm_regtype_oid" if literal else "lm_regtype_name", value)
    if target == "regnamespace":
        return exp.func("lm_regnamespace_name", value)
    if target in ("regproc", "regprocedure", "name", "text", "char", "bpchar"):
        return exp.cast(value, "VARCHAR")
    if target in ("oid", "xid", "regoper", "regconfig"):
        return exp.cast(value, "BIGINT")
    node.set("this", value)
    return node


def answer(mirror: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run mirror SQL with a time limit.

    Raises:
        QueryRejectedError: DuckDB refused it (the message is DuckDB's first line).
        QueryCancelledError: it ran past the limit.
    """
    timer = threading.Timer(CATALOG_TIMEOUT_SECONDS, mirror.interrupt)
    timer.start()
    try:
        return mirror.execute(sql).to_arrow_table()
    except duckdb.InterruptException as e:
        raise QueryCancelledError(
            f"Catalog query exceeded {CATALOG_TIMEOUT_SECONDS:g}s and was stopped"
        ) from e
    except duckdb.Error as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise QueryRejectedError(f"Catalog query failed: {first}") from e
    finally:
        timer.cancel()
