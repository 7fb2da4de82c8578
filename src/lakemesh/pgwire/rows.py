"""A statement's rows as a connection sends them: the schema at once, then a few rows at a time.

Rows come from a governed query's stream (:func:`lakemesh.query.service.stream`), so a result is
never whole in the hub: the connection takes the next rows only when the client has read the
previous ones (the socket's buffers apply backpressure through ``drain``), and the query's
worker waits meanwhile. Answers made here (catalog queries, ``SHOW``) are small tables.

>>> rows = Rows.of_table(pa.table({"n": list(range(5))}))
>>> [rows.take(2).num_rows, rows.take(2).num_rows, rows.take(2).num_rows, rows.take(2)]
[2, 2, 1, None]
>>> rows.sent
5
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pyarrow as pa

from lakemesh.query.engines import Cancellation

BATCH_ROWS = 8192
"""Rows encoded and written at a time."""


class Rows:
    """The rows of one statement, taken a batch at a time; :meth:`close` ends their query."""

    def __init__(
        self,
        schema: pa.Schema,
        batches: Iterator[pa.RecordBatch],
        *,
        close: Callable[[], None] | None = None,
        cancellation: Cancellation | None = None,
        timeout: float | None = None,
    ) -> None:
        self.schema = schema
        self.sent = 0
        """Rows taken so far."""
        self.cancellation = cancellation
        """Stops the query behind the rows (a CancelRequest while they are being sent)."""
        self.timed_out = False
        """True once ``timeout`` (the session's ``statement_timeout``) cancelled the query."""
        self._batches = batches
        self._pending: pa.RecordBatch | None = None
        self._ended = False
        self._close = close
        self._timer: threading.Timer | None = None
        if timeout and cancellation is not None:
            self._timer = threading.Timer(timeout, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def start(
        self,
        schema: pa.Schema,
        batches: Iterator[pa.RecordBatch],
        *,
        close: Callable[[], None] | None = None,
    ) -> None:
        """Give rows made before their query started (its timer running) the query's stream."""
        self.schema, self._batches, self._close = schema, batches, close

    @classmethod
    def of_table(cls, table: pa.Table) -> Rows:
        """The rows of an answer made whole (catalog queries, ``SHOW``)."""
        return cls(table.schema, iter(table.to_batches(max_chunksize=BATCH_ROWS)))

    def _expire(self) -> None:
        self.timed_out = True
        assert self.cancellation is not None
        self.cancellation.cancel()

    def _fill(self) -> bool:
        """Make sure a non-empty batch is pending; False at the end of the rows."""
        while self._pending is None or self._pending.num_rows == 0:
            if self._ended:
                return False
            try:
                self._pending = next(self._batches)
            except StopIteration:
                self._ended = True
                self._pending = None
                self._stop_timer()
                return False
            except BaseException:
                self._ended = True
                self._stop_timer()
                raise
        return True

    def take(self, limit: int = 0) -> pa.RecordBatch | None:
        """The next rows: at most ``limit`` (0: no limit) and :data:`BATCH_ROWS`; None at the
        end. Blocks while the query produces them.

        Raises:
            LakemeshError: what stopped the query while it was read (a limit, a cancel).
        """
        if not self._fill():
            return None
        assert self._pending is not None
        count = min(BATCH_ROWS, self._pending.num_rows)
        if limit > 0:
            count = min(count, limit)
        piece = self._pending.slice(0, count)
        rest = self._pending.num_rows - count
        self._pending = self._pending.slice(count) if rest else None
        self.sent += count
        return piece

    def at_end(self) -> bool:
        """True when no row is left (reads ahead one batch to know)."""
        return not self._fill()

    def close(self) -> None:
        """End the rows: a query not read to its end is stopped (and recorded with the rows
        sent)."""
        self._stop_timer()
        self._ended = True
        self._pending = None
        if self._close is not None:
            close, self._close = self._close, None
            close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
