"""Row-filter predicates: the DESIGN §4 grammar, refusals naming the token, attribute binding."""

from __future__ import annotations

import duckdb
import pytest

from lakemesh.errors import InvalidInputError
from lakemesh.policy.predicates import attributes_read, bind_predicate, validate_predicate

COLUMNS = ("id", "region", "amount", "name", "created", "active", "Country")


@pytest.mark.parametrize(
    ("predicate", "canonical"),
    [
        ("region = 'EU'", "\"region\" = 'EU'"),
        ("REGION = 'EU'", "\"region\" = 'EU'"),
        ("country = 'FR'", "\"Country\" = 'FR'"),
        ("amount > 10 AND amount <= 1e3", '"amount" > 10 AND "amount" <= 1e3'),
        ("amount <> -5 OR amount != 7", '"amount" <> -5 OR "amount" <> 7'),
        ("region IN ('EU', 'US')", "\"region\" IN ('EU', 'US')"),
        ("region NOT IN ('EU')", "NOT \"region\" IN ('EU')"),
        ("amount BETWEEN 1 AND 10", '"amount" BETWEEN 1 AND 10'),
        ("name LIKE 'A%'", "\"name\" LIKE 'A%'"),
        ("name NOT ILIKE 'a!%%' ESCAPE '!'", "\"name\" NOT ILIKE 'a!%%' ESCAPE '!'"),
        ("name IS NULL", '"name" IS NULL'),
        ("name IS NOT NULL", 'NOT "name" IS NULL'),
        ("active", '"active"'),
        ("active = TRUE AND NOT (region = 'EU')", '"active" = TRUE AND NOT ("region" = \'EU\')'),
        ("created >= DATE '2024-01-01'", "\"created\" >= CAST('2024-01-01' AS DATE)"),
        (
            "created < TIMESTAMP '2024-01-01 10:00:00'",
            "\"created\" < CAST('2024-01-01 10:00:00' AS TIMESTAMP)",
        ),
        ("CAST(amount AS VARCHAR) = '3'", "CAST(\"amount\" AS TEXT) = '3'"),
        ("region = 'it''s'", "\"region\" = 'it''s'"),
        ("region = '-- not a comment'", "\"region\" = '-- not a comment'"),
        ("amount IS DISTINCT FROM 3", '"amount" IS DISTINCT FROM 3'),
        ("TRUE", "TRUE"),
        (
            "region = principal_attribute('region')",
            "\"region\" = PRINCIPAL_ATTRIBUTE('region')",
        ),
        (
            "region IN (principal_attribute('home'), 'EU') OR name = PRINCIPAL_ATTRIBUTE('name')",
            "\"region\" IN (PRINCIPAL_ATTRIBUTE('home'), 'EU') "
            "OR \"name\" = PRINCIPAL_ATTRIBUTE('name')",
        ),
    ],
)
def test_accepted_predicates_come_back_canonical(predicate: str, canonical: str) -> None:
    assert validate_predicate(predicate, columns=COLUMNS) == canonical


@pytest.mark.parametrize(
    ("predicate", "message"),
    [
        ("read_csv('/etc/passwd') IS NULL", "may not use function read_csv"),
        ("region = getenv('HOME')", "may not use function getenv"),
        ("lower(region) = 'eu'", "may not use function lower"),
        ("region = current_user", "may not use function current_user"),
        ("region IN (SELECT region FROM secrets)", "may not use a subquery"),
        ("region = (SELECT 1)", "may not use a subquery"),
        ("EXISTS (SELECT 1)", "may not use a subquery"),
        ("* = 1", "may not use '\\*'"),
        ("foo = 1", "refers to unknown column 'foo' \\(columns: id, region, amount"),
        ("t.region = 'EU'", "may not qualify column"),
        ("region = 'EU'; DROP TABLE t", "may not use ';'"),
        ("region = 'EU';", "may not use ';'"),
        ("region = 'EU' -- ' OR 1=1", "may not contain comments"),
        ("region = 'EU' /* OR TRUE */", "may not contain comments"),
        ("/* x */ region = 'EU'", "may not contain comments"),
        ("amount + 1 > 2", "may not use operator \\+"),
        ("region || 'x' = 'EUx'", "may not use operator \\|\\|"),
        ("region = ?", "may not use parameter \\?"),
        ("region = $1", "may not use parameter \\$1"),
        ("region ~ 'E.*'", "may not use function regexp_like"),
        ("region SIMILAR TO 'E%'", "may not use operator SIMILAR TO"),
        ("created > INTERVAL '1 day'", "may not use INTERVAL"),
        ("amount = -(id)", "may not negate anything but a number"),
        ("CAST(region AS INT[]) = [1]", "may not cast to"),
        ("'EU'", "must be a condition, not the value 'EU'"),
        ("principal_attribute('region')", "must be a condition, not function principal_attribute"),
        (
            "region = principal_attribute(region)",
            "must call principal_attribute with one attribute",
        ),
        (
            "region = principal_attribute('a', 'b')",
            "must call principal_attribute with one attribute",
        ),
        ("principal_attribute('region') IS NULL", "may not test principal_attribute"),
        (
            "region IS DISTINCT FROM principal_attribute('region')",
            "may not test principal_attribute",
        ),
        ("(region = principal_attribute('r')) IS NULL", "may not test principal_attribute"),
        (
            "region = 'EU",
            'is not valid SQL: syntax error near "region = \'EU": an unterminated string',
        ),
        (
            "region = ",
            "is not valid SQL: syntax error at line 1, column 8 near '=': an expression or "
            "clause is incomplete$",
        ),
        ("a IN (1,", r"is not valid SQL: syntax error at line 1, column 8 near ',': expected \)$"),
        ("", "is empty"),
        ("x" * 10_001, "is longer than 10000 characters"),
    ],
)
def test_refused_predicates_name_the_token(predicate: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^Row filter {message}"):
        validate_predicate(predicate, columns=COLUMNS)


def test_refusal_details_carry_the_token() -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_predicate("region = read_csv('x')", columns=COLUMNS)
    assert caught.value.details["token"] == "function read_csv"


@pytest.mark.parametrize(
    ("predicate", "attributes", "bound"),
    [
        ("region = principal_attribute('region')", {"region": "EU"}, "\"region\" = 'EU'"),
        ("region = principal_attribute('region')", {"region": "O'Neil"}, "\"region\" = 'O''Neil'"),
        (
            "region = principal_attribute('region')",
            {"region": "a\\'; DROP"},
            "\"region\" = 'a\\''; DROP'",
        ),
        ("region = principal_attribute('region')", {}, '"region" = NULL'),
        ("region = principal_attribute('region')", {"other": "x"}, '"region" = NULL'),
        ("amount > 10", {"region": "EU"}, '"amount" > 10'),
        (
            "region = principal_attribute('region') OR name = principal_attribute('name')",
            {"name": "ann"},
            '"region" = NULL OR "name" = \'ann\'',
        ),
    ],
)
def test_bind_predicate(predicate: str, attributes: dict[str, str], bound: str) -> None:
    assert bind_predicate(predicate, attributes=attributes) == bound


def test_bind_refuses_what_validation_refuses() -> None:
    with pytest.raises(InvalidInputError, match="may not use function read_csv"):
        bind_predicate("read_csv('x') IS NULL", attributes={})


def test_attributes_read() -> None:
    assert attributes_read("a = principal_attribute('x') AND b = 1") == frozenset({"x"})
    assert attributes_read("a = 1") == frozenset()


ROWS = [(1, "EU", 5), (2, "US", 50), (3, None, 500)]


@pytest.mark.parametrize(
    ("predicate", "attributes", "ids"),
    [
        ("region = principal_attribute('region')", {"region": "EU"}, [1]),
        ("region = principal_attribute('region')", {}, []),
        ("NOT (region = principal_attribute('region'))", {}, []),
        ("region <> principal_attribute('region')", {}, []),
        ("region NOT IN (principal_attribute('region'))", {}, []),
        ("region = principal_attribute('region') OR amount > 100", {}, [3]),
        ("region = principal_attribute('region') OR region IS NULL", {"region": "US"}, [2, 3]),
    ],
)
def test_missing_attributes_fail_closed_in_duckdb(
    predicate: str, attributes: dict[str, str], ids: list[int]
) -> None:
    """Run the bound predicate: a missing attribute never reveals rows that depend on it."""
    sql = bind_predicate(
        validate_predicate(predicate, columns=("id", "region", "amount")), attributes=attributes
    )
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t (id INT, region VARCHAR, amount INT)")
    connection.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
    found = [
        row[0] for row in connection.execute(f"SELECT id FROM t WHERE {sql} ORDER BY id").fetchall()
    ]
    assert found == ids
