"""ODCS ``slaProperties``: the promises lakemesh measures (freshness, frequency, retention).

``latency`` and ``freshness`` are the same promise (ODCS prefers the first, tools in the wild the
second): the newest data is at most that old. ``frequency`` is how often the data is updated,
``retention`` how far back it goes. ``element`` may name the timestamp column to measure
(``orders.updated_at``); without it lakemesh looks at the newest partition or file.

>>> sla = parse_slas([{"property": "freshness", "value": 4, "unit": "h"}], problems=[])[0]
>>> sla.property, sla.seconds, sla.text
('latency', 14400, '4 h')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LATENCY, FREQUENCY, RETENTION = "latency", "frequency", "retention"
SYNONYMS = {"freshness": LATENCY, LATENCY: LATENCY, FREQUENCY: FREQUENCY, RETENTION: RETENTION}
UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 7 * 86400,
    "week": 7 * 86400,
    "weeks": 7 * 86400,
    "month": 30 * 86400,
    "months": 30 * 86400,
    "y": 365 * 86400,
    "yr": 365 * 86400,
    "year": 365 * 86400,
    "years": 365 * 86400,
}


@dataclass(frozen=True)
class Sla:
    """One measured SLA: its property (synonyms folded), its limit in seconds, and the column
    (``table.column``) it is measured on, when the contract names one."""

    property: str
    seconds: int
    text: str
    element: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "property": self.property,
            "value": self.text,
            "seconds": self.seconds,
            "element": self.element,
        }


def parse_slas(value: Any, *, problems: list[str]) -> list[Sla]:
    """The measured SLAs of ``slaProperties`` (others, like ``generalAvailability``, are kept in
    the document but not measured); problems name the field at fault."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("slaProperties must be a list")
        return []
    found: list[Sla] = []
    for position, item in enumerate(value):
        where = f"slaProperties[{position}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        name = item.get("property")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.property is required")
            continue
        if "value" not in item:
            problems.append(f"{where}.value is required")
            continue
        canonical = SYNONYMS.get(name)
        if canonical is None:
            continue
        amount, unit = item["value"], str(item.get("unit") or "d").strip().lower()
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            problems.append(f"{where}.value must be a positive number for {name}, got {amount!r}")
            continue
        if unit not in UNIT_SECONDS:
            problems.append(
                f"{where}.unit {item.get('unit')!r} is not a time unit (s, m, h, d, w, month, y)"
            )
            continue
        element = item.get("element")
        if element is not None and (not isinstance(element, str) or "." not in element):
            problems.append(f"{where}.element must name a column as table.column, got {element!r}")
            continue
        amount_text = str(int(amount)) if float(amount).is_integer() else str(amount)
        found.append(
            Sla(canonical, int(amount * UNIT_SECONDS[unit]), f"{amount_text} {unit}", element)
        )
    return found
