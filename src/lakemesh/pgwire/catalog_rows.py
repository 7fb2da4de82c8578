"""The rows of the catalog mirror: the schemas and OIDs they live under, the rows of each mirror
table gathered and written at once, and the rows of ``pg_type`` (every scalar type the wire
sends, and its array type)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from lakemesh.pgwire import types
from lakemesh.pgwire.catalog_schema import CATALOG_TABLES

PG_CATALOG = "pgcat"
INFORMATION_SCHEMA = "infoschema"
MIRROR_SCHEMAS = {"pg_catalog": PG_CATALOG, "information_schema": INFORMATION_SCHEMA}
PG_CATALOG_OID, INFORMATION_SCHEMA_OID, PUBLIC_OID = 11, 13000, 2200
DATABASE_OID = 16384
SCHEMA_OID_BASE, TABLE_OID_BASE, TYPE_OID_BASE = 20000, 100000, 5_000_000
OWNER_OID = 10


class MirrorRows:
    """Rows to insert, per mirror table; columns left out are NULL."""

    def __init__(self) -> None:
        self.by_table: dict[str, list[dict[str, object]]] = {}

    def add(self, table: str, **values: object) -> None:
        self.by_table.setdefault(table, []).append(values)

    def write(self, connection: duckdb.DuckDBPyConnection) -> None:
        """One INSERT per table, from Arrow (DuckDB's executemany runs a statement per row)."""
        for table, rows in self.by_table.items():
            names = sorted({name for row in rows for name in row})
            source = pa.table({name: [row.get(name) for row in rows] for name in names})
            connection.register("lakemesh_rows", source)
            try:
                connection.execute(
                    f"INSERT INTO {_schema_of(table)}.{table} BY NAME SELECT * FROM lakemesh_rows"
                )
            finally:
                connection.unregister("lakemesh_rows")


def _schema_of(table: str) -> str:
    for schema, name in CATALOG_TABLES:
        if name == table:
            return MIRROR_SCHEMAS[schema]
    raise KeyError(table)


def add_types(rows: MirrorRows) -> None:
    """The ``pg_type`` rows of every scalar type the wire sends, and of its array type."""
    for scalar in types.SCALAR_TYPES:
        receive = _RECEIVE.get(scalar.name, f"{scalar.name}_recv")
        rows.add(
            "pg_type",
            oid=scalar.oid,
            typname=scalar.name,
            typinput=f"{scalar.name}in",
            typoutput=f"{scalar.name}out",
            typreceive=receive,
            typsend=receive.replace("recv", "send"),
            typnamespace=PG_CATALOG_OID,
            typowner=OWNER_OID,
            typlen=scalar.size,
            typbyval=scalar.size in (1, 2, 4, 8),
            typtype="b",
            typcategory=_category(scalar),
            typispreferred=False,
            typisdefined=True,
            typdelim=",",
            typrelid=0,
            typelem=0,
            typarray=scalar.array_oid,
            typnotnull=False,
            typbasetype=0,
            typtypmod=-1,
            typndims=0,
            typcollation=0,
        )
        if scalar.array_oid:
            rows.add(
                "pg_type",
                oid=scalar.array_oid,
                typname=f"_{scalar.name}",
                typinput="array_in",
                typoutput="array_out",
                typreceive="array_recv",
                typsend="array_send",
                typnamespace=PG_CATALOG_OID,
                typowner=OWNER_OID,
                typlen=-1,
                typbyval=False,
                typtype="b",
                typcategory="A",
                typispreferred=False,
                typisdefined=True,
                typdelim=",",
                typrelid=0,
                typelem=scalar.oid,
                typarray=0,
                typnotnull=False,
                typbasetype=0,
                typtypmod=-1,
                typndims=0,
                typcollation=0,
            )


# The binary input functions of the types (what ADBC's driver maps types by).
_RECEIVE = {
    name: f"{name}recv"
    for name in ("bool", "bytea", "int8", "int2", "int4", "text", "oid", "float4", "float8",
                 "varchar")
}  # fmt: skip


def _category(scalar: types.PgType) -> str:
    if scalar in (
        types.INT2,
        types.INT4,
        types.INT8,
        types.FLOAT4,
        types.FLOAT8,
        types.NUMERIC,
        types.OID,
    ):
        return "N"
    if scalar in (types.TEXT_TYPE, types.VARCHAR):
        return "S"
    if scalar in (types.DATE, types.TIME, types.TIMESTAMP, types.TIMESTAMPTZ):
        return "D"
    return {types.BOOL.oid: "B", types.INTERVAL.oid: "T"}.get(scalar.oid, "U")
