"""Work that stops when its client goes away: a query nobody waits for any more is cancelled.

The work runs in a worker thread; the request's task watches the connection meanwhile and, once
the client disconnected (it closed the connection or gave up waiting), cancels the work through
its :class:`~lakemesh.query.engines.Cancellation`, so the query is stopped and recorded as
cancelled instead of running to its end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from lakemesh.query.engines import Cancellation

T = TypeVar("T")
POLL_SECONDS = 0.2


async def cancel_on_disconnect(
    request: Request, cancellation: Cancellation, work: Callable[[], T]
) -> T:
    """Run ``work`` in a thread; cancel ``cancellation`` if the client disconnects first.

    Raises whatever ``work`` raises (a cancelled query raises QueryCancelledError).
    """
    task = asyncio.ensure_future(run_in_threadpool(work))
    while not task.done():
        await asyncio.wait({task}, timeout=POLL_SECONDS)
        if not task.done() and await request.is_disconnected():
            cancellation.cancel()
            break
    return await task
