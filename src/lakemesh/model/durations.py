"""Durations as users write them: ``30d``, ``12h``, ``90m``, ``2w``, ``45s``."""

from __future__ import annotations

import re
from datetime import timedelta

from lakemesh.errors import InvalidInputError

DURATION = re.compile(r"^(\d+)([smhdw])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s``.

    >>> parse_duration("30d").days
    30
    """
    match = DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"Invalid duration: {text!r} (expected a positive number and a unit s, m, h, d or w, "
            "like 30d)",
            details={"duration": text},
        )
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def format_duration(delta: timedelta) -> str:
    """The shortest ``30d`` / ``12h`` / ``90m`` / ``45s`` spelling of ``delta``.

    >>> format_duration(timedelta(days=7)), format_duration(timedelta(minutes=90))
    ('7d', '90m')
    """
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
