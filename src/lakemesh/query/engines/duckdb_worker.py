"""A query worker process: runs the hub's DuckDB queries, one at a time, outside the hub.

The hub starts it as ``python -m lakemesh.query.engines.duckdb_worker`` (:mod:`.duckdb_process`)
and talks to it over its standard input and output in frames (:func:`write_frame`): the worker
first says it is ready, then answers each query with its figures or its error. Rows never travel
in a frame: a result of at most the request's ``inline_bytes`` follows its reply frame on the
pipe as an Arrow IPC stream of that many bytes (the reply's ``inline``); a larger one is written
to the file the request names, as an Arrow IPC stream. A request with ``stream`` is answered
batch by batch instead: a frame ``{"chunk": n}`` and n bytes per batch (an Arrow IPC stream of
its own, the first one holding only the schema), then the reply. The pipe holds back a worker
whose hub does not read: a result is produced as fast as its reader takes it.

While a query runs the worker's address space is capped (``RLIMIT_AS``) at what it used before
plus the query's memory limit and some slack, so one huge allocation fails in the worker; the
hub also watches the worker's resident memory and kills it past the limit. Either way the hub
keeps serving.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from functools import partial
from typing import IO, Any

from lakemesh.errors import LakemeshError
from lakemesh.query.engines.base import QueryLimits
from lakemesh.query.engines.limits import memory_bytes, memory_limit_exceeded
from lakemesh.storage.s3 import S3Options

MAX_FRAME_BYTES = 1 << 20
MAX_INLINE_BYTES = 1 << 20
"""The largest result a worker sends through its pipe rather than in a file."""
MAX_CHUNK_BYTES = 256 << 20
"""The largest batch a streaming worker sends in one chunk (it sends batches of a few MiB)."""
ADDRESS_SLACK_BYTES = 1 << 30
"""Address space a query may reserve beyond its memory limit (thread stacks, allocator arenas)."""

_HEADER = struct.Struct(">I")


class ChannelClosedError(EOFError):
    """The other end of a worker channel went away."""


def write_frame(stream: IO[bytes], message: dict[str, Any], payload: bytes = b"") -> None:
    """Send ``message`` as one frame: a 4-byte big-endian length, then its JSON; ``payload``
    (bytes the message announces) follows it in the same write."""
    body = json.dumps(message).encode()
    stream.write(_HEADER.pack(len(body)) + body + payload)
    stream.flush()


def read_frame(read: Any) -> dict[str, Any]:
    """Receive one frame with ``read(n)`` (a function returning at most ``n`` bytes).

    Raises:
        ChannelClosedError: the channel ended (the other side exited or was killed).
        ValueError: the frame is not a JSON object of at most :data:`MAX_FRAME_BYTES`.
    """
    (length,) = _HEADER.unpack(read_exactly(read, _HEADER.size))
    if length > MAX_FRAME_BYTES:
        raise ValueError(f"Worker frame too large: {length} bytes")
    message = json.loads(read_exactly(read, length))
    if not isinstance(message, dict):
        raise ValueError("Worker frame is not a JSON object")
    return message


def read_exactly(read: Any, size: int) -> bytes:
    """``size`` bytes from ``read(n)``.

    Raises:
        ChannelClosedError: the channel ended first.
    """
    chunks: list[bytes] = []
    while size:
        chunk = read(size)
        if not chunk:
            raise ChannelClosedError("Worker channel closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def memory_status(pid: int | str = "self") -> dict[str, int]:
    """``VmSize`` and ``VmRSS`` of a process, in bytes (0 when it is gone)."""
    found = {"VmSize": 0, "VmRSS": 0}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in found:
                    found[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return found


def cpu_seconds() -> float:
    """CPU time this process has used (every thread, user and system), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def serve(
    sandboxes: dict[str | None, Any],
    request: dict[str, Any],
    send_chunk: Callable[[bytes], None] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """Run one request in the sandbox of its spill directory; the reply, and the result's Arrow
    IPC stream when it is sent inline (else empty). A ``stream`` request's batches go to
    ``send_chunk`` as they come."""
    from lakemesh.query.engines.duckdb_sandbox import DuckDBSandbox

    temp_directory = request.get("temp_directory") or None
    sandbox = sandboxes.get(temp_directory)
    if sandbox is None:
        sandbox = sandboxes[temp_directory] = DuckDBSandbox(temp_directory=temp_directory)
    limits = QueryLimits(**request["limits"])
    s3 = request.get("s3")
    inline = b""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        try:
            allowed = memory_status()["VmSize"] + memory_bytes(limits.memory_limit)
        except ValueError:
            allowed = resource.RLIM_INFINITY  # the sandbox refuses the limit by name
        else:
            allowed += ADDRESS_SLACK_BYTES
            if hard != resource.RLIM_INFINITY:
                allowed = min(allowed, hard)
        resource.setrlimit(resource.RLIMIT_AS, (allowed, hard))
        written = sandbox.run(
            sql=request["sql"],
            files=request["files"],
            parameters=request["parameters"],
            limits=limits,
            result_path=request["result_path"],
            s3_options=S3Options(**s3) if s3 else None,
            inline_bytes=min(int(request.get("inline_bytes") or 0), MAX_INLINE_BYTES),
            send=send_chunk if request.get("stream") else None,
        )
        reply: dict[str, Any] = {"rows": written.rows, "bytes": written.size}
        if written.inline is not None:
            inline = written.inline
            reply["inline"] = len(inline)
    except LakemeshError as e:
        reply = e.to_dict()
    except MemoryError:
        reply = memory_limit_exceeded(limits).to_dict()
    except Exception as e:
        traceback.print_exc()
        reply = LakemeshError(f"Query failed in its worker: {type(e).__name__}").to_dict()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    reply["rss"] = memory_status()["VmRSS"]
    reply["cpu_seconds"] = cpu_seconds()
    return reply, inline


def _exit_with_parent(parent: int) -> None:
    """End this process when the hub that started it is gone (even in the middle of a query)."""
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    """Serve requests from standard input until it closes."""
    # The protocol gets its own copy of stdout; anything printed goes to stderr instead.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    # The hub decides when a query stops: a Ctrl-C meant for it does not end its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    sandboxes: dict[str | None, Any] = {}
    # A first query before saying ready: its cost (and its memory, the worker's baseline) is
    # paid here, not by the hub's first query.
    serve(
        sandboxes,
        {"sql": "SELECT 1", "files": [], "parameters": {}, "limits": {}, "result_path": os.devnull},
    )
    write_frame(channel, {"ready": True, "pid": os.getpid(), "cpu_seconds": cpu_seconds()})
    requests = sys.stdin.fileno()

    def read(size: int) -> bytes:
        return os.read(requests, size)

    while True:
        try:
            request = read_frame(read)
        except ChannelClosedError:
            return
        write_frame(channel, *serve(sandboxes, request, partial(_send_chunk, channel)))


def _send_chunk(channel: IO[bytes], data: bytes) -> None:
    """One batch of a streamed result: its frame, then its bytes."""
    write_frame(channel, {"chunk": len(data)}, data)


if __name__ == "__main__":
    main()
