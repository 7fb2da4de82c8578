"""``/tags``: tag keys and their values; ``/resources/{name}/tags``: tags on databases, tables
and columns; ``/search/tables``: tables by tag expression."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import (
    ResourceTags,
    TableMatch,
    TagAssign,
    TagAssignment,
    TagCreate,
    TagPublic,
    TagUpdate,
)
from lakemesh.governance import tag_assignments, tagged, tags

router = APIRouter(tags=["tags"])


@router.get(
    "/tags", summary="Every tag key with its allowed values", response_model=list[TagPublic]
)
def list_tags(session: SessionDep, actor: CurrentActor) -> list[TagPublic]:
    return [TagPublic.from_row(row) for row in tags.list_tags(session)]


@router.post(
    "/tags",
    status_code=201,
    summary="Define a tag key and its values (mesh admins)",
    response_model=TagPublic,
)
def create_tag(body: TagCreate, session: SessionDep, actor: CurrentActor) -> TagPublic:
    row = tags.create_tag(
        session,
        actor=actor,
        key=body.key,
        values=body.values,
        description=body.description or "",
    )
    return TagPublic.from_row(row)


@router.get("/tags/{key}", summary="One tag key", response_model=TagPublic)
def show_tag(key: str, session: SessionDep, actor: CurrentActor) -> TagPublic:
    return TagPublic.from_row(tags.get_tag(session, key))


@router.patch(
    "/tags/{key}",
    summary="Add or remove values, or change the description",
    response_model=TagPublic,
)
def update_tag(key: str, body: TagUpdate, session: SessionDep, actor: CurrentActor) -> TagPublic:
    row = tags.update_tag(
        session,
        actor=actor,
        key=key,
        add_values=body.add_values,
        remove_values=body.remove_values,
        description=body.description,
    )
    return TagPublic.from_row(row)


@router.delete(
    "/tags/{key}", status_code=204, summary="Delete a tag key nothing uses", response_model=None
)
def delete_tag(key: str, session: SessionDep, actor: CurrentActor) -> Response:
    tags.delete_tag(session, actor=actor, key=key)
    return Response(status_code=204)


@router.get(
    "/resources/{name}/tags",
    summary="Own, inherited and effective tags of an object",
    response_model=ResourceTags,
)
def resource_tags(name: str, session: SessionDep, actor: CurrentActor) -> ResourceTags:
    return ResourceTags.of(tag_assignments.resource_tags(session, actor=actor, resource=name))


@router.post(
    "/resources/{name}/tags",
    summary="Assign tags (a new value replaces the old)",
    response_model=TagAssignment,
)
def assign_tags(
    name: str, body: TagAssign, session: SessionDep, actor: CurrentActor
) -> TagAssignment:
    changes = tag_assignments.assign_tags(session, actor=actor, resource=name, tags=body.tags)
    return _answer(session, name, changes)


@router.delete("/resources/{name}/tags", summary="Remove tags by key", response_model=TagAssignment)
def remove_tags(
    name: str,
    session: SessionDep,
    actor: CurrentActor,
    key: Annotated[list[str] | None, Query(description="A tag key to remove (repeatable)")] = None,
) -> TagAssignment:
    changes = tag_assignments.remove_tags(session, actor=actor, resource=name, keys=key or [])
    return _answer(session, name, changes)


def _answer(
    session: SessionDep, name: str, changes: list[tag_assignments.TagChange]
) -> TagAssignment:
    view = tag_assignments.effective_view(session, tagged.tagged_object(session, name))
    return TagAssignment.of(changes, view)


@router.get(
    "/search/tables",
    summary="Tables with columns whose effective tags match",
    response_model=list[TableMatch],
)
def search_tables(
    session: SessionDep,
    actor: CurrentActor,
    expression: Annotated[
        str, Query(alias="tags", description="A tag expression: sensitivity=pii OR owner!=hr")
    ],
) -> list[TableMatch]:
    found = tag_assignments.search_tables(session, actor=actor, expression=expression)
    return [TableMatch.from_row(match) for match in found]
