"""Row filters the Parquet statistics prove true for every row are applied as reading every row:
same rows and cells, the filter still reported, and anything the statistics cannot prove (a row
it removes, a NULL, a string, a partition column, a changed file) still filtered."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from lakemesh.query.statistics import holds_for_every_row
from tests.factories.gateway import CUSTOMER_COLUMNS, CUSTOMER_ROWS, FLAT_COLUMNS, Lake, pair

T = "sales.crm.customers"
COLUMNS = ("id", "name", "amount", "signup", "region")
FIRST_SIGNUP = min(row["signup"] for row in CUSTOMER_ROWS)


@pytest.mark.parametrize(
    ("predicate", "proven"),
    [
        ("id >= 1", True),
        ("id > 0 AND id <= 10", True),
        ("id BETWEEN 1 AND 10", True),
        ("10 >= id", True),
        ("id IS NOT NULL", True),
        (f"signup >= DATE '{FIRST_SIGNUP}'", True),
        ("amount >= 0", True),
        ("id > 1", False),  # row 1 is filtered out
        ("id < 10", False),
        ("id = 3", False),
        (f"signup > DATE '{FIRST_SIGNUP}'", False),
        ("id >= 1 OR id < 0", False),  # not a conjunction of comparisons
        ("name >= ''", False),  # strings: statistics may be truncated
        ("region <> 'XX'", False),  # a partition column
        ("CAST(id AS VARCHAR) <> 'x'", False),
        ("id >= 1.5", False),
    ],
)
def test_what_the_statistics_prove(lake: Lake, predicate: str, proven: bool) -> None:
    table = lake.grant(T, pair(predicate, *COLUMNS))
    assert holds_for_every_row(predicate, table) is proven
    result = lake.query(f"SELECT id, name FROM {T} ORDER BY id")
    assert ("WHERE" in result.rewritten_sql) is not proven
    # reported either way, as when it is applied
    assert result.filters_applied == lake.query(f"SELECT id FROM {T} WHERE id < 0").filters_applied
    assert len(result.filters_applied[T]) == 1
    expected = lake.query(f"SELECT id, name FROM {T} WHERE {predicate} ORDER BY id")
    assert result.table.to_pylist() == expected.table.to_pylist()


def test_a_proven_filter_leaves_the_cells_of_other_pairs_alone(lake: Lake) -> None:
    """Cell pairs stay: only the proven pair reads every row."""
    lake.grant(T, pair("id >= 1", "id", "region"), pair("region = 'EU'", "id", "name", "region"))
    rows = lake.rows(f"SELECT id, name FROM {T} ORDER BY id")
    assert [row["id"] for row in rows] == list(range(1, 11))
    assert {row["id"]: row["name"] for row in rows if row["name"] is not None} == {
        row["id"]: row["name"] for row in CUSTOMER_ROWS if row["region"] == "EU"
    }


def test_a_null_in_the_column_is_not_proven(tmp_path: Path) -> None:
    lake = Lake(root=tmp_path / "lake")
    rows = [dict(row, id=None) if row["id"] == 4 else row for row in CUSTOMER_ROWS]
    lake.add(T, rows, FLAT_COLUMNS)
    table = lake.grant(T, pair("id >= 1", "id", "name"))
    assert not holds_for_every_row("id >= 1", table)
    assert lake.rows(f"SELECT count(*) AS n FROM {T}") == [{"n": 9}]


def test_a_rewritten_file_is_proved_again(tmp_path: Path) -> None:
    """Statistics are read per file version: new rows under the same path are filtered again,
    and a cached plan without the filter is not used for them."""
    lake = Lake(root=tmp_path / "lake")
    lake.add(T, CUSTOMER_ROWS, CUSTOMER_COLUMNS)
    lake.grant(T, pair("id >= 1", "id", "name"))
    sql = f"SELECT count(*) AS n, min(id) AS low FROM {T}"
    assert lake.rows(sql) == [{"n": 10, "low": 1}]
    (path,) = lake.tables[T].files
    before = os.stat(path)
    rows = [*CUSTOMER_ROWS, dict(CUSTOMER_ROWS[0], id=-7, signup=datetime.date(2020, 1, 1))]
    access = lake.tables[T].access
    lake.add(T, rows, CUSTOMER_COLUMNS, access=access)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    assert lake.rows(sql) == [{"n": 10, "low": 1}]  # the new row is filtered out
    assert "WHERE" in lake.query(sql).rewritten_sql
