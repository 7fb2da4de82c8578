"""An httpx transport that serves requests from an ASGI app in this process (embedded mode).

The app runs on an anyio blocking portal (an event loop in a thread of its own, as Starlette's
``TestClient`` runs it), with the app's lifespan entered when the transport opens and left when
it closes. ``httpx.ASGITransport`` and ``TestClient`` collect a whole response body before they
return it; here each body chunk reaches the caller as soon as the app sends it, so a streamed
response (the NDJSON progress of a crawl) streams embedded exactly as it does from a remote hub.
"""

from __future__ import annotations

import contextlib
import json
import queue
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import Future
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

_END: Message = {"type": "lakemesh.end"}  # put on a response's queue when the app has returned


class _Exchange:
    """One request/response between the caller's thread and the app on the portal's loop."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.messages: queue.Queue[Message] = queue.Queue()
        self.disconnected: anyio.Event | None = None  # made on the loop, by the app's task


class _StreamedBody(httpx.SyncByteStream):
    """The body chunks of one response, read from the exchange's queue as the app sends them."""

    def __init__(self, exchange: _Exchange, done: Future[None], portal: BlockingPortal) -> None:
        self._exchange = exchange
        self._done = done
        self._portal = portal

    def __iter__(self) -> Iterator[bytes]:
        while (message := self._exchange.messages.get()) is not _END:
            if message.get("body"):
                yield message["body"]
            if not message.get("more_body", False):
                return
        # The app returned without ending the body: surface its exception, if any.
        exception = self._done.exception()
        raise httpx.RemoteProtocolError(
            f"The hub stopped in the middle of a response: {exception!r}"
        ) from exception

    def close(self) -> None:
        """Tell the app the client went away (it stops a streaming response)."""
        event = self._exchange.disconnected
        if event is not None and not self._done.done():
            with contextlib.suppress(RuntimeError):  # the portal stopped already
                self._portal.call(event.set)


def _internal_error(exception: BaseException) -> httpx.Response:
    """A 500 in the JSON error shape for an exception the app let escape before responding."""
    message = f"{type(exception).__name__}: {exception}"
    body = {"error": {"type": "internal_error", "message": message, "details": {}}}
    return httpx.Response(500, json=body)


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport that runs an ASGI app (the hub's API) in this process."""

    def __init__(self, app: ASGIApp, *, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path
        self._resources = contextlib.ExitStack()
        self._portal = self._resources.enter_context(start_blocking_portal())
        router = getattr(app, "router", None)
        lifespan = getattr(router, "lifespan_context", None)
        try:
            if lifespan is not None:
                self._resources.enter_context(
                    self._portal.wrap_async_context_manager(lifespan(app))
                )
        except BaseException:
            self._resources.close()
            raise
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("The embedded hub is closed", request=request)
        scope: Message = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 0),
            "root_path": self.root_path,
        }
        exchange = _Exchange(request.read())
        done = self._portal.start_task_soon(self._run_app, scope, exchange)
        start = exchange.messages.get()
        if start is _END:
            exception = done.exception()
            if exception is not None:
                return _internal_error(exception)
            raise httpx.RemoteProtocolError("The hub sent no response", request=request)
        return httpx.Response(
            start["status"],
            headers=start.get("headers", []),
            stream=_StreamedBody(exchange, done, self._portal),
            request=request,
        )

    async def _run_app(self, scope: Message, exchange: _Exchange) -> None:
        disconnected = exchange.disconnected = anyio.Event()
        request_sent = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": exchange.body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            exchange.messages.put(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                disconnected.set()

        try:
            await self.app(scope, receive, send)
        finally:
            disconnected.set()
            exchange.messages.put(_END)

    def close(self) -> None:
        """Leave the app's lifespan and stop the portal's event loop (once)."""
        if not self._closed:
            self._closed = True
            self._resources.close()


def error_body(response: httpx.Response) -> dict[str, Any] | None:
    """The ``error`` object of a JSON error shape, or ``None`` when the body is not one."""
    try:
        payload = json.loads(response.content)
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error: dict[str, Any] = payload["error"]
        return error
    return None
