"""DuckDB type names as text, without loading DuckDB or Arrow: a struct field's name quoted as
DuckDB writes it, and two types widened to one to merge the schemas of files (the catalog and
the contracts use these; :mod:`lakemesh.storage.types` maps Arrow's types to these names).
"""

from __future__ import annotations

import functools
import re

_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def _duckdb_keywords() -> frozenset[str]:
    import duckdb  # the first quoted name pays for DuckDB, not every importer

    with duckdb.connect() as connection:
        rows = connection.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()
    return frozenset(str(row[0]).lower() for row in rows)


def quote_field(name: str) -> str:
    """A struct field name as DuckDB writes it in a type: bare when plain, else double-quoted."""
    if _PLAIN_NAME.match(name) and name.lower() not in _duckdb_keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


_SIGNED = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_UNSIGNED = ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
_INTEGER_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INTEGER": 10, "BIGINT": 19, "HUGEINT": 39}
_INTEGER_DIGITS |= {"UTINYINT": 3, "USMALLINT": 5, "UINTEGER": 10, "UBIGINT": 20, "UHUGEINT": 39}
_FLOATS = ("FLOAT", "DOUBLE")
_TEMPORAL = ("DATE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP", "TIMESTAMP_NS")
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def widen_type(first: str, second: str) -> str | None:
    """The narrowest type that holds values of both types, or None when they are incompatible.

    Integers widen to an integer (signed when one side is), integers and floats to DOUBLE,
    decimals to a decimal wide enough (DOUBLE past 38 digits), DATE and timestamps to the finest
    timestamp; JSON absorbs anything. Other types (VARCHAR, BOOLEAN, nested types) only match
    themselves.

    >>> widen_type("INTEGER", "BIGINT"), widen_type("UINTEGER", "INTEGER")
    ('BIGINT', 'BIGINT')
    >>> widen_type("DATE", "TIMESTAMP"), widen_type("DATE", "VARCHAR")
    ('TIMESTAMP', None)
    """
    if first == second:
        return first
    if "JSON" in (first, second):
        return "JSON"
    for family in (_integer_widening, _numeric_widening, _decimal_widening, _temporal_widening):
        widened = family(first, second)
        if widened is not None:
            return widened
    return None


def _integer_widening(first: str, second: str) -> str | None:
    if not all(name in _SIGNED or name in _UNSIGNED for name in (first, second)):
        return None
    if first in _UNSIGNED and second in _UNSIGNED:
        return _UNSIGNED[max(_UNSIGNED.index(first), _UNSIGNED.index(second))]
    # An unsigned type of n bits fits the signed type of 2n bits.
    rank = max(
        _SIGNED.index(n) if n in _SIGNED else _UNSIGNED.index(n) + 1 for n in (first, second)
    )
    return _SIGNED[rank] if rank < len(_SIGNED) else None


def _numeric_widening(first: str, second: str) -> str | None:
    def numeric(name: str) -> bool:
        return name in _INTEGER_DIGITS or name in _FLOATS or _DECIMAL.match(name) is not None

    if (first in _FLOATS or second in _FLOATS) and numeric(first) and numeric(second):
        return "DOUBLE"
    return None


def _decimal_widening(first: str, second: str) -> str | None:
    if not (_DECIMAL.match(first) or _DECIMAL.match(second)):
        return None
    shapes = []
    for name in (first, second):
        match = _DECIMAL.match(name)
        if match:
            shapes.append((int(match.group(1)), int(match.group(2))))
        elif name in _INTEGER_DIGITS:
            shapes.append((_INTEGER_DIGITS[name], 0))
        else:
            return None
    scale = max(s for _, s in shapes)
    precision = max(p - s for p, s in shapes) + scale
    return f"DECIMAL({precision},{scale})" if precision <= 38 else "DOUBLE"


def _temporal_widening(first: str, second: str) -> str | None:
    if first in _TEMPORAL and second in _TEMPORAL:
        finest = max(_TEMPORAL.index(first), _TEMPORAL.index(second))
        return _TEMPORAL[finest]
    return None
