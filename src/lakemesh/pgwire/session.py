"""A connection's session: who it is, its workgroup, the settings clients SET and SHOW, and its
prepared statements and portals.

Settings are answered here and never passed to the engine; ``workgroup`` picks the workgroup of
the following queries and ``search_path`` lets shorter names be used (see :meth:`qualify`).

>>> session = ClientSession(user="mia@marketing", database="sales", parameters={})
>>> session.set("search_path", "sales.crm")
>>> session.show("search_path"), session.show("server_version")
('sales.crm', '16.0')
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from lakemesh.errors import InvalidInputError
from lakemesh.model.names import IDENTIFIER

SERVER_VERSION = "16.0"
"""The PostgreSQL version the server claims: clients pick their SQL by it."""

WORKGROUP = "workgroup"

DEFAULT_SETTINGS: dict[str, str] = {
    "server_version": SERVER_VERSION,
    "server_version_num": "160000",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "datestyle": "ISO, MDY",
    "intervalstyle": "postgres",
    "timezone": "UTC",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "is_superuser": "off",
    "application_name": "",
    "default_transaction_read_only": "on",
    "transaction_read_only": "on",
    "transaction_isolation": "read committed",
    "default_transaction_isolation": "read committed",
    "extra_float_digits": "1",
    "search_path": "",
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "max_identifier_length": "63",
    "bytea_output": "hex",
    "lc_collate": "C",
    "lc_ctype": "C",
    "lc_messages": "C",
    "lc_monetary": "C",
    "lc_numeric": "C",
    "lc_time": "C",
    "client_min_messages": "notice",
    "jit": "off",
    "default_table_access_method": "heap",
    "max_index_keys": "32",
    WORKGROUP: "",
}

REPORTED = (
    "server_version",
    "server_encoding",
    "client_encoding",
    "DateStyle",
    "IntervalStyle",
    "TimeZone",
    "integer_datetimes",
    "standard_conforming_strings",
    "is_superuser",
    "application_name",
    "session_authorization",
    "default_transaction_read_only",
)
"""Settings sent as ParameterStatus at startup (their names as PostgreSQL spells them)."""

READ_ONLY = frozenset(
    {
        "server_version",
        "server_version_num",
        "server_encoding",
        "integer_datetimes",
        "is_superuser",
        "max_identifier_length",
        "lc_collate",
        "lc_ctype",
        "session_authorization",
        "transaction_read_only",
    }
)


@dataclass
class ClientSession:
    """What one connection remembers between its messages."""

    user: str
    database: str
    parameters: dict[str, str]
    settings: dict[str, str] = field(default_factory=dict)
    in_transaction: bool = False
    failed: bool = False
    statements: dict[str, Any] = field(default_factory=dict)
    portals: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = dict(DEFAULT_SETTINGS)
        self.settings["session_authorization"] = self.user
        for name, value in self.parameters.items():
            key = name.lower()
            if key in ("user", "database", "options", "replication"):
                continue
            if key in READ_ONLY:
                continue
            self.settings[key] = time_zone_name(value) if key == "timezone" else value
        for name, value in _options(self.parameters.get("options", "")).items():
            self.set(name, value)

    @property
    def workgroup(self) -> str | None:
        """The workgroup of the session's queries (``None``: the default one)."""
        return self.settings.get(WORKGROUP) or None

    @property
    def search_path(self) -> list[str]:
        """The schemas of ``search_path`` (``$user`` and system schemas left out), then the
        connection's database: as in PostgreSQL, ``schema.table`` is read in the database the
        client connected to (a domain), before the principal's own domain."""
        entries = [e.strip().strip('"').lower() for e in self.settings["search_path"].split(",")]
        found = [
            entry
            for entry in entries
            if entry and entry not in ("$user", "public", "pg_catalog", "information_schema")
        ]
        database = self.database.lower()
        if IDENTIFIER.match(database) and database not in found:
            found.append(database)
        return found

    @property
    def time_zone(self) -> str | None:
        """The zone timestamps with a zone are written in as text (None: UTC)."""
        zone = self.settings.get("timezone", "UTC")
        return None if zone.upper() in _UTC_NAMES else zone

    @property
    def statement_timeout(self) -> float | None:
        """``statement_timeout`` in seconds (``None``: none; the workgroup's limit holds anyway).

        >>> session = ClientSession(user="u", database="d", parameters={})
        >>> session.set("statement_timeout", "1.5s")
        >>> session.statement_timeout
        1.5
        """
        seconds = duration_seconds(self.settings.get("statement_timeout", "0"))
        return seconds or None

    def set(self, name: str, value: str) -> None:
        """``SET name = value``.

        Raises:
            InvalidInputError: the setting is read-only, or a search_path entry is no name.
        """
        key = name.lower()
        if key in READ_ONLY:
            raise InvalidInputError(
                f'parameter "{name}" cannot be changed', details={"setting": name}
            )
        if key == "search_path":
            for entry in value.split(","):
                parts = entry.strip().strip('"').lower().split(".")
                if entry.strip() and not all(IDENTIFIER.match(p) or p == "$user" for p in parts):
                    raise InvalidInputError(
                        f"Invalid search_path entry: {entry.strip()} (DOMAIN or DOMAIN.DATABASE)",
                        details={"setting": name},
                    )
        if key in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
            try:
                duration_seconds(value)
            except ValueError:
                raise InvalidInputError(
                    f'invalid value for parameter "{name}": "{value}"', details={"setting": name}
                ) from None
        if key == "timezone" and value.upper() != "DEFAULT":
            value = time_zone_name(value)
        self.settings[key] = DEFAULT_SETTINGS.get(key, "") if value.upper() == "DEFAULT" else value

    def reset(self, name: str) -> None:
        """``RESET name`` (``all`` resets every setting)."""
        if name == "all":
            for key in list(self.settings):
                if key not in READ_ONLY and key != "session_authorization":
                    self.settings[key] = DEFAULT_SETTINGS.get(key, "")
            return
        self.settings[name.lower()] = DEFAULT_SETTINGS.get(name.lower(), "")

    def show(self, name: str) -> str:
        """``SHOW name``.

        Raises:
            InvalidInputError: no such setting.
        """
        key = name.lower()
        if key not in self.settings:
            raise InvalidInputError(
                f'unrecognized configuration parameter "{name}"', details={"setting": name}
            )
        return self.settings[key]


_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "ETC/UTC", "ZULU", "UCT", "UNIVERSAL"})


def time_zone_name(value: str) -> str:
    """The IANA time zone ``value`` names, spelled as the zone database does.

    >>> time_zone_name("europe/paris"), time_zone_name("utc")
    ('Europe/Paris', 'UTC')

    Raises:
        InvalidInputError: no such zone (offsets like ``+02`` are not zones here).
    """
    text = value.strip().strip("'")
    if text.upper() in _UTC_NAMES:
        return "UTC"
    for name in _zone_names():
        if name.lower() == text.lower():
            return name
    raise InvalidInputError(
        f'invalid value for parameter "TimeZone": "{text}" (an IANA time zone such as '
        "Europe/Paris, or UTC)",
        details={"setting": "TimeZone"},
    )


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def duration_seconds(value: str) -> float:
    """A PostgreSQL duration setting in seconds: a number is milliseconds, or a number and a unit.

    >>> duration_seconds("5000"), duration_seconds("2min"), duration_seconds("0")
    (5.0, 120.0, 0.0)

    Raises:
        ValueError: not a duration.
    """
    text = value.strip().strip("'").lower()
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz ").strip()
    unit = text[len(number) :].strip() or "ms"
    if unit not in _UNITS:
        raise ValueError(f"unknown unit: {unit}")
    return float(number) * _UNITS[unit]


def _options(options: str) -> dict[str, str]:
    """The ``-c name=value`` pairs of a startup ``options`` string.

    >>> _options("-c workgroup=analytics --search_path=sales")
    {'workgroup': 'analytics', 'search_path': 'sales'}
    """
    found: dict[str, str] = {}
    words = options.replace("\\ ", "\x00").split()
    index = 0
    while index < len(words):
        word = words[index].replace("\x00", " ")
        if word == "-c" and index + 1 < len(words):
            index += 1
            word = words[index].replace("\x00", " ")
        elif word.startswith(("-c", "--")):
            word = word[2:]
        if "=" in word:
            name, value = word.split("=", 1)
            found[name.replace("-", "_").lower()] = value
        index += 1
    return found
