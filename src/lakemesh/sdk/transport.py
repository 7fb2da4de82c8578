"""An httpx transport that serves requests from an ASGI app in this process (embedded mode).

``httpx.ASGITransport`` collects the whole response body before it returns, so a streamed
response (the NDJSON progress of a crawl) would arrive only at the end. This transport runs the
app on an event loop of its own, in a background thread, and hands each body chunk to the caller
as soon as the app sends it: the embedded hub streams exactly as a remote one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import Future
from typing import Any

import httpx

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

_END = object()  # put on a response's queue when the app has returned


class _Exchange:
    """One request/response between the caller's thread and the app's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.messages: queue.Queue[Any] = queue.Queue()
        self.disconnected = asyncio.Event()

    def disconnect(self) -> None:
        """Tell the app the client went away (it stops a streaming response)."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.disconnected.set)


class _StreamedBody(httpx.SyncByteStream):
    """The body chunks of one response, read from the exchange's queue as the app sends them."""

    def __init__(self, exchange: _Exchange, app_done: Future[None]) -> None:
        self._exchange = exchange
        self._app_done = app_done
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        while not self._finished:
            message = self._exchange.messages.get()
            if message is _END:
                # The app returned without ending the body: surface its exception, if any.
                self._finished = True
                exception = self._app_done.exception()
                raise httpx.RemoteProtocolError(
                    f"The hub stopped in the middle of a response: {exception!r}"
                ) from exception
            body: bytes = message.get("body", b"")
            if body:
                yield body
            if not message.get("more_body", False):
                self._finished = True

    def close(self) -> None:
        self._exchange.disconnect()


def _internal_error(exception: BaseException) -> httpx.Response:
    """A 500 in the JSON error shape for an exception the app let escape before responding."""
    body = {
        "error": {
            "type": "internal_error",
            "message": f"{type(exception).__name__}: {exception}",
            "details": {},
        }
    }
    return httpx.Response(500, json=body)


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport that runs an ASGI app (the hub's API) in this process.

    The app runs on an event loop owned by this transport in a daemon thread; the app's lifespan
    starts with the transport and ends with :meth:`close`.
    """

    def __init__(self, app: ASGIApp, *, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="lakemesh-embedded-hub", daemon=True
        )
        self._thread.start()
        self._lifespan = _Lifespan(app)
        self._call(self._lifespan.startup())

    def _call(self, coroutine: Awaitable[Any]) -> Any:
        async def run() -> Any:
            return await coroutine

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._loop.is_closed():
            raise httpx.ConnectError("The embedded hub is closed", request=request)
        body = request.read()
        exchange = _Exchange(self._loop)
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
        app_done = asyncio.run_coroutine_threadsafe(
            self._run_app(scope, body, exchange), self._loop
        )
        start = exchange.messages.get()
        if start is _END:
            exception = app_done.exception()
            if exception is not None:
                return _internal_error(exception)
            raise httpx.RemoteProtocolError("The hub sent no response", request=request)
        return httpx.Response(
            start["status"],
            headers=start.get("headers", []),
            stream=_StreamedBody(exchange, app_done),
            request=request,
        )

    async def _run_app(self, scope: Message, body: bytes, exchange: _Exchange) -> None:
        request_sent = False
        response_started = False

        async def receive() -> Message:
            nonlocal request_sent
            if not request_sent:
                request_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await exchange.disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                exchange.messages.put(message)
            elif message["type"] == "http.response.body" and response_started:
                exchange.messages.put(message)
                if not message.get("more_body", False):
                    exchange.disconnected.set()

        try:
            await self.app(scope, receive, send)
        finally:
            exchange.disconnected.set()
            exchange.messages.put(_END)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._call(self._lifespan.shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()


class _Lifespan:
    """Runs the app's ASGI lifespan protocol (startup and shutdown events), when it has one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._replies: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async def receive() -> Message:
            return await self._events.get()

        async def send(message: Message) -> None:
            await self._replies.put(message)

        # An app without lifespan support may raise on the scope; that is allowed.
        with contextlib.suppress(Exception):
            await self.app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
        # Whoever still waits for a reply (an app that ignored the scope) must not wait forever.
        await self._replies.put({"type": "lifespan.unsupported"})

    async def startup(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._events.put({"type": "lifespan.startup"})
        reply = await self._replies.get()
        if reply["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"The embedded hub failed to start: {reply.get('message', '')}")
        if reply["type"] != "lifespan.startup.complete":
            self._task = None

    async def shutdown(self) -> None:
        if self._task is None:
            return
        await self._events.put({"type": "lifespan.shutdown"})
        await self._replies.get()
        await self._task


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
