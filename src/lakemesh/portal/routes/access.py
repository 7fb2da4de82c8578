"""``/access``: my subscriptions, the grants that reach me, my tokens (create, revoke)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.identity import tokens
from lakemesh.model.durations import parse_duration
from lakemesh.portal.pages import Page, PageDep, PortalRoute
from lakemesh.portal.views.my_access import my_access

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


def _render(page: Page, **context: Any) -> Response:
    context.setdefault("new_token", None)
    context.setdefault("revoked", page.request.query_params.get("revoked", ""))
    access = my_access(page.session, viewer=page.viewer)
    return page.render("access.html", title="My access", access=access, **context)


@router.get("/access")
def access_page(page: PageDep) -> Response:
    return _render(page)


@router.post("/access/tokens")
def create_token(page: PageDep) -> Response:
    """A new token of the viewer; its secret is shown on this answer only."""
    expires = page.field("expires_in").strip()
    issued = tokens.create_token(
        page.session,
        actor=page.viewer,
        principal=page.viewer.ref,
        expires_in=parse_duration(expires) if expires else None,
        description=page.field("description").strip(),
    )
    return _render(page, new_token=issued)


@router.post("/access/tokens/{token_id}/revoke")
def revoke_token(token_id: int, page: PageDep) -> Response:
    tokens.revoke_token(page.session, actor=page.viewer, token_id=token_id)
    return page.redirect(f"/access?revoked={token_id}#tokens")
