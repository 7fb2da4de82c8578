"""The tamper-evident audit trail (DESIGN §7)."""

from __future__ import annotations

from lakemesh.audit.chain import VerifyResult, record, verify
from lakemesh.audit.search import search, verify_trail

__all__ = ["VerifyResult", "record", "search", "verify", "verify_trail"]
