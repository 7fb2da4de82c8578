"""``/tokens``: API tokens, shown once at creation, revocable."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.paths import Id
from lakemesh.api.schemas import TokenCreate, TokenIssued, TokenPublic
from lakemesh.identity import tokens
from lakemesh.model.durations import parse_duration

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.post(
    "",
    status_code=201,
    summary="Create a token (the only time its secret is shown)",
    response_model=TokenIssued,
)
def create_token(body: TokenCreate, session: SessionDep, actor: CurrentActor) -> TokenIssued:
    expires_in = parse_duration(body.expires_in) if body.expires_in else None
    issued = tokens.create_token(
        session,
        actor=actor,
        principal=body.principal,
        expires_in=expires_in,
        description=body.description or "",
    )
    return TokenIssued.of(issued)


@router.get(
    "",
    summary="Tokens of a principal (the caller's own by default), without secrets",
    response_model=list[TokenPublic],
)
def list_tokens(
    session: SessionDep, actor: CurrentActor, principal: str | None = None
) -> list[TokenPublic]:
    rows = tokens.list_tokens(session, actor=actor, principal=principal)
    return [TokenPublic.from_row(row) for row in rows]


@router.delete("/{token_id}", summary="Revoke a token; returns it", response_model=TokenPublic)
def revoke_token(token_id: Id, session: SessionDep, actor: CurrentActor) -> TokenPublic:
    return TokenPublic.from_row(tokens.revoke_token(session, actor=actor, token_id=token_id))
