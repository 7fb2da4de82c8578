"""The kinds of event lakemesh tells people about.

>>> EventKind("schema_change_proposed") is EventKind.SCHEMA_CHANGE_PROPOSED
True
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """What happened to a data product that its producers and subscribers should know."""

    SCHEMA_CHANGE_PROPOSED = "schema_change_proposed"
    SCHEMA_CHANGE_ACCEPTED = "schema_change_accepted"
    SCHEMA_CHANGE_REJECTED = "schema_change_rejected"
    CONTRACT_VIOLATED = "contract_violated"
    PRODUCT_DEPRECATED = "product_deprecated"
    CHECK_FAILED = "check_failed"
    SLA_BREACHED = "sla_breached"


KINDS = tuple(kind.value for kind in EventKind)


def parse_kinds(names: list[str] | tuple[str, ...]) -> list[str]:
    """Event kind names checked against :data:`KINDS` (order kept, repeats dropped).

    Raises:
        ValueError: naming the unknown kind (callers turn it into their own error).
    """
    found: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name not in KINDS:
            raise ValueError(name)
        if name not in found:
            found.append(name)
    return found
