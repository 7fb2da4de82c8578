"""Running the API: `serve` for `lakemesh serve`, `serve_in_background` for tests and demos."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from lakemesh.api.app import create_app
from lakemesh.hub import Hub
from lakemesh.query.engines.duckdb_process import worker_pool

STARTUP_TIMEOUT = 30.0


def serve(
    hub: Hub,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    log_level: str = "info",
    sock: socket.socket | None = None,
) -> None:
    """Serve the hub's API with uvicorn until interrupted (on ``sock`` when it is bound)."""
    config = uvicorn.Config(create_app(hub), host=host, port=port, log_level=log_level)
    worker_pool().warm_up()  # query workers start with the server, not with its first query
    uvicorn.Server(config).run(sockets=None if sock is None else [sock])


@contextmanager
def serve_in_background(
    hub: Hub, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Serve the hub in a thread of this process; yield its base URL (``http://host:port``).

    ``port=0`` picks a free port. The server stops when the block ends.
    """
    with serve_app_in_background(create_app(hub), host, port, log_level=log_level) as url:
        yield url


@contextmanager
def serve_app_in_background(
    app: FastAPI, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yield its base URL (see ``serve_in_background``)."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="lakemesh-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"The API server did not start on {host}:{port}")
        time.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
