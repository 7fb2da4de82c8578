"""Time travel: a query reading an Iceberg snapshot or a Delta version it names.

Two spellings are accepted on a table reference, both with a whole number: DuckDB's
``FROM t AT (VERSION => 3)`` and Spark's and Trino's ``FROM t FOR VERSION AS OF 3`` (also
``VERSION AS OF 3``). For an Iceberg table the number is a snapshot id, for a Delta table a
version. Every other clause that reaches another state of a table stays refused.
"""

from __future__ import annotations

from sqlglot import exp

from lakemesh.errors import QueryRejectedError

TIME_TRAVEL_OPTIONS = ("version", "when")
"""The table clauses :func:`snapshot_of` reads."""


def snapshot_of(table: exp.Table) -> str | None:
    """The snapshot or version ``table`` travels to, None when it names none.

    >>> from sqlglot import parse_one
    >>> def table(sql: str) -> exp.Table:
    ...     return parse_one(sql, read="duckdb").find(exp.Table)
    >>> snapshot_of(table("SELECT * FROM d.db.t AT (VERSION => 3)"))
    '3'
    >>> snapshot_of(table("SELECT * FROM d.db.t FOR VERSION AS OF 7"))
    '7'

    Raises:
        QueryRejectedError: the clause is not a version, or its value not a whole number.
    """
    version, when = table.args.get("version"), table.args.get("when")
    if version is None and when is None:
        return None
    if version is not None and when is not None:
        raise _refused("Name one snapshot or version per table reference", table)
    if isinstance(version, exp.Version):
        kind, value = str(version.this).upper(), version.expression
        if kind != "VERSION" or str(version.args.get("kind", "")).upper() != "AS OF":
            raise _refused(
                f"Not allowed in a query: {kind} AS OF on a table (use VERSION AS OF)", table
            )
    elif isinstance(when, exp.HistoricalData):
        kind, value = str(when.args.get("kind", "")).upper(), when.expression
        if str(when.this).upper() != "AT" or kind != "VERSION":
            raise _refused(
                f"Not allowed in a query: AT ({kind}) on a table (use AT (VERSION => n))", table
            )
    else:
        raise _refused("Not allowed in a query: this clause on a table", table)
    if not (isinstance(value, exp.Literal) and not value.is_string and value.name.isdigit()):
        raise _refused("A snapshot or version must be a whole number", table)
    return str(int(value.name))


def _refused(message: str, table: exp.Table) -> QueryRejectedError:
    return QueryRejectedError(message, details={"construct": table.sql("duckdb")})
