"""PostgreSQL's catalog functions as DuckDB macros in the catalog mirror, and the display names of
its types (``format_type``, ``information_schema.columns.data_type``)."""

from __future__ import annotations

import duckdb

PG_TYPE_NAMES = {
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


def create_macros(connection: duckdb.DuckDBPyConnection, *, user: str) -> None:
    """Create the macros of :data:`MACROS` (``pg_get_userbyid`` answers ``user``)."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in PG_TYPE_NAMES.items())
    connection.execute(f"CREATE MACRO lm_type_display(n) AS CASE n {cases} ELSE n END")
    quoted_user = "'" + user.replace("'", "''") + "'"
    connection.execute(
        ";\n".join(
            f"CREATE MACRO lm_{name}{body.replace('{user}', quoted_user)}"
            for name, body in MACROS.items()
        )
    )
