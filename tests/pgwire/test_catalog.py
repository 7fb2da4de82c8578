"""Catalog introspection answered from the governed catalog: information_schema, the pg_catalog
psql's \\dt and \\d use, SQLAlchemy reflection and pandas.read_sql, version(), current_schema()."""

from __future__ import annotations

import os
import subprocess
from urllib.parse import quote

import pandas
import sqlalchemy

from tests.factories.query import BOB, CUSTOMERS, MIA, NOBODY

from .conftest import PgMesh


def psql(pg: PgMesh, principal: str, *commands: str) -> subprocess.CompletedProcess[str]:
    full = principal if ":" in principal else f"user:{principal}"
    arguments = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", pg.host, "-p", str(pg.port)]
    arguments += ["-U", principal, "-d", "sales"]
    for command in commands:
        arguments += ["-c", command]
    environment = {**os.environ, "PGPASSWORD": pg.mesh.token(full), "PGSSLMODE": "disable"}
    return subprocess.run(
        arguments, capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def test_information_schema_shows_what_the_principal_may_describe_and_read(pg: PgMesh) -> None:
    def columns(principal: str) -> list[tuple[str, str, str]]:
        with pg.connect(principal) as connection:
            return connection.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE table_catalog = 'sales' AND table_name = 'customers' "
                "ORDER BY ordinal_position"
            ).fetchall()

    assert [c[2] for c in columns(BOB)] == ["customer_id", "name", "region"]
    assert "email" not in [c[2] for c in columns(MIA)]
    assert [c[2] for c in columns("user:sam@sales")][:3] == ["customer_id", "name", "email"]
    assert columns(NOBODY) == []
    with pg.connect(NOBODY) as connection:
        tables = connection.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert tables == []


def test_catalog_functions(pg: PgMesh) -> None:
    with pg.connect(MIA) as connection:
        version, schema, database, user = connection.execute(
            "SELECT version(), current_schema(), current_database(), current_user"
        ).fetchone()  # type: ignore[misc]
    assert version.startswith("PostgreSQL 16.0 (lakemesh")
    assert (schema, database, user) == ("public", "sales", MIA)


def test_psql_lists_and_describes_tables(pg: PgMesh) -> None:
    listed = psql(pg, "bob@marketing", "\\dt crm.*", f"\\d {CUSTOMERS}")
    assert listed.returncode == 0, listed.stderr
    assert "customers" in listed.stdout
    assert "orders" in listed.stdout
    described = listed.stdout.split("Table")[-1]
    assert "customer_id" in described
    assert "bigint" in described
    assert "email" not in described


def test_sqlalchemy_reflection_and_pandas(pg: PgMesh) -> None:
    token = pg.mesh.token(MIA)
    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg://{quote(MIA)}:{token}@{pg.host}:{pg.port}/sales?sslmode=disable"
    )
    try:
        inspector = sqlalchemy.inspect(engine)
        assert "crm" in inspector.get_schema_names()
        assert inspector.get_table_names(schema="crm") == ["customers", "orders", "stores"]
        columns = inspector.get_columns("customers", schema="crm")
        assert [c["name"] for c in columns] == [
            "customer_id",
            "name",
            "segment",
            "lifetime_value",
            "region",
        ]
        assert isinstance(columns[0]["type"], sqlalchemy.BigInteger)
        table = sqlalchemy.Table(
            "customers", sqlalchemy.MetaData(), schema="crm", autoload_with=engine
        )
        assert "email" not in table.columns
        frame = pandas.read_sql(f"SELECT * FROM {CUSTOMERS} ORDER BY customer_id", engine)
        whole = pandas.read_sql_table("customers", engine, schema="crm")
    finally:
        engine.dispose()
    raw = pg.mesh.raw(CUSTOMERS).sort_by("customer_id")
    assert frame["customer_id"].tolist() == raw["customer_id"].to_pylist()
    assert sorted(whole["name"]) == sorted(raw["name"].to_pylist())
    assert list(frame.columns) == list(whole.columns) == [c["name"] for c in columns]


def test_psql_meta_commands_answer(pg: PgMesh) -> None:
    commands = ["\\dv", "\\di", "\\df", "\\dT", "\\du", "\\dn+", "\\d+ crm.customers", "\\dt+",
                "\\d", "\\dp", "\\dx", "\\l+", "\\db", "\\conninfo"]  # fmt: skip
    done = psql(pg, "bob@marketing", *commands)
    assert done.returncode == 0, done.stderr


def test_psql_shows_nothing_to_a_principal_without_grants(pg: PgMesh) -> None:
    done = psql(pg, NOBODY, "\\dt *.*", "\\d sales.crm.customers")
    assert done.returncode != 0
    assert "customers" not in done.stdout
    assert "Did not find any relation" in done.stderr
