"""The policy index of a hub process, kept in step with the store.

Every change that can alter a decision calls :func:`mark_policy_changed` in its transaction, which
bumps one counter row. Before deciding, :func:`policy_index` compares that counter (read in the
caller's transaction) with the version its cached index was built at and reloads when they differ,
so a grant or revoke committed by any hub process decides the very next request everywhere.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lakemesh.governance.loader import load_index
from lakemesh.hub import Hub
from lakemesh.policy import PolicyIndex
from lakemesh.store.versions import CHANGED, mark_policy_changed, policy_version

CACHE_KEY = "policy_index"


@dataclass
class _Cached:
    version: int
    index: PolicyIndex


_build_lock = threading.Lock()


def _cached(hub: Hub) -> _Cached | None:
    cached = hub.caches.get(CACHE_KEY)
    return cached if isinstance(cached, _Cached) else None


def policy_index(session: Session) -> PolicyIndex:
    """The policy index as of the caller's transaction (rebuilt when the store moved on)."""
    hub = Hub.of(session)
    if session.info.get(CHANGED):
        # Built from this transaction's own uncommitted changes: never shared with others.
        return load_index(session)
    version = policy_version(session)
    cached = _cached(hub)
    if cached is not None and cached.version == version:
        return cached.index
    with _build_lock:
        cached = _cached(hub)
        if cached is not None and cached.version == version:
            return cached.index
        index = load_index(session)
        # The index is long-lived: keep the collector from walking it on every full collection.
        gc.collect()
        gc.freeze()
        hub.caches[CACHE_KEY] = _Cached(version, index)
        return index


__all__ = ["mark_policy_changed", "policy_index", "policy_version"]
