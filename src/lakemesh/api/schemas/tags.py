"""Tag keys, tags on databases, tables and columns, and the tag search."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.governance.tag_assignments import InheritedTag as InheritedTagRecord
    from lakemesh.governance.tag_assignments import TableMatch as TableMatchRecord
    from lakemesh.governance.tag_assignments import TagChange as TagChangeRecord
    from lakemesh.governance.tag_assignments import TagView
    from lakemesh.store.schema import TagKey


class TagCreate(RequestBody):
    key: str
    values: list[str]
    description: str | None = None


class TagUpdate(RequestBody):
    add_values: list[str] = Field(default_factory=list)
    remove_values: list[str] = Field(default_factory=list)
    description: str | None = None


class TagAssign(RequestBody):
    tags: dict[str, str]


class TagPublic(RowModel):
    key: str
    values: list[str]
    description: str | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: TagKey) -> TagPublic:
        return cls(
            key=row.key,
            values=sorted(value.value for value in row.values),
            description=row.description,
            created_at=row.created_at.isoformat(),
        )


class InheritedTag(ResponseModel):
    value: str
    from_: str = Field(alias="from", description="The object the value comes from")

    @classmethod
    def of(cls, tag: InheritedTagRecord) -> InheritedTag:
        return cls.model_validate({"value": tag.value, "from": str(tag.source)})


class ObjectTags(ResponseModel):
    own: dict[str, str]
    inherited: dict[str, InheritedTag]
    overridden: dict[str, InheritedTag]
    effective: dict[str, str]

    @classmethod
    def of(cls, view: TagView) -> ObjectTags:
        return cls(**_tag_fields(view))


def _tag_fields(view: TagView) -> dict[str, Any]:
    return {
        "own": dict(sorted(view.own.items())),
        "inherited": {key: InheritedTag.of(tag) for key, tag in sorted(view.inherited.items())},
        "overridden": {key: InheritedTag.of(tag) for key, tag in sorted(view.overridden.items())},
        "effective": view.effective,
    }


class ResourceTags(ObjectTags):
    resource: str
    level: str = Field(description="database, table or column")

    @classmethod
    def of(cls, view: TagView) -> ResourceTags:
        return cls(**_tag_fields(view), resource=str(view.name), level=view.name.level)


class TagChange(ResponseModel):
    key: str
    value: str | None
    previous: str | None


class TagAssignment(ResponseModel):
    resource: str
    changes: list[TagChange]
    tags: ObjectTags

    @classmethod
    def of(cls, changes: Iterable[TagChangeRecord], view: TagView) -> TagAssignment:
        """What an assignment or removal changed, and the object's tags after it."""
        return cls(
            resource=str(view.name),
            changes=[TagChange.model_validate(change.to_dict()) for change in changes],
            tags=ObjectTags.of(view),
        )


class TableMatch(RowModel):
    name: str
    columns: list[str] = Field(description="The columns whose effective tags match")

    @classmethod
    def from_row(cls, row: TableMatchRecord) -> TableMatch:
        return cls(name=str(row.name), columns=list(row.columns))
