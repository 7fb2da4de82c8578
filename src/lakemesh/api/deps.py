"""Typed dependencies of the routers: the hub, one transaction per request, the current actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API token of the hub (`lakemesh token create`): `Authorization: Bearer lm_...`",
)


def get_hub(request: Request) -> Hub:
    """The hub the app serves (``app.state.hub``)."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


READ_METHODS = frozenset({"GET", "HEAD"})


def open_session(hub: HubDep, request: Request) -> Iterator[Session]:
    """The request's one transaction: committed before the response goes out, or rolled back.

    GET requests read in a shared transaction, so readers never queue behind each other. Used with
    ``scope="function"`` so a failed commit still becomes an error response.
    """
    opener = hub.read if request.method in READ_METHODS else hub.transaction
    with opener() as session:
        yield session


SessionDep = Annotated[Session, Depends(open_session, scope="function")]


def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if the request sent one."""
    return credentials.credentials if credentials is not None else None


TokenDep = Annotated[str | None, Depends(bearer_token)]


def current_actor(session: SessionDep, token: TokenDep) -> Actor:
    """The authenticated caller, resolved in the request's transaction (401 otherwise)."""
    return authenticate(session, token)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def standalone_actor(hub: HubDep, token: TokenDep) -> Actor:
    """The authenticated caller, resolved in a short transaction of its own.

    For endpoints whose service runs its own transactions (the crawler): holding the request's
    transaction open meanwhile would block them.
    """
    with hub.read() as session:
        return authenticate(session, token)


StandaloneActor = Annotated[Actor, Depends(standalone_actor)]
