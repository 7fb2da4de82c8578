"""Sign-in with an OpenID Connect provider, when ``[oidc]`` is set in ``config.toml`` (see
:mod:`lakemesh.portal.oidc`): ``GET /login/oidc`` sends the browser to the provider,
``GET /login/oidc/callback`` comes back with its code and starts a portal session as the token
form does. The sign-in page shows the provider's button only when it is configured; otherwise
both paths answer 404."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from lakemesh import clock
from lakemesh.errors import AccessDeniedError, AuthenticationError, NotFoundError
from lakemesh.hub import Hub
from lakemesh.identity.federation import federated_principal
from lakemesh.identity.sessions import start_principal_session
from lakemesh.portal.oidc import PENDING_SECONDS, OidcClient, PendingSignIn, oidc_client
from lakemesh.portal.pages import PortalRoute
from lakemesh.portal.routes.auth import sign_in_form
from lakemesh.portal.security import SESSION_COOKIE, local_path, set_cookie
from lakemesh.portal.templating import render

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

START_PATH = "/login/oidc"
CALLBACK_PATH = "/login/oidc/callback"
PENDING_COOKIE = "lakemesh_oidc"
"""The sign-in under way at the provider (state, nonce, PKCE verifier), signed; SameSite=Lax,
since the provider's redirect back is a navigation from another site."""


def _client(request: Request) -> OidcClient:
    hub: Hub = request.app.state.hub
    client = oidc_client(hub)
    if client is None:
        raise NotFoundError("Sign-in with an identity provider is not configured on this hub")
    return client


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


def _clear_pending(response: Response, request: Request) -> None:
    response.delete_cookie(
        PENDING_COOKIE,
        path=START_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.get(START_PATH)
def oidc_start(request: Request, next: str = "/") -> Response:
    client = _client(request)
    url, pending = client.begin(redirect_uri=_callback_url(request), next_path=local_path(next))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        pending.seal(client.pending_key),
        max_age=PENDING_SECONDS,
        path=START_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get(CALLBACK_PATH, name="oidc_callback")
def oidc_callback(
    request: Request,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    client = _client(request)
    hub: Hub = request.app.state.hub
    settings = client.settings
    next_path = "/"
    try:
        pending = PendingSignIn.unseal(request.cookies.get(PENDING_COOKIE), client.pending_key)
        next_path = local_path(pending.next)
        identity = client.finish(
            pending,
            redirect_uri=_callback_url(request),
            state=state,
            code=code,
            error=error,
            error_description=error_description,
        )
        with hub.transaction() as session:
            principal = federated_principal(
                session,
                issuer=identity.issuer,
                subject=identity.subject,
                principal=identity.principal,
                provider_groups=identity.groups,
                group_map=settings.groups,
            )
            started = start_principal_session(
                session,
                principal=principal,
                via="oidc",
                lifetime=timedelta(hours=settings.session_hours),
            )
    except (AuthenticationError, AccessDeniedError) as refused:
        response = sign_in_form(
            request, next_path=next_path, error=refused.message, status_code=refused.status
        )
        _clear_pending(response, request)
        return response
    # A page that moves on by itself rather than a redirect: the browser came here from the
    # provider's site, and a SameSite=Strict session cookie is sent only from a page of ours.
    response = render(request, "signed_in.html", title="Signed in", next_path=next_path)
    lifetime = int((started.expires_at - clock.now()).total_seconds())
    set_cookie(response, request, SESSION_COOKIE, started.secret, max(lifetime, 1))
    _clear_pending(response, request)
    return response
