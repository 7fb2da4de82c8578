"""Writing and verifying the hash-chained audit trail.

Each event's hash covers its own fields and the previous event's hash, and the ``audit_head`` row
holds the last sequence number and hash. Editing an event breaks its hash; removing or reordering
events breaks the sequence or the chain; removing the last events breaks the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.model.actions import Action
from lakemesh.store.schema import AuditEvent, AuditHead

GENESIS = "0" * 64
VERIFY_BATCH = 5000
AUDIT_CONTEXT = "lakemesh_audit_context"
"""Key in ``Session.info``: details every event of the transaction carries (``apply_id``)."""


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over a canonical JSON rendering of the event's fields and the previous hash."""
    body = json.dumps(
        {
            "seq": event.seq,
            "time": event.time.isoformat(timespec="microseconds"),
            "actor": event.actor,
            "action": event.action,
            "resource": event.resource,
            "outcome": event.outcome,
            "details": event.details,
            "prev": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One event to append (see :func:`record_many`)."""

    actor: str
    action: Action
    resource: str
    outcome: str = "success"
    details: dict[str, Any] | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: Action,
    resource: str,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change).

    The transaction's :data:`AUDIT_CONTEXT` details (``{"apply_id": ...}``) go into every event.
    """
    entry = Entry(actor, action, resource, outcome, details)
    return record_many(session, [entry])[0]


def record_many(session: Session, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Append ``entries`` in order in the caller's transaction, as :func:`record` appends each,
    under one read of the chain's head and one flush (a service making many changes at once)."""
    if not entries:
        return []
    context = session.info.get(AUDIT_CONTEXT)
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    now = clock.now()
    events: list[AuditEvent] = []
    seq, previous = head.seq, head.hash
    for entry in entries:
        details = {**context, **(entry.details or {})} if context else entry.details
        # Round-trip through JSON so the hash is computed over exactly what the store returns.
        clean_details: dict[str, Any] = json.loads(json.dumps(details or {}, default=str))
        seq += 1
        event = AuditEvent(
            seq=seq,
            time=now,
            actor=entry.actor,
            action=str(entry.action),  # the plain value: the trail is read by other tools too
            resource=entry.resource,
            outcome=entry.outcome,
            details=clean_details,
            prev_hash=previous,
        )
        event.hash = previous = event_hash(event)
        events.append(event)
    session.add_all(events)
    head.seq, head.hash = seq, previous
    session.flush()
    return events


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``verify``: ok, or the first broken event and why."""

    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def _events(session: Session) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > last)
                .order_by(AuditEvent.seq)
                .limit(VERIFY_BATCH)
            )
            .scalars()
            .all()
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify(session: Session) -> VerifyResult:
    """Walk the whole chain and report the first event that was edited, removed or reordered."""
    expected_seq, prev_hash, count = 1, GENESIS, 0
    for event in _events(session):
        count += 1
        if event.seq != expected_seq:
            return VerifyResult(
                False, count, expected_seq, f"event {expected_seq} is missing (next is {event.seq})"
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(
                False, count, event.seq, f"event {event.seq} does not follow the previous event"
            )
        digest = event_hash(event)
        if digest != event.hash:
            return VerifyResult(False, count, event.seq, f"event {event.seq} was altered")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev_hash:
        return VerifyResult(
            False,
            count,
            count + 1,
            f"the chain ends at event {count} but the head records event {head_seq}",
        )
    return VerifyResult(True, count)
