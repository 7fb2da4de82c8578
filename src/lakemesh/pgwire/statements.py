"""What a client sends, as statements: split at semicolons, sorted into the session commands that
pgwire answers itself (``SET``, ``SHOW``, transactions) and queries, and bound to parameters.

Parameters (``$1``) are bound as SQL literals before the statement reaches the gateway, which
sees (and records in the history) the query as it runs.

>>> [s.text for s in split_statements("SET a = 1; SELECT ';' AS x;")]
['SET a = 1', "SELECT ';' AS x"]
>>> bind_parameters("SELECT * FROM t WHERE a = $1 AND b = $2", ["it's", 3])
"SELECT * FROM t WHERE a = 'it''s' AND b = 3"
>>> parse_command("SET search_path TO sales, 'marketing'")
Command(kind='SET', name='search_path', value='sales,marketing')
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

_DIALECT = DuckDB()


@dataclass(frozen=True)
class Statement:
    """One statement of a query string and its tokens."""

    text: str
    tokens: tuple[Token, ...]


def _tokens(sql: str) -> list[Token]:
    try:
        return list(_DIALECT.tokenize(sql))
    except TokenError:
        return []  # the gateway names what is wrong with the statement


def split_statements(sql: str) -> list[Statement]:
    """The statements of ``sql`` (empty ones dropped); unsplittable text is one statement."""
    tokens = _tokens(sql)
    if not tokens:
        return [Statement(sql.strip(), ())] if sql.strip() else []
    statements: list[Statement] = []
    current: list[Token] = []
    start = 0
    for token in [*tokens, None]:
        if token is None or token.token_type == TokenType.SEMICOLON:
            end = token.start if token is not None else len(sql)
            text = sql[start:end].strip()
            if current and text:
                statements.append(Statement(text, tuple(current)))
            current = []
            start = end + 1
        else:
            current.append(token)
    return statements


@dataclass(frozen=True)
class Command:
    """A session command answered by pgwire: ``kind`` is its command tag."""

    kind: str
    name: str = ""
    value: str = ""


_TRANSACTION_WORDS = {
    "BEGIN": "BEGIN",
    "START": "BEGIN",
    "COMMIT": "COMMIT",
    "END": "COMMIT",
    "ROLLBACK": "ROLLBACK",
    "ABORT": "ROLLBACK",
}
_SET = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?P<name>[\w.]+|\"[^\"]+\")\s*(?:TO|=)\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SET_TIME_ZONE = re.compile(
    r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?TIME\s+ZONE\s+(?P<value>.+?)\s*$", re.IGNORECASE | re.DOTALL
)
_SHOW = re.compile(r"^\s*SHOW\s+(?P<name>[\w.]+|\"[^\"]+\")\s*$", re.IGNORECASE)
_SPOKEN_SETTINGS = {
    "TIME ZONE": "timezone",
    "TRANSACTION ISOLATION LEVEL": "transaction_isolation",
    "SESSION AUTHORIZATION": "session_authorization",
}
_RESET = re.compile(r"^\s*RESET\s+(?P<name>[\w.]+|\"[^\"]+\")\s*$", re.IGNORECASE)


def parse_command(text: str) -> Command | None:
    """The session command ``text`` is, or ``None`` for a query.

    ``COPY (query) TO STDOUT`` is ``Command("COPY", format, query)``: its query still goes through
    the gateway, its rows come back as COPY data.

    >>> parse_command("COPY (SELECT 1) TO STDOUT (FORMAT binary)")
    Command(kind='COPY', name='binary', value='SELECT 1')
    """
    words = text.split(None, 2)
    if not words:
        return Command("EMPTY")
    first = words[0].upper().rstrip(";")
    if first == "COPY":
        return _copy(text)
    if first in ("SAVEPOINT", "RELEASE"):
        return Command(first)
    if first in ("ROLLBACK", "ABORT") and len(words) > 1 and words[1].upper() == "TO":
        return Command("ROLLBACK TO")
    if first in _TRANSACTION_WORDS:
        if first == "START" and (len(words) < 2 or words[1].upper() != "TRANSACTION"):
            return None
        return Command(_TRANSACTION_WORDS[first])
    if first == "SET":
        second = words[1].upper() if len(words) > 1 else ""
        if second in ("TRANSACTION", "SESSION") and "CHARACTERISTICS" in text.upper():
            return Command("SET")
        if second == "TRANSACTION":
            return Command("SET")
        zone = _SET_TIME_ZONE.match(text)
        if zone:
            return Command("SET", "timezone", _setting_value(zone["value"]))
        match = _SET.match(text)
        if match:
            return Command("SET", _setting_name(match["name"]), _setting_value(match["value"]))
        return Command("SET MALFORMED")  # the session says which form SET takes
    if first == "SHOW":
        match = _SHOW.match(text)
        if match:
            return Command("SHOW", _setting_name(match["name"]))
        spoken = " ".join(text.split()[1:]).upper()
        if spoken in _SPOKEN_SETTINGS:
            return Command("SHOW", _SPOKEN_SETTINGS[spoken])
        return None  # SHOW TABLES and friends are queries
    if first == "RESET":
        if len(words) > 1 and words[1].upper() == "ALL":
            return Command("RESET", "all")
        match = _RESET.match(text)
        return Command("RESET", _setting_name(match["name"])) if match else None
    if first == "DISCARD":
        return Command("DISCARD ALL")
    if first == "DEALLOCATE":
        rest = text.split()[1:]
        if rest and rest[0].upper() == "PREPARE":
            rest = rest[1:]
        return Command("DEALLOCATE", rest[0].strip('"') if rest else "")
    return None


_COPY_QUERY = re.compile(
    r"^\s*COPY\s*\((?P<query>.*)\)\s*TO\s+STDOUT\b(?P<options>.*)$", re.IGNORECASE | re.DOTALL
)
_COPY_TABLE = re.compile(
    r"^\s*COPY\s+(?P<table>[\w.\"]+)\s*(?:\((?P<columns>[^()]*)\))?\s*TO\s+STDOUT\b"
    r"(?P<options>.*)$",
    re.IGNORECASE | re.DOTALL,
)


_COPY_FROM = re.compile(r"^\s*COPY\s+[\w.\"]+\s*(?:\([^()]*\))?\s*FROM\b", re.IGNORECASE)


def _copy(text: str) -> Command | None:
    """``COPY (query) TO STDOUT`` or ``COPY table [(columns)] TO STDOUT``, in text or binary;
    ``COPY table FROM ...`` is ``Command("COPY FROM")`` (a write: refused as in a read-only
    transaction); any other COPY is left to the gateway, which refuses it.

    >>> parse_command("COPY sales.crm.orders (id) FROM STDIN").kind
    'COPY FROM'
    """
    if _COPY_FROM.match(text):
        return Command("COPY FROM", value=text)
    match = _COPY_QUERY.match(text)
    if match:
        query = match["query"].strip()
    else:
        match = _COPY_TABLE.match(text)
        if not match:
            return None
        columns = match["columns"].strip() if match["columns"] else "*"
        query = f"SELECT {columns} FROM {match['table']}"
    options = re.sub(r"[()\s,]+", " ", match["options"]).strip().lower().split()
    options = [word for word in options if word not in ("with", "format")]
    if options and options[0] not in ("binary", "text"):
        return Command("COPY", options[0], query)
    return Command("COPY", options[0] if options else "text", query)


def _setting_name(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name.lower()


def _setting_value(value: str) -> str:
    """A SET value list as text: quotes dropped, items joined by commas."""
    items = []
    for item in _split_list(value):
        item = item.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            item = item[1:-1].replace(item[0] * 2, item[0])
        items.append(item)
    return ",".join(items)


def _split_list(value: str) -> list[str]:
    parts, current, quote = [], "", ""
    for char in value:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current += char
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


# -- parameters ---------------------------------------------------------------------------------


def parameter_positions(sql: str) -> list[tuple[int, int, int]]:
    """``(start, end, number)`` of each ``$n`` placeholder of ``sql`` (end exclusive)."""
    tokens = _tokens(sql)
    found = []
    for token, following in itertools.pairwise(tokens):
        if (
            token.token_type == TokenType.PARAMETER
            and token.text == "$"
            and following.token_type == TokenType.NUMBER
            and following.start == token.end + 1
            and following.text.isdigit()
        ):
            found.append((token.start, following.end + 1, int(following.text)))
    return found


def parameter_count(sql: str) -> int:
    """The highest ``$n`` of ``sql`` (0 when it has none)."""
    return max((number for _, _, number in parameter_positions(sql)), default=0)


def bind_parameters(sql: str, values: Sequence[Any]) -> str:
    """``sql`` with each ``$n`` replaced by the literal of ``values[n - 1]``.

    Raises:
        ValueError: a placeholder has no value.
    """
    pieces = []
    last = 0
    for start, end, number in parameter_positions(sql):
        if not 1 <= number <= len(values):
            raise ValueError(f"There is no parameter ${number} ({len(values)} were bound)")
        pieces.append(sql[last:start])
        pieces.append(literal(values[number - 1]))
        last = end
    pieces.append(sql[last:])
    return "".join(pieces)


def literal(value: Any) -> str:
    """``value`` as a DuckDB SQL literal.

    >>> literal(None), literal(True), literal(1.5), literal(datetime.date(2024, 1, 2))
    ('NULL', 'TRUE', '1.5', "DATE '2024-01-02'")
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f"CAST('{value}' AS DOUBLE)"
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return f"CAST('{value}' AS DECIMAL(38, {max(-value.as_tuple().exponent, 0)}))"  # type: ignore[operator]
    if isinstance(value, datetime.datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"{kind} '{value.isoformat(sep=' ')}'"
    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bytes):
        return "'" + "".join(f"\\x{b:02x}" for b in value) + "'::BLOB"
    return "'" + str(value).replace("'", "''") + "'"
