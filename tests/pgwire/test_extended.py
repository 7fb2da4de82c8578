"""The extended query protocol and binary encodings: psycopg 3 (text and binary, parameters),
asyncpg (prepared statements, portals with row limits), every type both ways."""

from __future__ import annotations

import asyncio
import datetime
import decimal
from typing import Any

import asyncpg
import psycopg
import pytest

from tests.factories.query import BOB, CUSTOMERS, MIA, ORDERS

from .conftest import PgMesh

# One literal of each type the engine returns, and the value a client must read back.
TYPED: list[tuple[str, Any]] = [
    ("CAST(7 AS SMALLINT)", 7),
    ("CAST(-70000 AS INTEGER)", -70000),
    ("CAST(9007199254740993 AS BIGINT)", 9007199254740993),
    ("CAST(18446744073709551615 AS UBIGINT)", decimal.Decimal("18446744073709551615")),
    ("CAST('-12345.678' AS DECIMAL(12, 3))", decimal.Decimal("-12345.678")),
    ("CAST('0.0001' AS DECIMAL(9, 4))", decimal.Decimal("0.0001")),
    ("CAST(1.5 AS REAL)", 1.5),
    ("CAST(0.1 AS DOUBLE)", 0.1),
    ("CAST('-inf' AS DOUBLE)", float("-inf")),
    ("CAST(1e300 AS DOUBLE)", 1e300),
    ("'héllo, \"world\"'", 'héllo, "world"'),
    ("TRUE", True),
    ("DATE '2024-02-29'", datetime.date(2024, 2, 29)),
    ("TIMESTAMP '2024-02-29 13:14:15.123456'", datetime.datetime(2024, 2, 29, 13, 14, 15, 123456)),
    (
        "TIMESTAMPTZ '2024-02-29 13:14:15+00'",
        datetime.datetime(2024, 2, 29, 13, 14, 15, tzinfo=datetime.UTC),
    ),
    ("TIME '01:02:03.5'", datetime.time(1, 2, 3, 500000)),
    ("INTERVAL '3 days 4 hours'", datetime.timedelta(days=3, hours=4)),
    ("[1, 2, NULL]", [1, 2, None]),
    ("['a', 'b c', NULL]", ["a", "b c", None]),
    ("{'age': 3, 'city': 'Oslo'}", {"age": 3, "city": "Oslo"}),
    ("CAST(NULL AS VARCHAR)", None),
]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_every_type_reads_back_in_text_and_binary(pg: PgMesh, binary: bool) -> None:
    sql = "SELECT " + ", ".join(f"{expression} AS c{i}" for i, (expression, _) in enumerate(TYPED))
    with pg.connect(MIA) as connection:
        row = connection.cursor(binary=binary).execute(sql).fetchone()
    assert row is not None
    for (expression, expected), value in zip(TYPED, row, strict=True):
        assert value == expected, expression
        assert type(value) is type(expected), expression


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_nulls_between_values_of_every_type(pg: PgMesh, binary: bool) -> None:
    expressions = [expression for expression, value in TYPED if value is not None]
    columns = ", ".join(f"CASE WHEN i = 1 THEN NULL ELSE {e} END AS c{n}" for n, e in
                        enumerate(expressions))  # fmt: skip
    with pg.connect(MIA) as connection:
        rows = (
            connection.cursor(binary=binary)
            .execute(f"SELECT {columns} FROM (VALUES (0), (1), (2)) AS t(i) ORDER BY i")
            .fetchall()
        )
    expected = [value for _, value in TYPED if value is not None]
    assert rows[0] == rows[2] == tuple(expected)
    assert rows[1] == (None,) * len(expected)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_parameters_are_bound_and_governed(pg: PgMesh, binary: bool) -> None:
    with pg.connect(BOB) as connection:
        cursor = connection.cursor(binary=binary)
        rows = cursor.execute(
            f"SELECT customer_id, name FROM {CUSTOMERS} WHERE region = %s AND customer_id > %s "
            "ORDER BY customer_id",
            ["EU", 2],
        ).fetchall()
        expected = sorted(
            (r["customer_id"], r["name"])
            for r in pg.mesh.raw(CUSTOMERS).to_pylist()
            if r["region"] == "EU" and r["customer_id"] > 2
        )
        assert rows == expected
        with pytest.raises(psycopg.Error) as info:
            cursor.execute(f"SELECT email FROM {CUSTOMERS} WHERE region = %s", ["EU"])
        assert info.value.sqlstate == "42501"
        # a parameter is a value, never SQL
        rows = cursor.execute(
            f"SELECT count(*) FROM {CUSTOMERS} WHERE name = %s", ["x' OR '1'='1"]
        ).fetchall()
        assert rows == [(0,)]


def test_asyncpg_prepared_statements_and_portals(pg: PgMesh) -> None:
    token = pg.mesh.token(MIA)

    async def main() -> None:
        connection = await asyncpg.connect(
            host=pg.host, port=pg.port, user=MIA, password=token, database="sales", ssl=False
        )
        try:
            statement = await connection.prepare(
                f"SELECT order_id, amount, status FROM {ORDERS} WHERE status = $1 ORDER BY order_id"
            )
            assert [a.name for a in statement.get_attributes()] == ["order_id", "amount", "status"]
            shipped = await statement.fetch("shipped")
            raw = sorted(
                (r["order_id"], r["amount"], r["status"])
                for r in pg.mesh.raw(ORDERS).to_pylist()
                if r["status"] == "shipped"
            )
            assert [tuple(r) for r in shipped] == raw
            # a cursor reads through a portal a few rows at a time (Execute with a row limit)
            async with connection.transaction():
                fetched = [tuple(r) async for r in statement.cursor("shipped", prefetch=3)]
            assert fetched == raw
            assert await connection.fetchval("SELECT 1 + 1") == 2
            # untyped parameters take the type of the column they are compared with
            typed = await connection.fetch(
                f"SELECT order_id FROM {ORDERS} WHERE order_id > $1 AND amount >= $2 "
                "ORDER BY order_id LIMIT $3",
                1010,
                20.0,
                5,
            )
            assert [r["order_id"] for r in typed] == sorted(
                r["order_id"]
                for r in pg.mesh.raw(ORDERS).to_pylist()
                if r["order_id"] > 1010 and r["amount"] >= 20.0
            )[:5]
        finally:
            await connection.close()

    asyncio.run(main())


def test_large_results_stream_in_batches(pg: PgMesh) -> None:
    with pg.connect("user:sam@sales") as connection:
        cursor = connection.cursor(binary=True)
        cursor.execute("SELECT i, i * 2 AS j FROM range(200000) t(i)")
        total = count = 0
        while batch := cursor.fetchmany(50_000):
            count += len(batch)
            total += sum(row[1] for row in batch)
    assert count == 200_000
    assert total == 2 * sum(range(200_000))
