"""What every page handler gets, and how the portal answers errors.

A route declares ``page: PageDep``: the viewer resumed from its session cookie inside the
request's one transaction (a read-only one for GET), the session's CSRF token (checked on every
POST before the handler runs), and :meth:`Page.render`. Routers use :class:`PortalRoute`, which
turns what the services raise into pages: a missing or ended session redirects to ``/login``,
any other :class:`~lakemesh.errors.LakemeshError` renders ``error.html`` with the status the
REST API would answer (404 for what the viewer may not DESCRIBE, 403 with the reason, ...), and
anything unexpected renders it as a 500 that names only a reference to the logged error.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from lakemesh.errors import AuthenticationError, InvalidInputError, LakemeshError
from lakemesh.hub import Hub
from lakemesh.identity.sessions import resume_session
from lakemesh.model.actors import Actor
from lakemesh.portal.security import CSRF_FIELD, SECURITY_HEADERS, SESSION_COOKIE, check_csrf
from lakemesh.portal.templating import render

READ_METHODS = frozenset({"GET", "HEAD"})

logger = logging.getLogger("lakemesh.portal")


@dataclass
class Page:
    """A signed-in request: the viewer, the request's transaction, the form it posted."""

    request: Request
    hub: Hub
    session: Session
    viewer: Actor
    csrf_token: str
    form: FormData

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> Response:
        """``template`` with ``context``, for this viewer (its forms carry the CSRF token)."""
        return render(
            self.request,
            template,
            status_code=status_code,
            viewer=self.viewer,
            csrf_token=self.csrf_token,
            **context,
        )

    def redirect(self, path: str) -> Response:
        """After a POST: go to ``path`` (303, so the browser GETs it)."""
        return RedirectResponse(path, status_code=303)

    def field(self, name: str, default: str = "") -> str:
        """One text field of the posted form (``default`` when absent)."""
        value = self.form.get(name)
        return value if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated field of the posted form (checkboxes, multiple selects)."""
        return [value for value in self.form.getlist(name) if isinstance(value, str)]


async def posted_form(request: Request) -> FormData:
    """The form a POST sent (parsed once, cached by Starlette); empty for GET."""
    if request.method in READ_METHODS:
        return FormData()
    return await request.form()


def open_page(request: Request, form: Annotated[FormData, Depends(posted_form)]) -> Iterator[Page]:
    """The request's one transaction and its viewer; a POST's CSRF token is checked first.

    Raises:
        AuthenticationError: no live session (the portal redirects to ``/login``).
        AccessDeniedError: a POST without the session's CSRF token.
    """
    hub: Hub = request.app.state.hub
    opener = hub.read if request.method in READ_METHODS else hub.transaction
    with opener() as session:
        yield _resumed_page(request, hub, session, form)


def _resumed_page(request: Request, hub: Hub, session: Session, form: FormData) -> Page:
    resumed = resume_session(session, request.cookies.get(SESSION_COOKIE))
    if request.method not in READ_METHODS:
        check_csrf(resumed.csrf_token, form.get(CSRF_FIELD), principal=resumed.actor.ref)
    return Page(request, hub, session, resumed.actor, resumed.csrf_token, form)


PageDep = Annotated[Page, Depends(open_page, scope="function")]


def open_standalone_page(request: Request, form: Annotated[FormData, Depends(posted_form)]) -> Page:
    """For handlers whose services run transactions of their own (queries and query jobs, as
    the API's ``StandaloneActor``): the viewer is resumed and a POST's CSRF token checked in a
    short read transaction, closed before the handler runs, since a write transaction held
    meanwhile would block theirs. Such a handler does not use ``page.session``."""
    hub: Hub = request.app.state.hub
    with hub.read() as session:
        return _resumed_page(request, hub, session, form)


StandalonePageDep = Annotated[Page, Depends(open_standalone_page)]


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in page, coming back here afterwards (for a GET)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = urlencode({"next": target}) if request.method in READ_METHODS else ""
    return RedirectResponse(f"/login?{query}" if query else "/login", status_code=303)


def error_page(request: Request, error: LakemeshError) -> Response:
    """A service error as a page, with the status the REST API answers for it."""
    return render(
        request,
        "error.html",
        status_code=error.status,
        error=error,
        title=ERROR_TITLES.get(error.status, "Error"),
    )


ERROR_TITLES = {403: "Access denied", 404: "Not found", 405: "Method not allowed"}

UNEXPECTED_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head>'
    "<body><h1>Something went wrong</h1><p>The hub could not show this page.</p></body></html>"
)
"""What a 500 answers when even the error page cannot be rendered."""


def unexpected_error_page(request: Request, error: BaseException) -> Response:
    """A bug or a broken state as a 500 page: the traceback goes to the log under a new error
    reference, the page names only that reference (no exception text, no internal value).
    It carries the security headers itself: raised outside the routes, it is answered outside
    the middleware that adds them."""
    reference = secrets.token_hex(6)
    logger.error(
        "Unexpected error %s on %s %s",
        reference,
        request.method,
        request.url.path,
        exc_info=error,
    )
    try:
        response: Response = render(
            request,
            "error.html",
            status_code=500,
            error=None,
            reference=reference,
            title="Something went wrong",
        )
    except Exception:  # the templates themselves are what broke
        logger.exception("The error page of %s could not be rendered", reference)
        response = HTMLResponse(UNEXPECTED_PAGE, status_code=500)
    response.headers.update(SECURITY_HEADERS)
    return response


class PortalRoute(APIRoute):
    """A page route: errors become pages (or a redirect to sign in), never JSON; an unexpected
    one is logged and answered with a 500 page. Starlette's HTTP errors are left to the app's
    handler, which answers them as pages on the portal's paths."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            try:
                return await handle(request)
            except AuthenticationError:
                return sign_in_redirect(request)
            except LakemeshError as error:
                return error_page(request, error)
            except RequestValidationError as invalid:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                    for e in invalid.errors()
                )
                return error_page(request, InvalidInputError(f"Invalid request: {problems}"))
            except HTTPException:
                raise
            except Exception as unexpected:
                return unexpected_error_page(request, unexpected)

        return handle_page
