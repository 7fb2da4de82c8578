"""Governed results against expectations computed independently from the raw files (DESIGN §4)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from lakemesh.errors import LakemeshError
from lakemesh.model.access import CellPair
from lakemesh.query import plan_query
from tests.factories.gateway import (
    CUSTOMER_ROWS,
    FLAT_COLUMNS,
    PRINCIPAL,
    SALT,
    Lake,
    pair,
    raw_rows,
)

T = "sales.crm.customers"
FORMATS = ["parquet", "csv", "json"]
FLAT = [c[0] for c in FLAT_COLUMNS]


@pytest.fixture(params=FORMATS)
def flat(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    """``sales.crm.customers`` without nested columns, in each format, partitioned by region."""
    lake = Lake(root=tmp_path / "flat")
    rows = [{c: row[c] for c in FLAT} for row in CUSTOMER_ROWS]
    lake.add(T, rows, FLAT_COLUMNS, format=request.param, partition_by=("region",))
    return lake


def norm(column: str, value: Any) -> Any:
    """Compare values across formats: amounts to cents, dates as ISO text."""
    if value is None:
        return None
    if column == "amount":
        return round(float(value), 2)
    if column == "signup":
        return str(value)[:10]
    if column == "id":
        return int(value)
    return value


def normalized(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result = [{c: norm(c, v) for c, v in row.items()} for row in rows]
    return sorted(result, key=lambda row: row.get("id") or 0)


def expected_cells(lake: Lake, *pairs: tuple[Any, set[str]], masks: dict[str, Any] | None = None):
    """DESIGN §4 by hand over the raw rows: pairs are (python predicate or None, columns)."""
    table = lake.tables[T]
    visible = [c for c in table.column_names if any(c in columns for _, columns in pairs)]
    result = []
    for row in raw_rows(table):
        row = {c: norm(c, row[c]) for c in table.column_names}
        holds = [predicate is None or predicate(row) for predicate, _ in pairs]
        if not any(holds):
            continue
        out = {}
        for c in visible:
            covered = any(h and c in columns for h, (_, columns) in zip(holds, pairs, strict=True))
            value = row[c] if covered else None
            if masks and c in masks and value is not None:
                value = masks[c](value)
            out[c] = value
        result.append(out)
    return sorted(result, key=lambda row: row.get("id") or 0)


def test_full_access_reads_every_row_and_column(flat: Lake) -> None:
    rows = flat.rows(f"SELECT * FROM {T}")
    assert normalized(rows) == expected_cells(flat, (None, set(FLAT)))


def test_column_grant_shows_only_granted_columns(flat: Lake) -> None:
    flat.grant(T, pair(None, "id", "name", "region"))
    rows = flat.rows(f"SELECT * FROM {T}")
    assert list(rows[0]) == ["id", "name", "region"]
    assert normalized(rows) == expected_cells(flat, (None, {"id", "name", "region"}))


def test_row_filter_returns_matching_rows_only(flat: Lake) -> None:
    flat.grant(T, pair("amount > 100", *FLAT))
    rows = flat.rows(f"SELECT * FROM {T}")
    assert normalized(rows) == expected_cells(flat, (lambda r: r["amount"] > 100, set(FLAT)))
    assert rows


def test_union_of_pairs_has_cell_level_semantics(flat: Lake) -> None:
    flat.grant(
        T,
        pair("region = 'EU'", "id", "name", "region"),
        pair("amount > 100", "id", "amount"),
        pair("id = 4", "phone"),
    )
    rows = flat.rows(f"SELECT * FROM {T}")
    expected = expected_cells(
        flat,
        (lambda r: r["region"] == "EU", {"id", "name", "region"}),
        (lambda r: r["amount"] > 100, {"id", "amount"}),
        (lambda r: r["id"] == 4, {"phone"}),
    )
    assert normalized(rows) == expected
    assert any(row["name"] is None for row in expected)  # a cell hidden in a visible row
    assert any(row["amount"] is None for row in expected)


def test_a_pair_over_all_rows_makes_its_columns_unconditional(flat: Lake) -> None:
    flat.grant(T, pair(None, "id"), pair("region = 'US'", "name"))
    rows = flat.rows(f"SELECT id, name FROM {T}")
    expected = expected_cells(flat, (None, {"id"}), (lambda r: r["region"] == "US", {"name"}))
    assert normalized(rows) == expected
    assert len(rows) == len(CUSTOMER_ROWS)


def test_masks_apply_after_filters(flat: Lake) -> None:
    flat.grant(
        T,
        pair("region <> 'APAC'", "id", "name", "email", "phone", "secret", "amount"),
        masks={"email": "email_domain", "phone": "last4", "secret": "hash", "name": "redact"},
    )
    flat.tables[T] = flat.tables[T]
    rows = flat.rows(f"SELECT id, name, email, phone, secret, amount FROM {T}")

    def sha(value: str) -> str:
        return hashlib.sha256((SALT + value).encode()).hexdigest()

    expected = expected_cells(
        flat,
        (lambda r: r["region"] != "APAC", {"id", "name", "email", "phone", "secret", "amount"}),
        masks={
            "email": lambda v: v.split("@")[-1],
            "phone": lambda v: "****" + v[-4:],
            "secret": sha,
            "name": lambda v: "[REDACTED]",
        },
    )
    assert normalized(rows) == expected


def test_null_mask_keeps_the_column_type(lake: Lake) -> None:
    lake.grant(T, pair(None, "id", "amount"), masks={"amount": "null"})
    result = lake.query(f"SELECT id, amount FROM {T}")
    assert result.table.column("amount").null_count == len(CUSTOMER_ROWS)
    assert str(result.table.schema.field("amount").type) == "decimal128(10, 2)"


def test_last4_hides_values_of_four_characters_or_fewer(lake: Lake) -> None:
    lake.grant(T, pair(None, "id", "phone"), masks={"id": "last4", "phone": "last4"})
    rows = lake.rows(f"SELECT id, phone FROM {T} ORDER BY phone")
    assert rows[0] == {"id": "****", "phone": "****1001"}  # id 1 is shorter than five characters


def test_masked_values_are_what_filters_see(lake: Lake) -> None:
    lake.grant(T, pair(None, "id", "email"), masks={"email": "redact"})
    assert lake.rows(f"SELECT id FROM {T} WHERE email LIKE 'person1@%'") == []


def test_hash_mask_needs_a_salt(lake: Lake) -> None:
    lake.grant(T, pair(None, "id", "email"), masks={"email": "hash"})
    with pytest.raises(LakemeshError, match="no hash salt"):
        lake.query(f"SELECT email FROM {T}", hash_salt=None)
    result = lake.query(f"SELECT email FROM {T}")
    assert SALT not in result.rewritten_sql


@pytest.mark.parametrize(("region", "ids"), [("EU", [1, 3, 6, 9]), ("US", [2, 5, 7, 10])])
def test_principal_bound_predicates(lake: Lake, region: str, ids: list[int]) -> None:
    # The policy engine binds principal_attribute('region') before the gateway sees the pair.
    lake.grant(T, pair(f"region = '{region}'", "id", "region", "name"))
    rows = lake.rows(f"SELECT id, region FROM {T} ORDER BY id")
    assert rows == [{"id": i, "region": region} for i in ids]


def test_join_across_tables_uses_each_tables_access(lake: Lake) -> None:
    lake.grant(T, pair("region = 'EU'", "id", "name"))
    rows = lake.rows(
        f"SELECT c.id, c.name, o.order_id FROM {T} c JOIN sales.crm.orders o"
        " ON o.customer_id = c.id ORDER BY o.order_id"
    )
    orders = raw_rows(lake.tables["sales.crm.orders"])
    customers = {r["id"]: r for r in raw_rows(lake.tables[T]) if r["region"] == "EU"}
    expected = [
        {
            "id": o["customer_id"],
            "name": customers[o["customer_id"]]["name"],
            "order_id": o["order_id"],
        }
        for o in sorted(orders, key=lambda o: o["order_id"])
        if o["customer_id"] in customers
    ]
    assert rows == expected


def test_table_without_files_is_an_empty_typed_relation(lake: Lake) -> None:
    from tests.factories.gateway import CUSTOMER_COLUMNS

    lake.add("sales.crm.empty", [], CUSTOMER_COLUMNS, partition_by=("region",))
    result = lake.query("SELECT * FROM sales.crm.empty")
    assert result.rows == 0
    assert result.table.column_names == [c[0] for c in CUSTOMER_COLUMNS]


def test_report_names_tables_columns_filters_and_masks(lake: Lake) -> None:
    lake.grant(
        T,
        pair("region = 'EU'", "id", "name", "email", "region"),
        pair("region = 'US'", "id"),
        masks={"email": "email_domain", "name": "redact"},
    )
    result = lake.query(
        f"SELECT id, email FROM {T} c JOIN sales.crm.orders o ON o.customer_id = c.id"
    )
    assert result.columns_read == {T: ("id", "email"), "sales.crm.orders": ("customer_id",)}
    assert result.filters_applied == {T: ("region = 'EU'", "region = 'US'")}
    assert result.masks_applied == {T: {"email": "email_domain"}}
    assert result.rows == len(result.table)
    sizes = sum(Path(f).stat().st_size for t in lake.tables.values() for f in t.files)
    assert result.bytes_scanned == sizes
    star = lake.query(f"SELECT * FROM {T}")
    assert star.columns_read == {T: ("id", "name", "email", "region")}


def test_plan_query_rewrites_without_running(lake: Lake) -> None:
    lake.grant(T, pair("region = 'EU'", "id"))
    planned = plan_query(f"SELECT id FROM {T}", principal=PRINCIPAL, resolve=lake.resolve)
    assert "read_parquet" in planned.sql.lower()
    assert "(region = 'EU')" in planned.sql
    assert planned.tables[0].columns == ("id",)


def test_unavailable_table_is_denied_by_the_resolver(lake: Lake) -> None:
    from lakemesh.errors import AccessDeniedError

    lake.grant(T)
    with pytest.raises(AccessDeniedError, match=f"lacks SELECT on {T}"):
        lake.query(f"SELECT 1 FROM {T}")


def test_pairs_without_columns_of_the_table_deny_the_table(lake: Lake) -> None:
    from lakemesh.errors import AccessDeniedError

    lake.grant(T, CellPair(None, frozenset({"not_a_column"})))
    with pytest.raises(AccessDeniedError, match=f"{PRINCIPAL} lacks SELECT on {T}$"):
        lake.query(f"SELECT 1 FROM {T}")
