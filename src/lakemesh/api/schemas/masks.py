"""Masks: a masking function on the columns a tag expression matches."""

from __future__ import annotations

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class MaskCreate(RequestBody):
    name: str
    tag_expression: str
    function: str


class MaskPublic(ResponseModel):
    name: str
    tag_expression: str
    function: str
    created_by: str | None
    created_at: Timestamp
