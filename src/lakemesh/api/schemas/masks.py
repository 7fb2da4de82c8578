"""Masks: a masking function on the columns a tag expression matches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp

if TYPE_CHECKING:
    from lakemesh.store.schema import MaskRule


class MaskCreate(RequestBody):
    name: str
    tag_expression: str
    function: str


class MaskPublic(RowModel):
    name: str
    tag_expression: str
    function: str
    created_by: str | None
    created_at: Timestamp

    @classmethod
    def from_row(cls, row: MaskRule) -> MaskPublic:
        return cls(
            name=row.name,
            tag_expression=row.tag_expression,
            function=row.function,
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
        )
