"""A limit on request bodies, enforced before anything reads or parses them.

A body larger than the limit is answered 413 in the JSON error shape: at once when its
``Content-Length`` says so (the server reads no more than that), else as soon as the bytes of a
chunked upload pass the limit.
The limit is ``max_request_bytes`` in the hub's ``config.toml`` (default 4 MiB); the SQL inside a
query body has its own, smaller limit (the mesh setting ``max_sql_bytes``).

A plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware``: that one would hide a client's
disconnect from the endpoints that watch for it (``/queries``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lakemesh.errors import InvalidInputError

DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_REQUEST_BYTES_CONFIG = "max_request_bytes"


def max_request_bytes(config: dict[str, Any]) -> int:
    """The body limit a hub's ``config.toml`` sets (the default when it sets none)."""
    value = config.get(MAX_REQUEST_BYTES_CONFIG, DEFAULT_MAX_REQUEST_BYTES)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInputError(
            f"Invalid {MAX_REQUEST_BYTES_CONFIG} in config.toml: {value!r} (expected a positive "
            "number of bytes)",
            details={"setting": MAX_REQUEST_BYTES_CONFIG, "value": value},
        )
    return int(value)


def too_large_body(size: int | None, limit: int) -> dict[str, Any]:
    """The JSON error shape of a body over ``limit`` (``size`` when the client declared it); its
    type is LimitExceededError's, so clients raise that.

    >>> too_large_body(10, 4)["error"]["message"]
    'Request body is 10 bytes; the limit is 4 (hub config max_request_bytes)'
    """
    said = f"is {size:,} bytes" if size is not None else f"is over {limit:,} bytes"
    return {
        "error": {
            "type": "limit_exceeded",
            "message": f"Request body {said}; the limit is {limit:,} "
            f"(hub config {MAX_REQUEST_BYTES_CONFIG})",
            "details": {"limit": MAX_REQUEST_BYTES_CONFIG, "value": limit, "bytes": size},
        }
    }


class BodySizeLimit:
    """Answer 413 to any HTTP request whose body is larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _reply_413(send, too_large_body(declared, self.max_bytes))
            return
        if declared is None and _has_body(scope):
            # A chunked body: read it up to the limit before the app sees any of it.
            body = await _read_at_most(receive, self.max_bytes)
            if body is None:
                await _reply_413(send, too_large_body(None, self.max_bytes))
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers", ()))


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes ``limit`` bytes (or the client went away)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving ``body`` once, then the client's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reply_413(send: Send, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
