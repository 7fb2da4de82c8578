"""Clients of other families: pg8000 (pure Python), the ADBC PostgreSQL driver (Arrow, reading
results through binary COPY), JDBC (pgjdbc, DBeaver's driver), and psycopg's COPY TO STDOUT."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import adbc_driver_postgresql.dbapi as adbc
import pg8000.native
import psycopg
import pytest

from tests.factories.query import BOB, CUSTOMERS, MIA, ORDERS

from .conftest import PgMesh


def test_pg8000_parameters_and_denials(pg: PgMesh) -> None:
    connection = pg8000.native.Connection(
        "mia@marketing", host=pg.host, port=pg.port, password=pg.mesh.token(MIA), database="sales"
    )
    try:
        rows = connection.run(
            f"SELECT customer_id, name FROM {CUSTOMERS} WHERE region = :region "
            "ORDER BY customer_id",
            region="EU",
        )
        with pytest.raises(pg8000.native.DatabaseError) as info:
            connection.run(f"SELECT email FROM {CUSTOMERS}")
    finally:
        connection.close()
    raw = pg.mesh.raw(CUSTOMERS).to_pylist()
    assert rows == sorted([[r["customer_id"], r["name"]] for r in raw if r["region"] == "EU"])
    assert info.value.args[0]["C"] == "42501"


def test_adbc_reads_arrow_through_binary_copy(pg: PgMesh) -> None:
    uri = (
        f"postgresql://{quote(BOB)}:{pg.mesh.token(BOB)}@{pg.host}:{pg.port}/sales?sslmode=disable"
    )
    with adbc.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ORDERS} ORDER BY order_id")
        table = cursor.fetch_arrow_table()
        cursor.execute(f"SELECT * FROM {CUSTOMERS} ORDER BY customer_id")
        customers = cursor.fetch_arrow_table()
        with pytest.raises(adbc.ProgrammingError, match="42501"):
            cursor.execute(f"SELECT email FROM {CUSTOMERS}")
    raw = pg.mesh.raw(ORDERS).sort_by("order_id")
    assert table.to_pylist() == raw.select(table.column_names).to_pylist()
    assert customers.column_names == ["customer_id", "name", "region"]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_copy_to_stdout_is_governed(pg: PgMesh, binary: bool) -> None:
    options = " (FORMAT binary)" if binary else ""
    with pg.connect(BOB) as connection:
        cursor = connection.cursor()
        with cursor.copy(
            f"COPY (SELECT customer_id, name FROM {CUSTOMERS} ORDER BY customer_id) "
            f"TO STDOUT{options}"
        ) as copy:
            if binary:
                copy.set_types(["int8", "text"])
            rows = list(copy.rows())
        denied = f"COPY (SELECT email FROM {CUSTOMERS}) TO STDOUT"
        with (
            pytest.raises(psycopg.Error, match=f"lacks SELECT on {CUSTOMERS}.email"),
            cursor.copy(denied) as copy,
        ):
            list(copy.rows())
        with pytest.raises(psycopg.Error, match="COPY"):
            connection.execute("COPY sales.crm.customers TO '/tmp/leak.csv'")
    expected = sorted((r["customer_id"], r["name"]) for r in pg.mesh.raw(CUSTOMERS).to_pylist())
    assert [(int(a), b) for a, b in rows] == expected


JDBC_JAR = Path("/usr/share/java/postgresql.jar")  # Debian's libpostgresql-jdbc-java


@pytest.mark.skipif(
    shutil.which("java") is None or not JDBC_JAR.exists(),
    reason="needs java and pgjdbc (make test-deps installs libpostgresql-jdbc-java)",
)
def test_jdbc_metadata_prepared_statements_and_denials(pg: PgMesh) -> None:
    done = subprocess.run(
        [
            "java", "-cp", str(JDBC_JAR), str(Path(__file__).with_name("JdbcProbe.java")),
            pg.host, str(pg.port), "bob@marketing", pg.mesh.token(BOB),
            f"SELECT customer_id, name FROM {CUSTOMERS} WHERE region = ? ORDER BY customer_id",
            f"SELECT email FROM {CUSTOMERS}",
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "table crm.customers" in lines
    assert [line for line in lines if line.startswith("column ")] == [
        "column customer_id int8",
        "column name text",
        "column region text",
    ]
    eu = sorted(
        (r["customer_id"], r["name"])
        for r in pg.mesh.raw(CUSTOMERS).to_pylist()
        if r["region"] == "EU"
    )
    assert [line for line in lines if line.startswith("row ")] == [f"row {i} {n}" for i, n in eu]
    assert f"denied 42501 ERROR: {BOB} lacks SELECT on {CUSTOMERS}.email" in lines
