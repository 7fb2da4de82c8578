"""Posting events to webhooks: signed, retried with bounded backoff, every try recorded.

Each delivery is a POST of the event as JSON with these headers:

- ``X-Lakemesh-Event``: the event kind; ``X-Lakemesh-Delivery``: the delivery's id;
- ``X-Lakemesh-Timestamp``: seconds since the epoch when it was signed;
- ``X-Lakemesh-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the webhook's
  secret, of ``TIMESTAMP.BODY``, so a receiver can check who sent it and refuse old replays
  (:func:`verify_signature`).

A delivery is tried at once after the notifying transaction commits, then after 1, 2, 4 and 8
seconds; a 2xx answer delivers it, anything else is recorded (status code or error) and, after
the fifth try, the delivery is ``failed``. ``lakemesh webhook redeliver ID`` tries it again.

>>> body = b'{"kind":"check_failed"}'
>>> signature = sign("s3cret-s3cret-s3cret", "1700000000", body)
>>> verify_signature("s3cret-s3cret-s3cret", body, timestamp="1700000000",
...                  signature=signature, now=1700000010)
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.store.schema import WebhookDelivery

if TYPE_CHECKING:
    from lakemesh.hub import Hub

BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0)
"""Waits between tries: at most ``len(BACKOFF_SECONDS) + 1`` tries in all."""
TIMEOUT_SECONDS = 5.0
REPLAY_TOLERANCE_SECONDS = 300
PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
PENDING_EVENTS = "lakemesh_pending_webhook_events"
"""Key in ``Session.info``: the events whose webhook deliveries wait for the commit."""

_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Lakemesh-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    *,
    timestamp: str,
    signature: str,
    now: float | None = None,
    tolerance: float = REPLAY_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``signature`` is the hub's for ``body`` at ``timestamp`` and that time lies
    within ``tolerance`` seconds of ``now`` (a receiver's check against replays)."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _claim(hub: Hub, events: Sequence[str] | None, *, due_only: bool) -> list[int]:
    """Mark the pending deliveries to send now ``sending`` (so no other process sends them)."""
    with hub.transaction() as session:
        query = select(WebhookDelivery.id).where(WebhookDelivery.status == PENDING)
        if events is not None:
            query = query.where(WebhookDelivery.event.in_(list(events)))
        if due_only:
            query = query.where(WebhookDelivery.next_attempt_at <= clock.now())
        claimed: list[int] = []
        for number in session.execute(query.order_by(WebhookDelivery.id)).scalars().all():
            done = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == number, WebhookDelivery.status == PENDING)
                .values(status=SENDING)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(number)
    return claimed


def _post(
    url: str, secret: str, delivery_id: int, payload: dict[str, Any]
) -> tuple[int | None, str | None]:
    """POST one signed delivery; the answer's status and, when it is no 2xx, what went wrong."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "lakemesh-webhooks",
        "X-Lakemesh-Event": str(payload.get("kind", "")),
        "X-Lakemesh-Delivery": str(delivery_id),
        "X-Lakemesh-Timestamp": timestamp,
        "X-Lakemesh-Signature": sign(secret, timestamp, body),
    }
    try:
        response = httpx.post(
            url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False
        )
    except httpx.HTTPError as e:
        return None, f"{type(e).__name__}: {e}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _send(hub: Hub, delivery_id: int) -> str:
    with hub.read() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:
            return FAILED
        url, secret, payload = row.webhook.url, row.webhook.secret.value, dict(row.payload)
    code, error = _post(url, secret, delivery_id, payload)
    with hub.transaction() as session:
        row = session.get(WebhookDelivery, delivery_id)
        if row is None:  # the webhook was deleted meanwhile
            return FAILED
        now = clock.now()
        row.attempts += 1
        row.response_status, row.error = code, error
        if error is None:
            row.status, row.delivered_at, row.next_attempt_at = DELIVERED, now, None
        elif row.attempts > len(BACKOFF_SECONDS):
            row.status, row.next_attempt_at = FAILED, None
        else:
            wait = BACKOFF_SECONDS[row.attempts - 1]
            row.status, row.next_attempt_at = PENDING, now + timedelta(seconds=wait)
        return row.status


def deliver_due(
    hub: Hub, *, events: Sequence[str] | None = None, due_only: bool = True
) -> dict[int, str]:
    """Try the pending deliveries (of ``events``) that are due; delivery id -> new status."""
    return {number: _send(hub, number) for number in _claim(hub, events, due_only=due_only)}


def deliver_with_retries(hub: Hub, events: Sequence[str]) -> None:
    """Try the deliveries of ``events`` now and again after each backoff until none is
    pending (what runs after a notifying transaction commits)."""
    for wait in (*BACKOFF_SECONDS, None):
        outcome = deliver_due(hub, events=events, due_only=False)
        if not outcome or all(status != PENDING for status in outcome.values()):
            return
        if wait is not None:
            time.sleep(wait)


def _start(session: Session) -> None:
    events = session.info.pop(PENDING_EVENTS, None)
    hub = session.info.get("hub")
    if not events or hub is None:
        return
    thread = threading.Thread(
        target=deliver_with_retries, args=(hub, list(events)), name="lakemesh-webhooks"
    )
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()


def _forget(session: Session) -> None:
    session.info.pop(PENDING_EVENTS, None)


def deliver_after_commit(session: Session, event: str) -> None:
    """Post the pending deliveries of ``event`` once the session's transaction commits (in a
    thread: the caller does not wait for receivers); nothing is posted when it rolls back."""
    session.info.setdefault(PENDING_EVENTS, []).append(event)
    if not sqlalchemy_event.contains(session, "after_commit", _start):
        sqlalchemy_event.listen(session, "after_commit", _start)
        sqlalchemy_event.listen(session, "after_rollback", _forget)


def wait_for_deliveries(timeout: float = 30.0) -> bool:
    """Wait until the deliveries started by this process finished; False on timeout."""
    deadline = time.monotonic() + timeout
    with _threads_lock:
        threads = list(_threads)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)
