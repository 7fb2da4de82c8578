"""Spark SQL helpers of the Spark engine that need no Spark: view names, schemas, verification."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.errors import QueryRejectedError
from lakemesh.query.table import TableAccess

VIEW_PREFIX = "lakemesh_scan_"

# Column types (sqlglot's names, parsed from DuckDB's) that Spark reads faithfully.
_SPARK_TYPES = frozenset(
    {
        "ARRAY",
        "BIGINT",
        "BLOB",
        "BOOLEAN",
        "CHAR",
        "DATE",
        "DECIMAL",
        "DOUBLE",
        "FLOAT",
        "INT",
        "LIST",
        "MAP",
        "SMALLINT",
        "STRUCT",
        "TEXT",
        "TIMESTAMP",
        "TIMESTAMPNTZ",
        "TIMESTAMPTZ",
        "TINYINT",
        "UUID",
        "VARBINARY",
        "VARCHAR",
    }
)

# Table functions the transpiled statement may use in FROM: generators that read nothing.
_TABLE_FUNCTIONS = frozenset({"range", "explode", "explode_outer", "posexplode", "inline"})


def view_name(table: TableAccess) -> str:
    """A name for the view over ``table``'s files that changes whenever what it reads changes."""
    digest = hashlib.sha256(
        repr(
            (
                table.name,
                table.format,
                table.location,
                table.files,
                table.columns,
                table.partition_columns,
            )
        ).encode()
    ).hexdigest()
    return f"{VIEW_PREFIX}{digest[:24]}"


def spark_schema(table: TableAccess) -> str | None:
    """The table's columns as a Spark DDL schema, or None when a type has no Spark equivalent."""
    columns = []
    for name, type_ in table.columns:
        try:
            data_type = exp.DataType.build(type_, dialect="duckdb")
        except SqlglotError:
            return None
        if any(node.this.name not in _SPARK_TYPES for node in data_type.find_all(exp.DataType)):
            return None
        quoted = "`" + name.replace("`", "``") + "`"
        columns.append(f"{quoted} {data_type.sql(dialect='spark')}")
    return ", ".join(columns)


def verify_statement(sql: str, *, views: Iterable[str]) -> None:
    """Check that ``sql`` is one query reading only ``views``, CTEs and generators.

    The gateway's validation already ensures this; the check guards the transpilation.

    Raises:
        QueryRejectedError: the statement reads anything else.
    """
    try:
        statements = sqlglot.parse(sql, read="spark")
    except SqlglotError as e:
        raise QueryRejectedError("The engine accepts exactly one SELECT statement") from e
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise QueryRejectedError("The engine accepts exactly one SELECT statement")
    statement = statements[0]
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    allowed = {name.lower() for name in views} | ctes
    for table in statement.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            name = table.this.sql_name() if not isinstance(table.this, exp.Anonymous) else ""
            name = (name or table.this.name).lower()
            if name not in _TABLE_FUNCTIONS:
                raise QueryRejectedError(f"Table function not allowed: {name}")
        elif table.args.get("db") or table.args.get("catalog") or table.name.lower() not in allowed:
            raise QueryRejectedError(
                f"The statement names a table outside its authorized data: {table.sql('spark')}"
            )
