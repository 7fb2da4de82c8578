"""Refusal before execution: one read-only statement over allow-listed functions (DESIGN §5)."""

from __future__ import annotations

import pytest

from lakemesh.errors import QueryRejectedError
from lakemesh.query import parse_statement
from lakemesh.query.functions import ALLOWED_FUNCTIONS

REFUSED = [
    # statements other than a query
    ("CREATE TABLE t AS SELECT 1", "Statement not allowed: CREATE"),
    ("DROP TABLE sales.crm.customers", "Statement not allowed: DROP"),
    ("INSERT INTO t VALUES (1)", "Statement not allowed: INSERT"),
    ("UPDATE t SET a = 1", "Statement not allowed: UPDATE"),
    ("DELETE FROM t", "Statement not allowed: DELETE"),
    ("PRAGMA version", "Statement not allowed: PRAGMA"),
    ("SET memory_limit = '100GB'", "Statement not allowed: SET"),
    ("RESET memory_limit", "Statement not allowed: RESET"),
    ("ATTACH '/tmp/other.db' AS other", "Statement not allowed: ATTACH"),
    ("DETACH other", "Statement not allowed: DETACH"),
    ("COPY sales.crm.customers TO '/tmp/out.csv'", "Statement not allowed: COPY"),
    ("COPY (SELECT 1) TO '/tmp/out.parquet'", "Statement not allowed: COPY"),
    ("INSTALL httpfs", "Statement not allowed: INSTALL"),
    ("LOAD httpfs", "Statement not allowed: LOAD"),
    ("CALL pragma_version()", "Statement not allowed: CALL"),
    ("EXPORT DATABASE '/tmp/x'", "Statement not allowed: EXPORT"),
    ("IMPORT DATABASE '/tmp/x'", "Statement not allowed: IMPORT"),
    ("DESCRIBE sales.crm.customers", "Statement not allowed: DESCRIBE"),
    ("SUMMARIZE sales.crm.customers", "Statement not allowed: SUMMARIZE"),
    ("SHOW TABLES", "Statement not allowed: SHOW"),
    ("USE sales", "Statement not allowed: USE"),
    ("BEGIN TRANSACTION", "Statement not allowed: TRANSACTION"),
    ("CHECKPOINT", "Statement not allowed"),
    ("PIVOT sales.crm.customers ON region USING count(*)", "Statement not allowed: PIVOT"),
    # writes and session changes hidden inside a query
    ("SELECT * INTO copy FROM sales.crm.customers", "SELECT INTO"),
    ("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "INSERT"),
    ("SELECT * FROM sales.crm.customers FOR UPDATE", "FOR UPDATE"),
    # several statements, however they are hidden
    ("SELECT 1; SELECT 2", "Only one statement is allowed, got 2"),
    ("SELECT 1; DROP TABLE t", "Only one statement is allowed, got 2"),
    ("SELECT 1 /* ; */; SET threads = 64", "Only one statement is allowed, got 2"),
    ("SELECT 1 -- comment\n; PRAGMA version", "Only one statement is allowed, got 2"),
    ("", "empty"),
    (";", "empty"),
    # table functions that read files, the network or the engine's state
    ("SELECT * FROM read_parquet('/etc/x.parquet')", "Table function not allowed: read_parquet"),
    ("SELECT * FROM read_csv('/etc/passwd')", "Table function not allowed: read_csv"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "Table function not allowed: read_csv_auto"),
    ("SELECT * FROM read_json('/etc/x.json')", "Table function not allowed: read_json"),
    ("SELECT * FROM read_json_auto('/etc/x.json')", "Table function not allowed: read_json_auto"),
    ("SELECT * FROM read_ndjson('/etc/x.json')", "Table function not allowed: read_ndjson"),
    ("SELECT * FROM read_text('/etc/hostname')", "Table function not allowed: read_text"),
    ("SELECT * FROM read_blob('/etc/hostname')", "Table function not allowed: read_blob"),
    ("SELECT * FROM glob('/*')", "Table function not allowed: glob"),
    ("SELECT * FROM parquet_scan('/x.parquet')", "Table function not allowed: parquet_scan"),
    (
        "SELECT * FROM parquet_metadata('/x.parquet')",
        "Table function not allowed: parquet_metadata",
    ),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "Table function not allowed: sniff_csv"),
    ("SELECT * FROM iceberg_scan('s3://b/t')", "Table function not allowed: iceberg_scan"),
    ("SELECT * FROM delta_scan('s3://b/t')", "Table function not allowed: delta_scan"),
    ("SELECT * FROM query('SELECT 1')", "Table function not allowed: query"),
    ("SELECT * FROM query_table('t')", "Table function not allowed: query_table"),
    ("SELECT * FROM duckdb_settings()", "Table function not allowed: duckdb_settings"),
    ("SELECT * FROM duckdb_secrets()", "Table function not allowed: duckdb_secrets"),
    ("SELECT * FROM pragma_table_info('t')", "Table function not allowed: pragma_table_info"),
    ("SELECT * FROM json_execute_serialized_sql('x')", "Table function not allowed"),
    ("SELECT * FROM 'https://example.com/x.parquet'", "Reading a file by its path"),
    ("SELECT * FROM '/etc/passwd'", "Reading a file by its path"),
    ('SELECT * FROM "data.csv"', "Reading a file by its path"),
    # scalar functions that read settings, the environment, sequences or plan SQL strings
    ("SELECT current_setting('allowed_paths')", "Function not allowed: current_setting"),
    ("SELECT getenv('HOME')", "Function not allowed: getenv"),
    ("SELECT getvariable('x')", "Function not allowed: getvariable"),
    ("SELECT current_database()", "Function not allowed: current_database"),
    ("SELECT current_schema()", "Function not allowed: current_schema"),
    ("SELECT current_user", "Function not allowed: current_user"),
    ("SELECT version()", "Function not allowed"),
    ("SELECT nextval('seq')", "Function not allowed: nextval"),
    ("SELECT json_serialize_sql('SELECT 1')", "Function not allowed: json_serialize_sql"),
    ("SELECT json_serialize_plan('SELECT 1')", "Function not allowed: json_serialize_plan"),
    ("SELECT stats(1)", "Function not allowed: stats"),
    ("SELECT list_aggregate([1], 'min')", "Function not allowed: list_aggregate"),
    ("SELECT finalize(x) FROM t", "Function not allowed: finalize"),
    ("SELECT pg_typeof(1)", "Function not allowed: pg_typeof"),
    ("SELECT has_table_privilege('t', 'select')", "Function not allowed"),
    ("SELECT sleep_ms(100000)", "Function not allowed: sleep_ms"),
    ("SELECT main.upper('x')", "Qualified function names are not allowed"),
    ("SELECT system.main.current_setting('x')", "Qualified function names are not allowed"),
    ("SELECT some_udf(1)", "Function not allowed: some_udf"),
    ("SELECT READ_TEXT('x')", "Function not allowed: read_text"),
    ("SELECT 1 WHERE EXISTS (SELECT * FROM read_csv('/etc/passwd'))", "read_csv"),
    ("SELECT (SELECT current_setting('threads'))", "current_setting"),
    # engine catalogs are not the mesh's catalog
    ("SELECT * FROM information_schema.tables", "System catalog not reachable"),
    ("SELECT * FROM INFORMATION_SCHEMA.COLUMNS", "System catalog not reachable"),
    ("SELECT * FROM pg_catalog.pg_class", "System catalog not reachable"),
    ("SELECT * FROM sqlite_master", "System catalog not reachable"),
    ("SELECT * FROM duckdb_tables", "System catalog not reachable"),
    ("SELECT * FROM main.customers", "System catalog not reachable"),
    ("SELECT * FROM temp.main.t", "System catalog not reachable"),
    ("SELECT * FROM system.main.duckdb_settings", "System catalog not reachable"),
    # constructs the gateway does not support
    ("SELECT $1", "parameter"),
    ("SELECT ?", "parameter"),
    ("SELECT COLUMNS('e.*') FROM sales.crm.customers", "COLUMNS"),
    ("SELECT #1 FROM sales.crm.customers", "positional column"),
    ("SELECT * FROM sales.crm.customers PIVOT (count(*) FOR region IN ('EU'))", "PIVOT"),
    (
        "SELECT * FROM sales.crm.customers AT (TIMESTAMP => 1)",
        "Not allowed in a query: .* on a table",
    ),
    # time travel names a snapshot or version by number (Iceberg and Delta tables only)
    ("SELECT * FROM sales.crm.customers AT (VERSION => x)", "must be a whole number"),
    # unparseable
    ("SELEC 1", "Could not parse the query: syntax error at line 1, column 7 near '1'"),
    ("SELECT 'unterminated", 'syntax error near "SELECT \'unterminated": an unterminated string'),
    # too deep for the parser: refused by name, never a RecursionError
    ("SELECT " + "(" * 45 + "1" + ")" * 45, r"Statement nests too deeply \(limit 32\) at line 1"),
    (
        "SELECT * FROM " + "(SELECT * FROM " * 50 + "range(3)" + ") t" * 50,
        r"Statement nests too deeply \(limit 32\)",
    ),
    ("SELECT " + "NOT " * 400 + "TRUE", r"Statement nests too deeply \(limit 32\)$"),
    ("SELECT " + "CASE WHEN TRUE THEN " * 300 + "1" + " END" * 300, "nests too deeply"),
]


@pytest.mark.parametrize(("sql", "message"), REFUSED)
def test_refused_before_execution(sql: str, message: str) -> None:
    with pytest.raises(QueryRejectedError, match=message):
        parse_statement(sql)


ALLOWED = [
    "SELECT 1",
    "VALUES (1, 'a'), (2, 'b')",
    "(SELECT 1)",
    "FROM sales.crm.customers",
    "SELECT * FROM main.crm.orders, sales.crm.pg_stats",  # a domain may be called main
    "FROM sales.crm.customers SELECT id",
    "SELECT a FROM t UNION ALL SELECT a FROM u INTERSECT SELECT a FROM v EXCEPT SELECT 1",
    "WITH x AS (SELECT 1 AS a), y AS (SELECT a FROM x) SELECT * FROM y",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "SELECT * FROM t, LATERAL (SELECT t.a + 1 AS b) l",
    "SELECT * FROM range(10) r, generate_series(1, 3) g, unnest([1, 2]) u",
    "SELECT a, row_number() OVER (PARTITION BY b ORDER BY c) FROM t QUALIFY c > 1",
    "SELECT a, sum(b) FILTER (WHERE c) FROM t GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL",
    "SELECT t.* EXCLUDE (a) REPLACE (b + 1 AS b) FROM t",
    "SELECT * FROM t ASOF JOIN u ON t.a >= u.a",
    "SELECT * FROM t USING SAMPLE 10%",
    "SELECT strftime(now(), '%Y'), list_transform([1], x -> x + 1), j ->> '$.a', CAST(a AS INT),"
    " a::INT, TRY_CAST(a AS INT), extract(year FROM d), date_trunc('month', d),"
    " CASE WHEN a THEN 1 END, coalesce(a, b), count(DISTINCT a), interval 1 day,"
    " a LIKE 'x%', a ILIKE 'x', a SIMILAR TO 'x', a IN (1, 2), a BETWEEN 1 AND 2,"
    " EXISTS (SELECT 1), a = ANY (SELECT 1), regexp_matches(a, 'x'), string_agg(a, ','),"
    " avg(a), greatest(a, b), round(a, 2), substring(a, 1, 2), upper(a), length(a),"
    " split_part(a, '@', 2), sha256(a), md5(a), hash(a), left(a, 2), right(a, 2),"
    " concat(a, b), a || b, list_value(1), struct_pack(k := 1), {'k': 1}, [1, 2][1],"
    " MAP {'k': 1}['k'], year(d), date_diff('day', d, d), date_add(d, INTERVAL 1 DAY),"
    " current_date, today(), nullif(a, b), if(a, 1, 2), regexp_extract(a, 'x', 1),"
    " regexp_replace(a, 'x', 'y'), trim(a), abs(a), epoch_ms(a), strptime(a, '%Y'),"
    " to_timestamp(a), make_date(1, 2, 3), uuid(), random(), unnest([1]), median(a),"
    " quantile_cont(a, 0.5), approx_count_distinct(a), arg_max(a, b), list(a), first(a)"
    " FROM t",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_only_queries_are_accepted(sql: str) -> None:
    parse_statement(sql)


def test_allow_list_names_no_function_that_reads_outside_the_query() -> None:
    forbidden_prefixes = ("read_", "duckdb_", "pragma_", "pg_", "current_setting", "getenv", "glob")
    assert not [name for name in ALLOWED_FUNCTIONS if name.startswith(forbidden_prefixes)]
    assert {"query", "query_table", "sniff_csv", "getvariable", "stats"}.isdisjoint(
        ALLOWED_FUNCTIONS
    )


SYNTAX_ERRORS = [
    (
        "SELECT 1 * FROM t",
        "Could not parse the query: syntax error at line 1, column 12 near 'FROM': an "
        "expression or clause is incomplete",
    ),
    ("SELECT a FROM t WHERE", "syntax error at line 1, column 17 near 'WHERE'"),
    ("SELECT (1", r"syntax error at line 1, column 9 near '1': expected \)"),
    ("SELECT a\nFROM t\nWHERE a = = 1", "syntax error at line 3, column 11 near '='"),
]


@pytest.mark.parametrize(("sql", "message"), SYNTAX_ERRORS)
def test_syntax_errors_say_where_in_sql_terms(sql: str, message: str) -> None:
    with pytest.raises(QueryRejectedError, match=message) as info:
        parse_statement(sql)
    assert "class" not in info.value.message
    assert "sqlglot" not in info.value.message
    assert info.value.details["line"] == int(message.split("line ")[1][0])


def test_nesting_up_to_the_limit_parses() -> None:
    parse_statement("SELECT " + "(" * 32 + "1" + ")" * 32)
    parse_statement("SELECT * FROM " + "(SELECT * FROM " * 30 + "range(3)" + ") t" * 30)


def test_sql_longer_than_the_limit_is_refused_before_parsing() -> None:
    sql = "SELECT 1 -- " + "x" * 2000
    with pytest.raises(
        QueryRejectedError,
        match=r"^SQL is 2,012 bytes; the limit is 1,024 \(setting max_sql_bytes\)$",
    ) as info:
        parse_statement(sql, max_bytes=1024)
    assert info.value.details == {"limit": "max_sql_bytes", "value": 1024, "bytes": 2012}
    parse_statement(sql, max_bytes=2012)
