"""How every engine holds a running query to its limits: time, cancellation and rows."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from lakemesh.errors import LakemeshError, LimitExceededError
from lakemesh.query.engines.base import Cancellation, QueryCancelledError, QueryLimits


@contextmanager
def interruptible(
    *,
    limits: QueryLimits,
    cancellation: Cancellation | None,
    interrupt: Callable[[], None],
    engine_errors: type[Exception],
) -> Iterator[None]:
    """Run the block with ``interrupt`` called when ``limits.timeout_seconds`` pass or
    ``cancellation`` is used; the engine error an interrupt causes comes out as what caused it.

    Raises:
        QueryCancelledError: ``cancellation`` was used (before the block, or while it ran).
        LimitExceededError: the block ran out of time.
    """
    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        interrupt()

    timer = None
    remove_callback = None
    try:
        if limits.timeout_seconds is not None:
            timer = threading.Timer(limits.timeout_seconds, on_timeout)
            timer.daemon = True
            timer.start()
        if cancellation is not None:
            remove_callback = cancellation.on_cancel(interrupt)
            if cancellation.cancelled:  # an interrupt before the query starts would be forgotten
                raise QueryCancelledError("Query was cancelled")
        yield
    except LakemeshError:
        raise
    except engine_errors as e:
        if cancellation is not None and cancellation.cancelled:
            raise QueryCancelledError("Query was cancelled") from e
        if timed_out.is_set():
            raise LimitExceededError(
                f"Query exceeded the time limit of {limits.timeout_seconds:g}s",
                details={"limit": "timeout_seconds", "value": limits.timeout_seconds},
            ) from e
        raise
    finally:
        if timer is not None:
            timer.cancel()
        if remove_callback is not None:
            remove_callback()


def row_limit_exceeded(max_rows: int) -> LimitExceededError:
    """The error of a query that returned more than ``max_rows`` rows."""
    return LimitExceededError(
        f"Query returned more than the row limit of {max_rows}",
        details={"limit": "max_rows", "value": max_rows},
    )
