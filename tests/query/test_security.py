"""A table-driven suite of bypass attempts: each is refused or returns only permitted data.

Bob (see the ``restricted`` fixture) reads EU customers' id, name, region, amount, signup, profile
and tags, US customers' id and region, no APAC row, and never email, phone or secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lakemesh.errors import AccessDeniedError, LakemeshError, NotFoundError, QueryRejectedError
from tests.factories.gateway import Lake

VISIBLE = ["id", "name", "amount", "signup", "profile", "tags", "region"]
# Strings that only occur in data Bob may not see: hidden columns, hidden cells, hidden rows.
HIDDEN_MARKERS = ("hidden-name", "s3cr3t", "example.com", "555-", "APAC", "city2", "city4")

DENIED = "lacks SELECT on sales.crm.customers"
T = "sales.crm.customers"

REFUSED: list[tuple[str, type[LakemeshError], str]] = [
    (f"SELECT email FROM {T}", AccessDeniedError, f"{DENIED}.email"),
    (f"SELECT c.email FROM {T} AS c", AccessDeniedError, f"{DENIED}.email"),
    (f'SELECT "EMAIL" FROM {T}', AccessDeniedError, f"{DENIED}.email"),
    (f"SELECT Email FROM {T}", AccessDeniedError, f"{DENIED}.email"),
    (f'SELECT c."Phone" FROM {T} c', AccessDeniedError, f"{DENIED}.phone"),
    (f"SELECT /* just id */ secret -- really\n FROM {T}", AccessDeniedError, f"{DENIED}.secret"),
    (f"SELECT {T}.email FROM {T}", AccessDeniedError, f"{DENIED}.email"),
    ("SELECT crm.customers.secret FROM crm.customers", AccessDeniedError, f"{DENIED}.secret"),
    (f"SELECT id FROM {T} WHERE email LIKE '%eu%'", AccessDeniedError, f"{DENIED}.email"),
    (f"SELECT id FROM {T} ORDER BY email", AccessDeniedError, f"{DENIED}.email"),
    (f"SELECT count(*) FROM {T} GROUP BY phone", AccessDeniedError, f"{DENIED}.phone"),
    (
        f"SELECT region FROM {T} GROUP BY region HAVING max(email) > ''",
        AccessDeniedError,
        f"{DENIED}.email",
    ),
    (f"SELECT row_number() OVER (PARTITION BY email) FROM {T}", AccessDeniedError, "email"),
    (f"SELECT id, lag(secret) OVER (ORDER BY id) FROM {T}", AccessDeniedError, "secret"),
    (
        f"SELECT id FROM {T} QUALIFY row_number() OVER (ORDER BY phone) = 1",
        AccessDeniedError,
        "phone",
    ),
    (f"SELECT min(id) FILTER (WHERE email LIKE 'a%') FROM {T}", AccessDeniedError, "email"),
    (
        f"SELECT * FROM {T} a JOIN sales.crm.orders o ON a.email = CAST(o.customer_id AS VARCHAR)",
        AccessDeniedError,
        "email",
    ),
    (f"SELECT a.id FROM {T} a JOIN {T} b ON a.phone = b.phone", AccessDeniedError, "phone"),
    (f"SELECT * FROM {T} JOIN (SELECT 'x' AS email) u USING (email)", AccessDeniedError, "email"),
    (f"SELECT (SELECT max(email) FROM {T})", AccessDeniedError, f"{DENIED}.email"),
    (
        f"SELECT id FROM {T} WHERE id IN (SELECT length(phone) FROM {T})",
        AccessDeniedError,
        "phone",
    ),
    (
        f"SELECT id FROM {T} c WHERE EXISTS "
        "(SELECT 1 FROM sales.crm.orders o WHERE o.customer_id = c.id AND c.email IS NULL)",
        AccessDeniedError,
        "email",
    ),
    (f"SELECT name FROM {T} UNION SELECT email FROM {T}", AccessDeniedError, "email"),
    (f"SELECT name FROM {T} INTERSECT SELECT secret FROM {T}", AccessDeniedError, "secret"),
    (f"SELECT name FROM {T} EXCEPT SELECT phone FROM {T}", AccessDeniedError, "phone"),
    (f"SELECT l.s FROM {T} c, LATERAL (SELECT c.secret AS s) l", AccessDeniedError, "secret"),
    (f"WITH x AS (SELECT * FROM {T}) SELECT email FROM x", AccessDeniedError, "email"),
    (f"SELECT x.email FROM (SELECT * FROM {T}) x", AccessDeniedError, "email"),
    (f"SELECT CAST(email AS INT) FROM {T}", AccessDeniedError, "email"),
    (f"SELECT list_transform([1], x -> email) FROM {T}", AccessDeniedError, "email"),
    (f"SELECT email.domain FROM {T}", AccessDeniedError, "email"),
    (f"SELECT c.email['k'] FROM {T} c", AccessDeniedError, "email"),
    (f"SELECT email.* FROM {T}", AccessDeniedError, "email"),
    (f"SELECT id FROM {T} WHERE secret IS NOT NULL", AccessDeniedError, "secret"),
    (f"SELECT id FROM {T} AS t(a, b, email_alias) WHERE t.phone > ''", AccessDeniedError, "phone"),
    # the engine's catalogs, files and session stay out of reach
    (f"SELECT * FROM {T} UNION ALL SELECT * FROM read_parquet('/x')", QueryRejectedError, "read_"),
    ("SELECT * FROM information_schema.columns", QueryRejectedError, "System catalog"),
    ("SELECT * FROM duckdb_columns()", QueryRejectedError, "duckdb_columns"),
    ("SELECT current_setting('allowed_paths')", QueryRejectedError, "current_setting"),
    (f"COPY {T} TO '/tmp/leak.csv'", QueryRejectedError, "COPY"),
    ("ATTACH '/tmp/x.db'", QueryRejectedError, "ATTACH"),
    ("PRAGMA database_list", QueryRejectedError, "PRAGMA"),
    ("SET enable_external_access = true", QueryRejectedError, "SET"),
    (f"SELECT 1; SELECT email FROM {T}", QueryRejectedError, "one statement"),
    # names the resolver does not know
    ('SELECT * FROM "SALES".crm.customers', NotFoundError, "Table does not exist: SALES"),
    ("SELECT * FROM customers", NotFoundError, "Table does not exist"),
    ("SELECT * FROM other.crm.customers", NotFoundError, "Table does not exist"),
    ("SELECT email FROM sales.crm.orders AS customers", QueryRejectedError, "email"),
]


@pytest.mark.parametrize(("sql", "error", "message"), REFUSED)
def test_refused(restricted: Lake, sql: str, error: type[LakemeshError], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        restricted.query(sql)
    assert_no_hidden_data(info.value.message)


def rows_equal(expected: list[dict[str, Any]]) -> Callable[[list[dict[str, Any]]], None]:
    def check(rows: list[dict[str, Any]]) -> None:
        assert rows == expected

    return check


def columns_are(columns: list[str]) -> Callable[[list[dict[str, Any]]], None]:
    def check(rows: list[dict[str, Any]]) -> None:
        assert rows
        assert all(list(row) == columns for row in rows)

    return check


def ids_are(ids: list[int]) -> Callable[[list[dict[str, Any]]], None]:
    def check(rows: list[dict[str, Any]]) -> None:
        assert sorted(row["id"] for row in rows) == ids

    return check


EU = [1, 3, 6, 9]
EU_AND_US = [1, 2, 3, 5, 6, 7, 9, 10]

PERMITTED: list[tuple[str, Callable[[list[dict[str, Any]]], None]]] = [
    (f"SELECT * FROM {T}", columns_are(VISIBLE)),
    (f"SELECT * FROM {T}", ids_are(EU_AND_US)),
    (f"FROM {T}", columns_are(VISIBLE)),
    (f"SELECT c.* FROM {T} c", columns_are(VISIBLE)),
    (f"SELECT * EXCLUDE (email) FROM {T}", columns_are(VISIBLE)),
    (f"SELECT * EXCLUDE (name, email) FROM {T}", columns_are([c for c in VISIBLE if c != "name"])),
    (f"SELECT c.* EXCLUDE (secret) FROM {T} c", columns_are(VISIBLE)),
    (
        f'SELECT "NAME", "Region" FROM {T} WHERE region = \'EU\' ORDER BY 1',
        columns_are(["name", "region"]),
    ),
    ("SELECT id FROM SALES.CRM.CUSTOMERS", ids_are(EU_AND_US)),
    ('SELECT id FROM "sales"."crm"."customers"', ids_are(EU_AND_US)),
    ("SELECT id FROM crm.customers", ids_are(EU_AND_US)),
    (f"SELECT count(*) AS n FROM {T}", rows_equal([{"n": 8}])),
    (f"SELECT count(*) AS n FROM {T} WHERE region = 'APAC'", rows_equal([{"n": 0}])),
    (f"SELECT count(name) AS n, count(amount) AS a FROM {T}", rows_equal([{"n": 4, "a": 4}])),
    (f"SELECT DISTINCT name FROM {T} WHERE region = 'US'", rows_equal([{"name": None}])),
    # a CTE or a subquery named like a table is that CTE or subquery, in its scope only
    (
        "WITH customers AS (SELECT 1 AS email) SELECT email FROM customers",
        rows_equal([{"email": 1}]),
    ),
    (f"WITH customers AS (SELECT * FROM {T}) SELECT * FROM customers", columns_are(VISIBLE)),
    (
        "WITH customers AS (SELECT id FROM crm.customers WHERE region = 'EU') "
        "SELECT id FROM customers",
        ids_are(EU),
    ),
    ("SELECT secret FROM (SELECT 'x' AS secret) AS customers", rows_equal([{"secret": "x"}])),
    (
        "SELECT email FROM (SELECT 1 AS email) AS u, (SELECT id FROM crm.customers LIMIT 1) c",
        rows_equal([{"email": 1}]),
    ),
    # struct and map access on visible columns reads visible cells only
    (f"SELECT id, profile.city AS city FROM {T} WHERE city IS NOT NULL", ids_are(EU)),
    (f"SELECT id, profile.* FROM {T} WHERE profile.age IS NOT NULL", ids_are(EU)),
    (f"SELECT id, tags['tier'] AS tier FROM {T} WHERE tier IS NOT NULL", ids_are(EU)),
    # whole-row references see the secured relation's columns only
    (f"SELECT to_json(c) AS j FROM {T} c", lambda rows: None),
    (f"SELECT * FROM {T} NATURAL JOIN (SELECT 1 AS id, 'x' AS email) u", ids_are([1])),
    # windows, lateral joins and set operations over visible cells only
    (
        f"SELECT id, sum(amount) OVER (PARTITION BY region) AS s FROM {T} WHERE region = 'EU'",
        ids_are(EU),
    ),
    (f"SELECT c.id FROM {T} c, LATERAL (SELECT c.id * 2 AS d) l WHERE l.d > 0", ids_are(EU_AND_US)),
    (f"SELECT id FROM {T} UNION SELECT id FROM {T}", ids_are(EU_AND_US)),
    (f"SELECT id FROM {T} EXCEPT SELECT id FROM {T} WHERE region = 'US'", ids_are(EU)),
    (f"SELECT id FROM {T} ORDER BY name NULLS LAST LIMIT 4", ids_are(EU)),
]


@pytest.mark.parametrize(("sql", "check"), PERMITTED)
def test_permitted_data_only(
    restricted: Lake, sql: str, check: Callable[[list[dict[str, Any]]], None]
) -> None:
    rows = restricted.rows(sql)
    check(rows)
    assert_no_hidden_data(rows)


ERRORS_ON_VISIBLE_DATA = [
    # the cast fails on a visible EU name: the message may show it, never a hidden cell
    f"SELECT CAST(name AS INT) FROM {T}",
    f"SELECT id FROM {T} WHERE CAST(name AS INT) > 0",
    f"SELECT sum(CAST(name AS INT)) FROM {T} WHERE region = 'EU'",
]


@pytest.mark.parametrize("sql", ERRORS_ON_VISIBLE_DATA)
def test_errors_do_not_echo_hidden_values(restricted: Lake, sql: str) -> None:
    with pytest.raises(LakemeshError, match="Query failed") as info:
        restricted.query(sql)
    assert_no_hidden_data(info.value.message)


FILTERED_ROW_PROBES = [
    # Every EU name is 'name<i>', so substr(name, 5) casts; hidden names would not.
    f"SELECT id FROM {T} WHERE CAST(substr(name, 5) AS INT) > 0",
    f"SELECT id FROM {T} WHERE CAST(substr(name, 5) AS INT) > 0 AND id > 0",
    f"SELECT id FROM {T} WHERE id > 0 AND CAST(substr(name, 5) AS INT) > 0",
    f"SELECT c.id FROM {T} c JOIN sales.crm.orders o"
    " ON CAST(substr(c.name, 5) AS INT) = o.customer_id",
    f"SELECT id FROM {T} c WHERE EXISTS (SELECT 1 WHERE CAST(substr(c.name, 5) AS INT) = c.id)",
    f"SELECT max(CAST(substr(name, 5) AS INT)) AS id FROM {T} GROUP BY region HAVING id > 0",
]


@pytest.mark.parametrize("sql", FILTERED_ROW_PROBES)
@pytest.mark.parametrize("grant", ["cells", "rows"])
def test_filtered_out_rows_never_reach_user_expressions(lake: Lake, sql: str, grant: str) -> None:
    from tests.factories.gateway import CUSTOMER_COLUMNS, pair

    everything = [c[0] for c in CUSTOMER_COLUMNS]
    if grant == "cells":
        lake.grant(T, pair("region = 'EU'", "id", "name", "region"), pair("region = 'US'", "id"))
    else:  # one pair: rows filtered, every column granted
        lake.grant(T, pair("region = 'EU' OR amount < 0", *everything))
    rows = lake.rows(sql)
    assert {row["id"] for row in rows} <= set(EU)
    assert_no_hidden_data(rows)


def assert_no_hidden_data(value: object) -> None:
    text = repr(value)
    leaked = [marker for marker in HIDDEN_MARKERS if marker in text]
    assert not leaked, f"hidden data {leaked} in {text[:500]}"
