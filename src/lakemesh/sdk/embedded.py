"""Embedded hubs: one hub and one app per hub home per process, shared by its open clients.

Building the hub's app is most of what an embedded client costs; clients of the same home open
at the same time share one (and one database pool), which closes with the last of them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from lakemesh.sdk.transport import InProcessTransport

if TYPE_CHECKING:
    from lakemesh.hub import Hub


@dataclass
class _Embedded:
    hub: Hub
    transport: InProcessTransport
    clients: int = 0


_OPEN: dict[Path, _Embedded] = {}
_LOCK = threading.Lock()


def open_transport(home: Path) -> httpx.BaseTransport:
    """A transport to the hub of ``home`` in this process (built on first use, then shared)."""
    key = home.resolve()
    with _LOCK:
        embedded = _OPEN.get(key)
        if embedded is None:
            embedded = _OPEN[key] = _start(home)
        embedded.clients += 1
    return _SharedTransport(key, embedded.transport)


def _start(home: Path) -> _Embedded:
    # Imported here for the CLI's startup time: only an embedded client needs the whole hub.
    from lakemesh.api.app import create_app
    from lakemesh.hub import Hub

    hub = Hub.open(home)
    try:
        return _Embedded(hub, InProcessTransport(create_app(hub, lazy=True)))
    except BaseException:
        hub.close()
        raise


def _release(key: Path) -> None:
    with _LOCK:
        embedded = _OPEN[key]
        embedded.clients -= 1
        if embedded.clients:
            return
        del _OPEN[key]
    try:
        embedded.transport.close()
    finally:
        embedded.hub.close()


class _SharedTransport(httpx.BaseTransport):
    """One client's handle on a shared embedded hub: closing it lets the hub go."""

    def __init__(self, key: Path, transport: InProcessTransport) -> None:
        self._key = key
        self._transport = transport
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("The embedded hub is closed", request=request)
        return self._transport.handle_request(request)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _release(self._key)
