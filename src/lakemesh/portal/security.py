"""The portal's browser-facing defences: the Content-Security-Policy and companion headers on
every response, the session and sign-in cookies, and CSRF tokens on every form."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lakemesh.errors import AccessDeniedError

SESSION_COOKIE = "lakemesh_session"
"""The session cookie: a random secret whose hash the store keeps (HttpOnly, SameSite=Strict)."""
SIGN_IN_CSRF_COOKIE = "lakemesh_signin_csrf"
"""Before there is a session, the sign-in form's CSRF token is checked against this cookie."""
CSRF_FIELD = "csrf_token"
"""The hidden field every form posts its CSRF token in."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
"""No inline script or style and nothing from another origin (charts are inline SVG drawn with
presentation attributes, which need no style-src)."""

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware: every response carries :data:`SECURITY_HEADERS` unless it sets its own
    (the OpenAPI docs page allows its one inline script by hash)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def new_csrf_token() -> str:
    """A random token for a form."""
    return secrets.token_urlsafe(32)


def check_csrf(expected: str | None, sent: object, *, principal: str | None = None) -> None:
    """Raise unless the form sent the token the session (or sign-in cookie) expects.

    Raises:
        AccessDeniedError: the token is missing or does not match (403).
    """
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(expected, sent):
        raise AccessDeniedError(
            "The form's CSRF token is missing or does not match this session: reload the page "
            "and send the form again",
            principal=principal,
            details={"reason": "csrf"},
        )


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """A cookie only the hub reads (HttpOnly), never sent with another site's requests
    (SameSite=Strict), Secure when the portal is served over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    """Tell the browser to drop a cookie set by :func:`set_cookie`."""
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site (``/products/x?y``), else ``default``: a sign-in
    never redirects to another origin.

    >>> local_path("/search?q=a"), local_path("//evil.example/"), local_path("https://x/")
    ('/search?q=a', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target
