"""The in-process transport streams: a body chunk reaches the caller while the app still runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from lakemesh.sdk.transport import InProcessTransport, Message, Receive, Send

WAIT = 10.0


class SlowApp:
    """An app whose streamed response sends one line, then waits for the test to let it go on."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.finished = threading.Event()
        self.started_up = False
        self.shut_down = False
        self.app = Starlette(
            routes=[
                Route("/lines", self.lines),
                Route("/echo", self.echo, methods=["POST"]),
                Route("/boom", self.boom),
            ],
            lifespan=self.lifespan,
        )

    def lifespan(self, app: Starlette) -> _Lifespan:
        return _Lifespan(self)

    def lines(self, request: Request) -> StreamingResponse:
        def body() -> Iterator[bytes]:
            yield b"first\n"
            if self.release.wait(WAIT):
                yield b"second\n"
            self.finished.set()

        return StreamingResponse(body(), media_type="application/x-ndjson")

    async def echo(self, request: Request) -> JSONResponse:
        return JSONResponse({"got": await request.json(), "query": request.url.query})

    def boom(self, request: Request) -> JSONResponse:
        raise RuntimeError("kaput")


class _Lifespan:
    def __init__(self, owner: SlowApp) -> None:
        self.owner = owner

    async def __aenter__(self) -> None:
        self.owner.started_up = True

    async def __aexit__(self, *args: object) -> None:
        self.owner.shut_down = True


@pytest.fixture
def slow() -> SlowApp:
    return SlowApp()


def test_lines_arrive_while_the_app_is_still_working(slow: SlowApp) -> None:
    with (
        httpx.Client(transport=InProcessTransport(slow.app), base_url="http://hub") as http,
        http.stream("GET", "/lines") as response,
    ):
        lines = response.iter_lines()
        assert next(lines) == "first"
        assert not slow.finished.is_set()  # the app is still inside its response
        slow.release.set()
        assert next(lines) == "second"
    assert slow.finished.wait(WAIT)


def test_request_bodies_and_query_strings_reach_the_app(slow: SlowApp) -> None:
    with httpx.Client(transport=InProcessTransport(slow.app), base_url="http://hub") as http:
        response = http.post("/echo", params={"a": "1"}, json={"x": [1, 2]})
    assert response.json() == {"got": {"x": [1, 2]}, "query": "a=1"}


def test_the_app_lifespan_runs_with_the_transport(slow: SlowApp) -> None:
    transport = InProcessTransport(slow.app)
    assert slow.started_up
    assert not slow.shut_down
    transport.close()
    assert slow.shut_down


def test_an_app_error_after_starlette_answered_is_its_500(slow: SlowApp) -> None:
    with httpx.Client(transport=InProcessTransport(slow.app), base_url="http://hub") as http:
        response = http.get("/boom")
    assert response.status_code == 500


async def _raw_app_that_fails(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        raise RuntimeError("kaput")


def test_an_exception_before_any_response_is_a_500_in_the_error_shape() -> None:
    with httpx.Client(
        transport=InProcessTransport(_raw_app_that_fails), base_url="http://hub"
    ) as http:
        response = http.get("/")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"type": "internal_error", "message": "RuntimeError: kaput", "details": {}}
    }


def test_a_closed_transport_refuses_requests(slow: SlowApp) -> None:
    transport = InProcessTransport(slow.app)
    transport.close()
    with (
        httpx.Client(transport=transport, base_url="http://hub") as http,
        pytest.raises(httpx.ConnectError, match="The embedded hub is closed"),
    ):
        http.get("/echo")
