"""The tamper-evident audit trail (DESIGN §7)."""

from __future__ import annotations

from lakemesh.audit.chain import Entry, VerifyResult, record, record_many, verify
from lakemesh.audit.search import search, verify_trail

__all__ = ["Entry", "VerifyResult", "record", "record_many", "search", "verify", "verify_trail"]
