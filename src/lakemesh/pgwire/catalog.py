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

import threading
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sqlalchemy.orm import Session
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.authz import decide
from lakemesh.catalog.tables import table_name, visible_tables
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.pgwire import types
from lakemesh.pgwire.catalog_schema import CATALOG_TABLES
from lakemesh.pgwire.session import SERVER_VERSION

PG_CATALOG = "pgcat"
INFORMATION_SCHEMA = "infoschema"
MIRROR_SCHEMAS = {"pg_catalog": PG_CATALOG, "information_schema": INFORMATION_SCHEMA}
PG_CATALOG_OID, INFORMATION_SCHEMA_OID, PUBLIC_OID = 11, 13000, 2200
DATABASE_OID = 16384
SCHEMA_OID_BASE, TABLE_OID_BASE, TYPE_OID_BASE = 20000, 100000, 5_000_000
OWNER_OID = 10
VERSION = f"PostgreSQL {SERVER_VERSION} (lakemesh governed SQL; DuckDB engine) on x86_64, 64-bit"


@dataclass(frozen=True)
class Column:
    name: str
    arrow: pa.DataType


@dataclass(frozen=True)
class CatalogTable:
    """A table the principal may DESCRIBE, with the columns it may read."""

    id: int
    domain: str
    database: str
    database_id: int
    name: str
    description: str
    columns: tuple[Column, ...]


@dataclass
class Snapshot:
    """What one principal may see of the catalog."""

    tables: list[CatalogTable] = field(default_factory=list)


def snapshot(session: Session, *, actor: Actor) -> Snapshot:
    """The tables ``actor`` may DESCRIBE, each with the columns it may SELECT (types as Arrow)."""
    found = Snapshot()
    for row in visible_tables(session, actor=actor):
        name = table_name(row)
        decision = decide(session, actor=actor, permission=Permission.SELECT, resource=name)
        readable = (
            set(decision.access.columns)
            if decision.allowed and decision.access is not None
            else set()
        )
        columns = [(c.name, c.type) for c in row.columns if c.name in readable]
        found.tables.append(
            CatalogTable(
                id=row.id,
                domain=name.domain,
                database=name.database or row.database.name,
                database_id=row.database.id,
                name=name.table or row.name,
                description=row.description or "",
                columns=tuple(Column(n, arrow) for n, arrow in _arrow_types(columns)),
            )
        )
    return found


_types_lock = threading.Lock()
_types_connection: list[duckdb.DuckDBPyConnection] = []


def _arrow_types(columns: list[tuple[str, str]]) -> list[tuple[str, pa.DataType]]:
    """The Arrow type the engine returns for each (name, DuckDB type) column."""
    if not columns:
        return []
    with _types_lock:
        if not _types_connection:
            connection = duckdb.connect(":memory:")
            connection.execute("SET enable_external_access = false")
            _types_connection.append(connection)
        connection = _types_connection[0]
        result = []
        for name, type_text in columns:
            arrow = _type_cache.get(type_text)
            if arrow is None:
                arrow = _type_cache[type_text] = _arrow_type(connection, type_text)
            result.append((name, arrow))
        return result


_type_cache: dict[str, pa.DataType] = {}


def _arrow_type(connection: duckdb.DuckDBPyConnection, type_text: str) -> pa.DataType:
    """The Arrow type of a DuckDB type, as DuckDB returns it (text when it is no type): the type is
    parsed and written back by sqlglot first, so nothing but a type reaches the SQL."""
    try:
        canonical = exp.DataType.build(type_text, dialect="duckdb").sql("duckdb")
        cast = connection.execute(f"SELECT CAST(NULL AS {canonical}) AS c")
        return cast.arrow().schema.field(0).type
    except (SqlglotError, duckdb.Error, ValueError):
        return pa.string()


def schema_name(table: CatalogTable, current: str) -> str:
    """The ``pg_catalog`` schema of ``table`` for a connection to the domain ``current``: its
    database, prefixed with its domain when that is another one.

    >>> table = CatalogTable(1, "marketing", "campaigns", 1, "leads", "", ())
    >>> schema_name(table, "sales"), schema_name(table, "marketing")
    ('marketing.campaigns', 'campaigns')
    """
    return table.database if table.domain == current else f"{table.domain}.{table.database}"


# -- the mirror ---------------------------------------------------------------------------------

_PG_TYPE_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
}


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
    rows = _Rows()
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
    _types(rows)
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
                data_type="ARRAY" if wire.element else _PG_TYPE_NAMES.get(type_name, type_name),
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
    _macros(connection, user=user)
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


def _types(rows: _Rows) -> None:
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


class _Rows:
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


MACROS: dict[str, str] = {
    "format_type": (
        "(t, m) AS (SELECT CASE WHEN typname = 'numeric' AND m > 4 THEN "
        "'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')' "
        "WHEN starts_with(typname, '_') THEN lm_type_display(substr(typname, 2)) || '[]' "
        "ELSE lm_type_display(typname) END FROM pgcat.pg_type WHERE oid = t)"
    ),
    "pg_get_userbyid": "(o) AS {user}",
    "pg_get_expr": "(e, r, p := NULL) AS NULL",
    "pg_get_indexdef": "(i, c := 0, p := NULL) AS NULL",
    "pg_get_constraintdef": "(c, p := NULL) AS NULL",
    "pg_get_viewdef": "(v, p := NULL) AS NULL",
    "pg_get_statisticsobjdef_columns": "(o) AS NULL",
    "pg_get_triggerdef": "(o, p := NULL) AS NULL",
    "pg_get_serial_sequence": "(t, c) AS NULL",
    "pg_get_partkeydef": "(o) AS NULL",
    "pg_relation_is_publishable": "(o) AS false",
    "pg_table_is_visible": "(o) AS true",
    "pg_type_is_visible": "(o) AS true",
    "pg_collation_is_visible": "(o) AS true",
    "pg_opclass_is_visible": "(o) AS true",
    "pg_function_is_visible": "(o) AS true",
    "pg_encoding_to_char": "(e) AS 'UTF8'",
    "pg_total_relation_size": "(o) AS 0",
    "pg_relation_size": "(o, f := NULL) AS 0",
    "pg_table_size": "(o) AS 0",
    "pg_indexes_size": "(o) AS 0",
    "pg_size_pretty": "(s) AS s || ' bytes'",
    "pg_database_size": "(d) AS 0",
    "pg_tablespace_location": "(t) AS ''",
    "pg_tablespace_size": "(t) AS 0",
    "pg_get_function_result": "(f) AS NULL",
    "pg_get_function_arguments": "(f) AS NULL",
    "pg_get_function_identity_arguments": "(f) AS NULL",
    "pg_get_functiondef": "(f) AS NULL",
    "pg_get_ruledef": "(r, p := NULL) AS NULL",
    "pg_get_partition_constraintdef": "(o) AS NULL",
    "pg_get_statisticsobjdef": "(o) AS NULL",
    "pg_get_constraintdef_command": "(o) AS NULL",
    "format_type_be": "(t) AS lm_format_type(t, -1)",
    "has_table_privilege": "(a, b := NULL, c := NULL) AS true",
    "has_schema_privilege": "(a, b := NULL, c := NULL) AS true",
    "has_database_privilege": "(a, b := NULL, c := NULL) AS true",
    "has_column_privilege": "(a, b := NULL, c := NULL, d := NULL) AS true",
    "obj_description": (
        "(o, c := NULL) AS (SELECT first(description) FROM pgcat.pg_description "
        "WHERE objoid = o AND objsubid = 0)"
    ),
    "col_description": (
        "(o, n) AS (SELECT first(description) FROM pgcat.pg_description "
        "WHERE objoid = o AND objsubid = n)"
    ),
    "shobj_description": "(o, c) AS NULL",
    "quote_ident": "(s) AS '\"' || replace(s, '\"', '\"\"') || '\"'",
    "pg_is_in_recovery": "() AS false",
    "array_upper": "(a, d) AS len(a)",
    "array_lower": "(a, d) AS CASE WHEN len(a) > 0 THEN 1 END",
    "pg_postmaster_start_time": "() AS TIMESTAMPTZ '2000-01-01 00:00:00+00'",
    "txid_current": "() AS 1",
    "pg_get_keywords": "() AS NULL",
    "regclass_name": "(o) AS (SELECT first(relname) FROM pgcat.pg_class WHERE oid = o)",
    "regclass_oid": "(n) AS (SELECT first(oid) FROM pgcat.pg_class WHERE relname = "
    "split_part(replace(n, '\"', ''), '.', -1))",
    "regtype_name": "(o) AS (SELECT first(typname) FROM pgcat.pg_type WHERE oid = o)",
    "regtype_oid": "(n) AS (SELECT first(oid) FROM pgcat.pg_type WHERE typname = n)",
    "to_regtype": "(n) AS lm_regtype_oid(n)",
    "to_regclass": "(n) AS lm_regclass_oid(n)",
    "to_regnamespace": "(n) AS (SELECT first(oid) FROM pgcat.pg_namespace WHERE nspname = n)",
    "regnamespace_name": "(o) AS (SELECT first(nspname) FROM pgcat.pg_namespace WHERE oid = o)",
}
"""PostgreSQL functions clients call in catalog queries, as DuckDB macros (named ``lm_...``)."""


def _macros(connection: duckdb.DuckDBPyConnection, *, user: str) -> None:
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _PG_TYPE_NAMES.items())
    connection.execute(f"CREATE MACRO lm_type_display(n) AS CASE n {cases} ELSE n END")
    quoted_user = "'" + user.replace("'", "''") + "'"
    connection.execute(
        ";\n".join(
            f"CREATE MACRO lm_{name}{body.replace('{user}', quoted_user)}"
            for name, body in MACROS.items()
        )
    )
