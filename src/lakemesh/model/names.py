"""Names users type: principals (``user:alice@marketing``) and catalog objects (``d.db.t.c``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakemesh.errors import InvalidInputError

PRINCIPAL_KINDS = ("user", "group", "service", "domain")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
LOCAL_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


# What may not reach another user's terminal: C0 controls but tab, newline and carriage return
# (ESC starts colour and OSC-8 hyperlink sequences), DEL, C1 controls, and the bidirectional
# embeddings, overrides, isolates and marks that reorder what a reader sees.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def check_text(value: str, field: str) -> str:
    r"""Return ``value`` unless it holds a control character, else raise naming ``field``.

    >>> check_text("Orders\tof the EU", "description")
    'Orders\tof the EU'
    >>> check_text("\x1b[31mred", "description")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    lakemesh.errors.InvalidInputError: Invalid description: control character U+001B at ...
    """
    found = CONTROL_CHARACTERS.search(value)
    if found is not None:
        raise InvalidInputError(
            f"Invalid {field}: control character U+{ord(found.group()):04X} at position "
            f"{found.start()} (control characters and bidirectional overrides are not allowed)",
            details={"field": field, "position": found.start()},
        )
    return value


def check_identifier(value: str, what: str) -> str:
    """Return ``value`` if it is a valid lower-case identifier, else raise naming ``what``.

    >>> check_identifier("sales", "domain name")
    'sales'
    """
    if not IDENTIFIER.match(value):
        raise InvalidInputError(
            f"Invalid {what}: {value!r} "
            "(use lower-case letters, digits and _, starting with a letter)",
            details={"field": what, "value": value},
        )
    return value


@dataclass(frozen=True, order=True)
class PrincipalName:
    """``kind:name@domain`` for users, groups and services; ``domain:name`` for a domain."""

    kind: str
    name: str
    domain: str

    def __str__(self) -> str:
        if self.kind == "domain":
            return f"domain:{self.domain}"
        return f"{self.kind}:{self.name}@{self.domain}"


def parse_principal(text: str) -> PrincipalName:
    """Parse ``user:alice@marketing`` or ``domain:marketing``, lower-cased: principal names are
    case-insensitive, so ``user:MIA@marketing`` and ``user:mia@marketing`` are one principal.

    >>> str(parse_principal("group:analysts@marketing"))
    'group:analysts@marketing'
    >>> str(parse_principal("User:MIA@Marketing"))
    'user:mia@marketing'
    """
    kind, sep, rest = text.strip().lower().partition(":")
    if not sep or kind not in PRINCIPAL_KINDS:
        raise InvalidInputError(
            f"Invalid principal: {text!r} (expected user:NAME@DOMAIN, group:NAME@DOMAIN, "
            "service:NAME@DOMAIN or domain:NAME)",
            details={"principal": text},
        )
    if kind == "domain":
        return PrincipalName("domain", rest, check_identifier(rest, "domain name"))
    name, at, domain = rest.rpartition("@")
    if not at or not name or not LOCAL_NAME.match(name):
        raise InvalidInputError(
            f"Invalid principal: {text!r} (expected {kind}:NAME@DOMAIN)",
            details={"principal": text},
        )
    return PrincipalName(kind, name, check_identifier(domain, "domain name"))


@dataclass(frozen=True, order=True)
class ResourceName:
    """A catalog object: ``domain``, ``domain.database``, ``domain.database.table`` or a column."""

    domain: str
    database: str | None = None
    table: str | None = None
    column: str | None = None

    @property
    def level(self) -> str:
        """One of ``domain``, ``database``, ``table``, ``column``."""
        if self.column is not None:
            return "column"
        if self.table is not None:
            return "table"
        if self.database is not None:
            return "database"
        return "domain"

    @property
    def table_name(self) -> ResourceName:
        """The table this name is or lies in."""
        return ResourceName(self.domain, self.database, self.table)

    def __str__(self) -> str:
        parts = [self.domain, self.database, self.table, self.column]
        return ".".join(p for p in parts if p is not None)


def parse_resource(text: str, *, level: str | None = None) -> ResourceName:
    """Parse ``sales.crm.customers`` (optionally requiring a ``level``).

    >>> parse_resource("sales.crm.customers").level
    'table'
    """
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 4 or any(not p for p in parts):
        raise InvalidInputError(
            f"Invalid resource name: {text!r} (expected DOMAIN[.DATABASE[.TABLE[.COLUMN]]])",
            details={"resource": text},
        )
    for part in parts[:3]:
        check_identifier(part, "name part")
    name = ResourceName(*parts)
    if level is not None and name.level != level:
        raise InvalidInputError(
            f"Expected a {level} name, got {name.level} name: {text!r}", details={"resource": text}
        )
    return name
