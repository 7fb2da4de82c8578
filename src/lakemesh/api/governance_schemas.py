"""Request bodies of the tag, data filter and mask endpoints (unknown fields are refused)."""

from __future__ import annotations

from pydantic import Field

from lakemesh.api.schemas import RequestBody


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


class FilterCreate(RequestBody):
    name: str
    table: str
    rows: str | None = None
    columns: list[str] | None = None
    excluded_columns: list[str] = Field(default_factory=list)


class FilterUpdate(RequestBody):
    rows: str | None = None
    all_rows: bool = False
    columns: list[str] | None = None
    excluded_columns: list[str] | None = None
    all_columns: bool = False


class MaskCreate(RequestBody):
    name: str
    tag_expression: str
    function: str


class AttributeKeyCreate(RequestBody):
    key: str
    values: list[str]
    description: str | None = None


class AttributeKeyUpdate(RequestBody):
    values: list[str] | None = None
    description: str | None = None


class AttributeDelegation(RequestBody):
    principal: str
