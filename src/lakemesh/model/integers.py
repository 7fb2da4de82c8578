"""The range of the integers the hub stores."""

from __future__ import annotations

MAX_STORED_INTEGER = 2**63 - 1
"""The largest integer the store keeps (a signed 64-bit column on SQLite and PostgreSQL): a
larger id, limit or count in a request is refused, never overflowed."""
