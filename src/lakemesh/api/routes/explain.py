"""``/explain``: a decision with the grants, tags and filters behind it (DESIGN §8-9)."""

from __future__ import annotations

from fastapi import APIRouter

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import DecisionPublic
from lakemesh.errors import InvalidInputError
from lakemesh.model.permissions import parse_permissions
from lakemesh.sharing import link_access

router = APIRouter(prefix="/explain", tags=["governance"])


@router.get(
    "",
    summary="Whether a principal may use a permission on a resource, and why: "
    '{"allowed", "columns", "row_filter", "masks", "reasons", "attributes"}',
    response_model=DecisionPublic,
)
def explain(
    principal: str, permission: str, resource: str, session: SessionDep, actor: CurrentActor
) -> DecisionPublic:
    permissions = parse_permissions(permission)
    if len(permissions) != 1:
        raise InvalidInputError(
            f"Explain one permission at a time, got {permission}",
            details={"permission": permission},
        )
    [chosen] = permissions
    decision = link_access.explain_access(
        session, actor=actor, principal=principal, permission=chosen, resource=resource
    )
    return DecisionPublic.of(decision)
