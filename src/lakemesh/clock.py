"""The one source of time in lakemesh, so tests can move it (the only thing tests may fake)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
