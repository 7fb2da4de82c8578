"""Serving a hub home from the CLI: who serves it, and a port bound before "Serving" is said.

``lakemesh serve`` and ``lakemesh demo`` hold a shared lock on ``serve.lock`` in the home while
they serve it (with their pid and URL written in it); rebuilding a home (``demo --reset``,
``init --force``) takes the lock exclusively, so it is refused while any server is alive. The
kernel releases the lock when a server dies, so a stale file never blocks anyone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from lakemesh.errors import ConflictError, InvalidInputError, PortInUseError
from lakemesh.home import HubHome

SERVE_LOCK = "serve.lock"


def _holder(handle: IO[str]) -> str:
    """Who holds the lock, as written in it: ``pid 123 on http://127.0.0.1:8000``."""
    handle.seek(0)
    try:
        found: dict[str, Any] = json.loads(handle.read() or "{}")
    except ValueError:
        found = {}
    if not found.get("pid"):
        return "another process"
    return f"pid {found['pid']} on {found.get('url', '?')}"


@contextlib.contextmanager
def serving(home: Path, url: str) -> Iterator[None]:
    """Mark ``home`` as served by this process at ``url`` for the duration of the block.

    Raises:
        ConflictError: the home is being rebuilt right now.
    """
    with (home / SERVE_LOCK).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise ConflictError(
                f"Hub home is being rebuilt: {home} (try again when it is done)",
                details={"home": str(home)},
            ) from e
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "url": url}))
        handle.flush()
        yield


@contextlib.contextmanager
def not_served(home: Path, *, then: str) -> Iterator[None]:
    """Keep every server off ``home`` while the block rebuilds it.

    Raises:
        ConflictError: a hub serves the home now; the message says to stop it, then ``then``.
    """
    home.mkdir(parents=True, exist_ok=True)
    with (home / SERVE_LOCK).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise ConflictError(
                f"Hub home is being served: {home} ({_holder(handle)}). Nothing was changed; "
                f"stop that server first (Ctrl-C), then run: {then}",
                details={"home": str(home)},
            ) from e
        handle.seek(0)
        handle.truncate()
        handle.flush()
        yield


def served_url(home: Path) -> str | None:
    """The URL of a hub serving ``home`` now (from ``serve.lock``), or ``None`` when none does.

    An address that listens on every interface (``0.0.0.0``, ``::``) is reached on loopback.
    """
    try:
        handle = (home / SERVE_LOCK).open()
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # being rebuilt: nothing to talk to
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another process holds it shared: a live server
        else:
            return None  # nobody serves the home
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
        try:
            url = json.loads(handle.read() or "{}").get("url")
        except ValueError:
            return None
    if not isinstance(url, str) or not url.startswith("http://"):
        return None
    return url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:")


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for the server to listen on (taken before any
    "Serving" line is printed, so a busy port is reported and nothing pretends to serve).

    Raises:
        PortInUseError: another process listens on the port.
        InvalidInputError: the address cannot be bound (no such interface, no permission).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"Port is in use: {host}:{port} (another process listens there; stop it, or "
                "pass --port N)",
                details={"host": host, "port": port},
            ) from e
        raise InvalidInputError(
            f"Cannot listen on {host}:{port}: {e.strerror or e}",
            details={"host": host, "port": port},
        ) from e
    return sock


def serve_home(
    home: Path,
    host: str,
    port: int,
    *,
    log_level: str,
    announce: Callable[[str], None],
    sock: socket.socket | None = None,
    pg_port: int | None = None,
    pg_sock: socket.socket | None = None,
) -> None:
    """Serve the hub home until interrupted; ``announce(url)`` once the port is bound (``sock``,
    when the caller bound it already).

    The hub's scheduler runs schedules' due checks and crawls meanwhile, unless
    ``[scheduler] enabled = false`` in ``config.toml``.

    The PostgreSQL port serves too when ``pg_port`` (or ``pgwire.port`` in the home's
    ``config.toml``) is given; ``announce`` is then called with its ``postgresql://`` address.
    """
    # Imported here for the CLI's startup time: only serving needs the web app and uvicorn.
    from lakemesh.api.server import serve
    from lakemesh.hub import Hub
    from lakemesh.pgwire.config import pgwire_settings
    from lakemesh.pgwire.server import serve_in_background
    from lakemesh.scheduling import Scheduler, scheduler_settings

    settings = pgwire_settings(HubHome(home).config()).with_port(pg_port)
    schedules = scheduler_settings(HubHome(home).config())
    hub = Hub.open(home)
    try:
        url = f"http://{host}:{port}"
        with contextlib.ExitStack() as stack:
            stack.enter_context(serving(home, url))
            bound = stack.enter_context(contextlib.closing(sock or bind(host, port)))
            if settings.port is not None:
                pg_host = settings.host or host
                pg_bound = pg_sock or bind(pg_host, settings.port)
                running = stack.enter_context(
                    serve_in_background(hub, settings=settings, sock=pg_bound)
                )
                announce(f"postgresql://{pg_host}:{running.port}")
            if schedules.enabled:
                scheduler = Scheduler(hub, schedules)
                scheduler.start()
                stack.callback(scheduler.stop)
            announce(url)
            serve(hub, host, port, log_level=log_level, sock=bound)
    finally:
        hub.close()
