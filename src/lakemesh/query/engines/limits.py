"""How every engine holds a running query to its limits: time, cancellation, memory and size."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pyarrow as pa

from lakemesh.errors import LakemeshError, LimitExceededError, QueryCancelledError
from lakemesh.query.engines.base import Cancellation, QueryLimits


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
        f"Query returned more than the row limit of {max_rows} rows (max_rows)",
        details={"limit": "max_rows", "value": max_rows},
    )


def result_size_exceeded(max_result_bytes: int) -> LimitExceededError:
    """The error of a query whose result grew past ``max_result_bytes``."""
    return LimitExceededError(
        f"Query result is larger than the limit of {max_result_bytes} bytes (max_result_bytes)",
        details={"limit": "max_result_bytes", "value": max_result_bytes},
    )


def memory_limit_exceeded(limits: QueryLimits) -> LimitExceededError:
    """The error of a query that needed more memory than ``limits.memory_limit``."""
    return LimitExceededError(
        f"Query exceeded the memory limit of {limits.memory_limit} (max_memory_bytes)",
        details={"limit": "max_memory_bytes", "value": memory_bytes(limits.memory_limit)},
    )


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B|BYTES)?\s*$", re.IGNORECASE)


def memory_bytes(size: str) -> int:
    """Bytes of a memory size in DuckDB's spelling (``KB``/``MB``/``GB`` are powers of 1000,
    ``KiB``/``MiB``/``GiB`` powers of 1024).

    >>> memory_bytes("2GB"), memory_bytes("512MiB"), memory_bytes("1000B")
    (2000000000, 536870912, 1000)

    Raises:
        ValueError: not a size.
    """
    match = _SIZE.match(size)
    if match is None:
        raise ValueError(f"Not a memory size: {size!r}")
    unit = (match.group(2) or "B").upper()
    if unit == "BYTES":
        unit = "B"
    base = 1024 if "I" in unit else 1000
    power = "BKMGT".index(unit[0]) if unit != "B" else 0
    return int(float(match.group(1)) * base**power)


def memory_size(size: int) -> str:
    """The shortest exact DuckDB spelling of ``size`` bytes.

    >>> memory_size(2 * 1024**3), memory_size(256 * 1000**2), memory_size(1234)
    ('2GiB', '256MB', '1234B')
    """
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    for unit, factor in (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def arrow_stream_size(table: pa.Table) -> int:
    """The size of ``table`` written as an Arrow IPC stream (how ``max_result_bytes`` counts a
    result), measured without writing it anywhere."""
    sink = pa.MockOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return int(sink.size())
