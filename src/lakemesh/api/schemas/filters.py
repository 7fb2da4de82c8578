"""Data filters (data cells filters): a row predicate and a column list on a table."""

from __future__ import annotations

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


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


class FilterGrant(ResponseModel):
    id: int
    grantee: str
    permissions: list[str]


class FilterPublic(ResponseModel):
    name: str
    table: str
    rows: str | None = Field(description="The canonical row predicate; null: every row")
    columns: list[str] | None
    excluded_columns: list[str]
    grants: list[FilterGrant]
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp


class FilterDeletion(ResponseModel):
    name: str
    table: str
    revoked_grants: list[int]
