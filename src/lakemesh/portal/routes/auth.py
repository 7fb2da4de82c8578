"""Sign-in and sign-out: ``GET /login`` (a form whose field ``token`` takes an API token),
``POST /login`` and ``POST /logout``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from lakemesh import clock
from lakemesh.errors import AuthenticationError
from lakemesh.hub import Hub
from lakemesh.identity.sessions import end_session, start_session
from lakemesh.portal.oidc import oidc_client
from lakemesh.portal.pages import PageDep, PortalRoute, posted_form
from lakemesh.portal.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    check_csrf,
    clear_cookie,
    local_path,
    new_csrf_token,
    set_cookie,
)
from lakemesh.portal.templating import render

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

SIGN_IN_FORM_SECONDS = 3600


def sign_in_form(
    request: Request, *, next_path: str, error: str | None = None, status_code: int = 200
) -> Response:
    """The sign-in page, with a fresh CSRF token in the form and in a cookie (and the identity
    provider's button when one is configured)."""
    csrf_token = new_csrf_token()
    provider = oidc_client(request.app.state.hub)
    response = render(
        request,
        "login.html",
        status_code=status_code,
        title="Sign in",
        next_path=next_path,
        error=error,
        csrf_token=csrf_token,
        provider=provider.settings.name if provider is not None else None,
    )
    set_cookie(response, request, SIGN_IN_CSRF_COOKIE, csrf_token, SIGN_IN_FORM_SECONDS)
    return response


@router.get("/login")
def sign_in_page(request: Request, next: str = "/") -> Response:
    return sign_in_form(request, next_path=local_path(next))


@router.post("/login")
def sign_in(request: Request, form: Annotated[FormData, Depends(posted_form)]) -> Response:
    next_path = local_path(str(form.get("next") or "/"))
    check_csrf(request.cookies.get(SIGN_IN_CSRF_COOKIE), form.get(CSRF_FIELD))
    hub: Hub = request.app.state.hub
    try:
        with hub.transaction() as session:
            started = start_session(session, token=str(form.get("token") or ""))
    except AuthenticationError as refused:
        return sign_in_form(request, next_path=next_path, error=refused.message, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    lifetime = int((started.expires_at - clock.now()).total_seconds())
    set_cookie(response, request, SESSION_COOKIE, started.secret, max(lifetime, 1))
    clear_cookie(response, request, SIGN_IN_CSRF_COOKIE)
    return response


@router.post("/logout")
def sign_out(page: PageDep) -> Response:
    end_session(page.session, page.request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, page.request, SESSION_COOKIE)
    return response
