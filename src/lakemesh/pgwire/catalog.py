"""The governed catalog as PostgreSQL's ``pg_catalog`` and ``information_schema`` see it.

For one principal: every table it may DESCRIBE, with only the columns it may read, written into
an in-memory DuckDB as rows of ``pg_class``, ``pg_attribute``, ``information_schema.columns`` and
the rest. The mirror holds names and types only, never data. The connection's database is a
domain: ``pg_catalog`` shows that domain's databases as schemas (as psql's ``\\d`` expects of
``sales.crm.customers`` with ``dbname=sales``) and every other visible domain's databases as
schemas named ``domain.database`` (``"marketing.campaigns".leads`` is read as
``marketing.campaigns.leads``); ``information_schema`` shows every visible domain as a catalog.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from lakemesh.pgwire import types
from lakemesh.pgwire.catalog_macros import PG_TYPE_NAMES, create_macros
from lakemesh.pgwire.catalog_rows import (
    DATABASE_OID,
    INFORMATION_SCHEMA_OID,
    MIRROR_SCHEMAS,
    OWNER_OID,
    PG_CATALOG_OID,
    PUBLIC_OID,
    SCHEMA_OID_BASE,
    TABLE_OID_BASE,
    MirrorRows,
    add_types,
)
from lakemesh.pgwire.catalog_schema import CATALOG_TABLES
from lakemesh.pgwire.catalog_snapshot import Snapshot, schema_name
from lakemesh.pgwire.session import SERVER_VERSION

VERSION = f"PostgreSQL {SERVER_VERSION} (lakemesh governed SQL; DuckDB engine) on x86_64, 64-bit"


def build_mirror(
    found: Snapshot, *, user: str, database: str, own_domain: str
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose ``pgcat`` and ``infoschema`` schemas hold ``found``.

    ``database`` is the connection's database: its domain's databases are the schemas of
    ``pg_catalog`` (the actor's own domain when it names no visible domain); the databases of
    the other domains are schemas too, named ``domain.database`` (:func:`schema_name`).
    """
    connection = duckdb.connect(":memory:")
    connection.execute(_DDL)  # one script: a statement each costs a round of planning
    domains = {t.domain for t in found.tables}
    current = database if database in domains else own_domain
    rows = MirrorRows()
    for index, domain in enumerate([current, *sorted(domains - {current})]):
        rows.add(
            "pg_database",
            oid=DATABASE_OID + index,
            datname=domain,
            datdba=OWNER_OID,
            encoding=6,
            datcollate="C",
            datctype="C",
            datallowconn=True,
            datconnlimit=-1,
        )
    for role_table in ("pg_roles", "pg_authid"):
        rows.add(
            role_table,
            oid=OWNER_OID,
            rolname=user,
            rolsuper=False,
            rolinherit=True,
            rolcanlogin=True,
            rolconnlimit=-1,
        )
    rows.add("pg_user", usename=user, usesysid=OWNER_OID, usesuper=False)
    rows.add("pg_am", oid=2, amname="heap", amhandler="heap_tableam_handler", amtype="t")
    for oid, name in (
        (PG_CATALOG_OID, "pg_catalog"),
        (INFORMATION_SCHEMA_OID, "information_schema"),
        (PUBLIC_OID, "public"),
    ):
        rows.add("pg_namespace", oid=oid, nspname=name, nspowner=OWNER_OID)
    rows.add("schemata", catalog_name=current, schema_name="public", schema_owner=user)
    add_types(rows)
    schemas_seen: set[tuple[str, str]] = set()
    for table in found.tables:
        key = (table.domain, table.database)
        schema_oid = SCHEMA_OID_BASE + table.database_id
        if key not in schemas_seen:
            schemas_seen.add(key)
            rows.add(
                "schemata", catalog_name=table.domain, schema_name=table.database, schema_owner=user
            )
            rows.add(
                "pg_namespace",
                oid=schema_oid,
                nspname=schema_name(table, current),
                nspowner=OWNER_OID,
            )
        rows.add(
            "tables",
            table_catalog=table.domain,
            table_schema=table.database,
            table_name=table.name,
            table_type="BASE TABLE",
            is_insertable_into="NO",
            is_typed="NO",
        )
        for position, column in enumerate(table.columns, start=1):
            wire = types.pg_type(column.arrow)
            type_name = wire.type.name
            precision, scale = _numeric_precision(column.arrow)
            rows.add(
                "columns",
                table_catalog=table.domain,
                table_schema=table.database,
                table_name=table.name,
                column_name=column.name,
                ordinal_position=position,
                is_nullable="YES",
                data_type="ARRAY" if wire.element else PG_TYPE_NAMES.get(type_name, type_name),
                udt_catalog=table.domain,
                udt_schema="pg_catalog",
                udt_name=_udt_name(wire),
                numeric_precision=precision,
                numeric_scale=scale,
                is_updatable="NO",
                is_identity="NO",
                is_generated="NEVER",
                dtd_identifier=str(position),
            )
        oid = TABLE_OID_BASE + table.id
        rows.add(
            "pg_class",
            oid=oid,
            relname=table.name,
            relnamespace=schema_oid,
            reltype=0,
            reloftype=0,
            relowner=OWNER_OID,
            relam=2,
            relfilenode=oid,
            reltablespace=0,
            relpages=0,
            reltuples=-1,
            relallvisible=0,
            reltoastrelid=0,
            relhasindex=False,
            relisshared=False,
            relpersistence="p",
            relkind="r",
            relnatts=len(table.columns),
            relchecks=0,
            relhasrules=False,
            relhastriggers=False,
            relhassubclass=False,
            relrowsecurity=False,
            relforcerowsecurity=False,
            relispopulated=True,
            relreplident="d",
            relispartition=False,
            relrewrite=0,
            relfrozenxid=0,
            relminmxid=0,
        )
        rows.add(
            "pg_tables",
            schemaname=schema_name(table, current),
            tablename=table.name,
            tableowner=user,
            hasindexes=False,
            hasrules=False,
            hastriggers=False,
            rowsecurity=False,
        )
        if table.description:
            rows.add(
                "pg_description",
                objoid=oid,
                classoid=1259,
                objsubid=0,
                description=table.description,
            )
        for position, column in enumerate(table.columns, start=1):
            wire = types.pg_type(column.arrow)
            rows.add(
                "pg_attribute",
                attrelid=oid,
                attname=column.name,
                atttypid=wire.oid,
                attlen=wire.type.size if wire.element is None else -1,
                attnum=position,
                attcacheoff=-1,
                atttypmod=_typmod(column.arrow),
                attndims=1 if wire.element else 0,
                attbyval=False,
                attalign="i",
                attstorage="x",
                attcompression="",
                attnotnull=False,
                atthasdef=False,
                atthasmissing=False,
                attidentity="",
                attgenerated="",
                attisdropped=False,
                attislocal=True,
                attinhcount=0,
                attcollation=0,
            )
    rows.write(connection)
    create_macros(connection, user=user)
    connection.execute("SET enable_external_access = false")
    connection.execute("SET threads = 1")
    connection.execute("SET memory_limit = '256MB'")
    connection.execute("SET lock_configuration = true")
    return connection


_DDL = ";\n".join(
    [
        *(f"CREATE SCHEMA {schema}" for schema in MIRROR_SCHEMAS.values()),
        *(
            f"CREATE TABLE {MIRROR_SCHEMAS[schema]}.{name} ({columns})"
            for (schema, name), columns in CATALOG_TABLES.items()
        ),
    ]
)


def _udt_name(wire: types.ColumnType) -> str:
    return f"_{wire.element.name}" if wire.element is not None else wire.type.name


def _numeric_precision(arrow: pa.DataType) -> tuple[int | None, int | None]:
    if pa.types.is_decimal(arrow):
        return arrow.precision, arrow.scale
    if pa.types.is_integer(arrow):
        return arrow.bit_width - (0 if pa.types.is_unsigned_integer(arrow) else 1), 0
    return None, None


def _typmod(arrow: pa.DataType) -> int:
    if pa.types.is_decimal(arrow):
        return int((arrow.precision << 16) | arrow.scale) + 4
    return -1
