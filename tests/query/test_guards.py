"""Cell guards: a user's expression never fails on a filtered-out row, and safe ones are unwrapped.

``sales.crm.accounts`` is one Parquet file (no partition to prune) whose hidden rows hold values
every probe below fails on: text that is no number, a date no timestamp can hold, an invalid
regular expression, an integer at the edge of BIGINT, a zero divisor. The row filter reads two
columns, so the engine cannot apply it in the scan: without guards, the probes' single-column
predicates are evaluated in the scan first and fail on a hidden row, naming its value.
"""

from __future__ import annotations

import pytest
import sqlglot

from lakemesh.model.access import CellPair, ColumnAccess
from lakemesh.query.guards import EVERY_CELL, CellGuards, cell_guards
from lakemesh.query.table import TableAccess
from tests.factories.gateway import (
    ACCOUNT_COLUMNS,
    ACCOUNTS,
    ACCOUNTS_ROW_FILTER,
    VISIBLE_ACCOUNTS,
    Lake,
    pair,
)

T = ACCOUNTS
EVERYTHING = [c[0] for c in ACCOUNT_COLUMNS]
ROW_FILTER = ACCOUNTS_ROW_FILTER
VISIBLE_IDS = VISIBLE_ACCOUNTS
HIDDEN_MARKERS = ("hidden-code", "1097", "(hidden", "9223372036854775000")


PROBES = [
    # casts that fail on a hidden value, written out or implied by a comparison
    f"SELECT id FROM {T} WHERE CAST(code AS INT) > 0",
    f"SELECT id FROM {T} WHERE code = 11 OR code = 13",
    f"SELECT id FROM {T} WHERE code IN (11, 13)",
    f"SELECT id FROM {T} WHERE opened < TIMESTAMP '2100-01-01'",
    f"SELECT id FROM {T} WHERE opened < DATE '2100-01-01' + INTERVAL 1 DAY",
    # a regular expression made of a hidden value
    f"SELECT id FROM {T} WHERE regexp_matches('x', pattern)",
    # arithmetic that overflows, and a division by zero
    f"SELECT id FROM {T} WHERE balance + 1000 > 0",
    f"SELECT id FROM {T} WHERE 100 // divisor > 0",
    f"SELECT id FROM {T} WHERE 100 / divisor > 0",
    f"SELECT id FROM {T} WHERE 100 % divisor >= 0",
    # the failing expression reached through an alias, a CTE, a join, a subquery, HAVING
    f"SELECT id FROM (SELECT id, CAST(code AS INT) AS n FROM {T}) WHERE n > 0",
    f"WITH a AS (SELECT id, balance + 1000 AS b FROM {T}) SELECT id FROM a WHERE b IS NOT NULL",
    f"SELECT id, CAST(code AS INT) AS n FROM {T} WHERE n > 0",
    f"SELECT a.id FROM {T} a JOIN {T} b ON CAST(a.code AS INT) = b.id + 10",
    f"SELECT id FROM {T} a WHERE EXISTS (SELECT 1 WHERE CAST(a.code AS INT) = a.id + 10)",
    f"SELECT CAST(code AS INT) AS n, count(*) AS id FROM {T} GROUP BY n HAVING n > 0",
    # a set operation converting a DATE column to its other branch's TIMESTAMP
    f"SELECT id FROM (SELECT id, opened AS t FROM {T} UNION ALL SELECT 9, TIMESTAMP '2020-01-01')"
    " WHERE t < TIMESTAMP '2100-01-01' AND id < 9",
]


@pytest.mark.parametrize("sql", PROBES)
def test_filtered_out_rows_never_fail_a_user_expression(accounts: Lake, sql: str) -> None:
    rows = accounts.rows(sql)
    assert rows
    assert {row["id"] for row in rows} <= VISIBLE_IDS | {1}  # HAVING's count(*) is 1
    assert not [m for m in HIDDEN_MARKERS if m in repr(rows)]


def test_an_error_on_a_visible_value_still_fails_the_query(accounts: Lake) -> None:
    with pytest.raises(Exception, match="Query failed") as info:
        accounts.query(f"SELECT id FROM {T} WHERE CAST(pattern AS INT) > 0")
    assert "x+" in str(info.value)
    assert not [m for m in HIDDEN_MARKERS if m in str(info.value)]


SAFE = [
    f"SELECT id, code FROM {T} WHERE id > 1 AND code LIKE '1%'",
    f"SELECT id FROM {T} WHERE opened >= DATE '2024-01-02' AND code IN ('11', '13')",
    f"SELECT id FROM {T} WHERE balance BETWEEN 0 AND 1000 OR divisor IS NULL",
    f"SELECT sum(balance * 2) AS total FROM {T} WHERE lower(code) = '13' GROUP BY region",
    f"SELECT a.id FROM {T} a JOIN {T} b ON a.id = b.divisor WHERE a.opened <= b.opened",
    f"SELECT CAST(code AS INT) + balance AS n FROM {T} ORDER BY n",
]


@pytest.mark.parametrize("sql", SAFE)
def test_expressions_that_cannot_fail_read_unguarded_cells(accounts: Lake, sql: str) -> None:
    result = accounts.query(sql)
    assert "CASE" not in result.rewritten_sql
    assert result.table.num_rows > 0


def test_cell_semantics_keep_their_case_whatever_the_statement(accounts: Lake) -> None:
    accounts.grant(T, pair(ROW_FILTER, *EVERYTHING), pair("id = 3", "id", "region"))
    result = accounts.query(f"SELECT id, code FROM {T} WHERE id > 0")
    assert result.rewritten_sql.count("CASE") == len(EVERYTHING) - 2
    assert result.table.to_pylist() == [{"id": 1, "code": "11"}, {"id": 3, "code": "13"}]


def _table(*pairs: CellPair) -> TableAccess:
    return TableAccess(
        name=T,
        format="parquet",
        location="/lake",
        files=(),
        columns=tuple((c[0], c[1]) for c in ACCOUNT_COLUMNS),
        partition_columns=(),
        access=ColumnAccess(pairs=pairs),
    )


ORDERS = TableAccess(
    name="sales.crm.orders",
    format="parquet",
    location="/lake",
    files=(),
    columns=(("order_id", "BIGINT"), ("note", "VARCHAR"), ("region", "BIGINT")),
    partition_columns=(),
    access=ColumnAccess(pairs=(pair(None, "order_id", "note", "region"),)),
)


def _only(*columns: str) -> CellGuards:
    return CellGuards(columns=frozenset(columns))


GUARDS: list[tuple[str, CellGuards]] = [
    ("SELECT id FROM t WHERE id > 1", CellGuards()),
    ("SELECT id FROM t WHERE CAST(code AS INT) > 1", _only("code")),
    ("SELECT id FROM t WHERE code = 1", _only("code")),
    ("SELECT id FROM t WHERE code = '1' AND opened < DATE '2020-01-01'", CellGuards()),
    ("SELECT id FROM t WHERE code", _only("code")),
    ("SELECT CAST(code AS INT) FROM t WHERE id > 1", CellGuards()),
    ("SELECT sum(CAST(code AS INT)) FROM t HAVING sum(balance) / 0 > 1", CellGuards()),
    ("SELECT x FROM (SELECT CAST(code AS INT) AS x FROM t) WHERE x > 0", EVERY_CELL),
    ("SELECT x FROM (SELECT CAST(code AS INT) x, id FROM t) WHERE id > 0", CellGuards()),
    ("SELECT * FROM (SELECT balance + 1 b FROM t) s WHERE s IS NOT NULL", _only("balance")),
    ("SELECT id FROM t JOIN o ON CAST(note AS INT) = id", CellGuards()),  # orders: all rows
    ("SELECT id FROM t JOIN o ON CAST(code AS INT) = order_id", _only("code")),
    ("SELECT id FROM t JOIN o USING (id)", CellGuards()),
    ("SELECT id FROM t JOIN o USING (region)", EVERY_CELL),  # text and a number
    ("SELECT id FROM t NATURAL JOIN o", EVERY_CELL),
    (
        "SELECT * FROM (SELECT opened FROM t UNION ALL SELECT NOW()) WHERE opened IS NULL",
        EVERY_CELL,
    ),
    ("SELECT id FROM t WHERE t.pattern.x = 1", EVERY_CELL),  # a struct field: type unknown
    ("SELECT id FROM t, range(3) r WHERE CAST(code AS INT) > 1", EVERY_CELL),
    ("SELECT id FROM t WHERE list_filter([1], x -> x > id) = [1]", EVERY_CELL),
    ("SELECT id FROM t WHERE CASE WHEN id > 1 THEN code ELSE 5 END = 5", _only("code", "id")),
    ("SELECT id FROM t WHERE CASE id WHEN 1 THEN 'a' ELSE 'b' END = 'a'", CellGuards()),
    ("SELECT id FROM t WHERE id < (SELECT 0.5 * avg(balance) FROM t)", CellGuards()),
    ("SELECT id FROM t WHERE extract(year FROM opened) = 2024", CellGuards()),
    ("SELECT id FROM t WHERE substring(code, 1, 2) = '1'", CellGuards()),
    ("SELECT id FROM t WHERE substring(code, 1, 2) = 1", _only("code")),
    ("SELECT id FROM t QUALIFY row_number() OVER (ORDER BY CAST(code AS INT)) = 1", CellGuards()),
]


@pytest.mark.parametrize(("sql", "expected"), GUARDS)
def test_cell_guards(sql: str, expected: CellGuards) -> None:
    statement = sqlglot.parse_one(sql, read="duckdb")
    assert cell_guards(statement, [_table(pair(ROW_FILTER, *EVERYTHING)), ORDERS]) == expected


def test_tables_read_in_full_need_no_guard() -> None:
    statement = sqlglot.parse_one("SELECT id FROM t WHERE CAST(code AS INT) > 1", read="duckdb")
    assert cell_guards(statement, [_table(pair(None, *EVERYTHING))]) == CellGuards()
