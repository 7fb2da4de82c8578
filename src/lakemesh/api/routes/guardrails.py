"""``/guardrails``: organisation policies no domain can opt out of (mesh admins change them)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import GuardrailCreate, GuardrailPublic, GuardrailUpdate
from lakemesh.authz import guardrail_rules
from lakemesh.governance import guardrails

router = APIRouter(prefix="/guardrails", tags=["governance"])


@router.get(
    "", summary="Every guardrail (anyone may read them)", response_model=list[GuardrailPublic]
)
def list_guardrails(
    session: SessionDep, actor: CurrentActor, kind: str | None = None
) -> list[GuardrailPublic]:
    return [
        GuardrailPublic.from_row(row) for row in guardrail_rules.list_guardrails(session, kind=kind)
    ]


@router.post(
    "", status_code=201, summary="Create a guardrail (mesh admins)", response_model=GuardrailPublic
)
def create_guardrail(
    body: GuardrailCreate, session: SessionDep, actor: CurrentActor
) -> GuardrailPublic:
    row = guardrails.create_guardrail(
        session,
        actor=actor,
        name=body.name,
        kind=body.kind,
        keys=body.keys,
        on_tags=body.on_tags,
        prefixes=body.prefixes,
        max_lifetime=body.max_lifetime,
    )
    return GuardrailPublic.from_row(row)


@router.get("/{name}", summary="One guardrail", response_model=GuardrailPublic)
def show_guardrail(name: str, session: SessionDep, actor: CurrentActor) -> GuardrailPublic:
    return GuardrailPublic.from_row(guardrail_rules.get_guardrail(session, name))


@router.patch(
    "/{name}",
    summary="Replace a guardrail's configuration (mesh admins)",
    response_model=GuardrailPublic,
)
def update_guardrail(
    name: str, body: GuardrailUpdate, session: SessionDep, actor: CurrentActor
) -> GuardrailPublic:
    row = guardrails.update_guardrail(
        session,
        actor=actor,
        name=name,
        keys=body.keys,
        on_tags=body.on_tags,
        prefixes=body.prefixes,
        max_lifetime=body.max_lifetime,
    )
    return GuardrailPublic.from_row(row)


@router.delete(
    "/{name}", status_code=204, summary="Delete a guardrail (mesh admins)", response_model=None
)
def delete_guardrail(name: str, session: SessionDep, actor: CurrentActor) -> Response:
    guardrails.delete_guardrail(session, actor=actor, name=name)
    return Response(status_code=204)
