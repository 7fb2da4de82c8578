"""The audit chain detects any edited, removed or reordered event, on both store backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.catalog import domains
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv


def _populate(env: HubEnv) -> None:
    for name in ("sales", "marketing", "finance", "hr"):
        with env.hub.transaction() as session:
            domains.create_domain(session, actor=env.admin, name=name)


def test_untouched_chain_verifies(env: HubEnv) -> None:
    _populate(env)
    with env.hub.transaction() as session:
        result = audit.verify(session)
    assert result.ok
    assert result.events == 5
    assert result.broken_seq is None


def _edit(session: Session) -> None:
    session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(actor="user:mallory@x"))


def _edit_details(session: Session) -> None:
    session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(details={"admins": []}))


def _remove_middle(session: Session) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.seq == 3))


def _remove_last(session: Session) -> None:
    session.execute(delete(AuditEvent).where(AuditEvent.seq == 5))


def _reorder(session: Session) -> None:
    session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(seq=-3))
    session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(seq=3))
    session.execute(update(AuditEvent).where(AuditEvent.seq == -3).values(seq=4))


def _rehash_edited(session: Session) -> None:
    """An attacker who edits an event and recomputes its hash still breaks the next link."""
    event = session.execute(select(AuditEvent).where(AuditEvent.seq == 2)).scalar_one()
    forged = audit.chain.event_hash(
        AuditEvent(
            seq=event.seq,
            time=event.time,
            actor="user:mallory@x",
            action=event.action,
            resource=event.resource,
            outcome=event.outcome,
            details=event.details,
            prev_hash=event.prev_hash,
        )
    )
    session.execute(
        update(AuditEvent).where(AuditEvent.seq == 2).values(actor="user:mallory@x", hash=forged)
    )


@pytest.mark.parametrize(
    ("tamper", "broken_seq", "reason"),
    [
        (_edit, 3, "event 3 was altered"),
        (_edit_details, 2, "event 2 was altered"),
        (_remove_middle, 3, "event 3 is missing"),
        (_remove_last, 5, "the chain ends at event 4 but the head records event 5"),
        (_reorder, 3, "event 3 does not follow the previous event"),
        (_rehash_edited, 3, "event 3 does not follow the previous event"),
    ],
    ids=["edit", "edit-details", "remove-middle", "remove-last", "reorder", "rehash"],
)
def test_tampering_is_detected(
    env: HubEnv, tamper: Callable[[Session], None], broken_seq: int, reason: str
) -> None:
    _populate(env)
    with env.hub.transaction() as session:
        tamper(session)
    with env.hub.transaction() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.broken_seq == broken_seq
    assert result.reason is not None
    assert reason in result.reason


def test_events_are_searchable(env: HubEnv) -> None:
    _populate(env)
    with env.hub.transaction() as session:
        by_action = audit.search(session, reader=env.admin, action="domain")
        by_resource = audit.search(session, reader=env.admin, resource="sales")
        by_actor = audit.search(session, reader=env.admin, actor="user:admin@governance", limit=2)
    assert [e.resource for e in by_action] == ["hr", "finance", "marketing", "sales"]
    assert [e.action for e in by_resource] == ["domain.create"]
    assert [e.seq for e in by_actor] == [5, 4]


def test_concurrent_writers_keep_one_chain(env: HubEnv) -> None:
    """Writers on separate connections append one after another, never forking the chain."""
    import threading

    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for step in range(5):
                with env.hub.transaction() as session:
                    domains.create_domain(session, actor=env.admin, name=f"d{index}_{step}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with env.hub.transaction() as session:
        result = audit.verify(session)
        count = session.execute(text("SELECT count(*) FROM audit_events")).scalar()
    assert result.ok
    assert result.events == count == 21
