"""Durations as users write them: ``30d``, ``12h``, ``90m``, ``2w``, ``45s``."""

from __future__ import annotations

import re
from datetime import timedelta

from lakemesh.errors import InvalidInputError

DURATION = re.compile(r"^(\d+)([smhdw])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST = timedelta(days=36500)
"""The longest duration anyone may ask for (100 years): a token's lifetime, a result's
retention or an audit search's reach back all stay dates the calendar holds."""


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s``, at most :data:`LONGEST`.

    >>> parse_duration("30d").days
    30
    >>> parse_duration("99999999d")
    Traceback (most recent call last):
    lakemesh.errors.InvalidInputError: Invalid duration: '99999999d' (the longest is 36500d, ...)
    """
    match = DURATION.match(text.strip())
    if not match or match.group(1).strip("0") == "":
        raise InvalidInputError(
            f"Invalid duration: {text!r} (expected a positive number and a unit s, m, h, d or w, "
            "like 30d)",
            details={"duration": text},
        )
    amount, unit = match.group(1).lstrip("0"), match.group(2)
    # Measured as text first: a number of thousands of digits is never converted.
    if len(amount) > 12 or int(amount) * SECONDS[unit] > LONGEST.total_seconds():
        raise InvalidInputError(
            f"Invalid duration: {text!r} (the longest is {format_duration(LONGEST)}, 100 years)",
            details={"duration": text},
        )
    return timedelta(**{UNITS[unit]: int(amount)})


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
