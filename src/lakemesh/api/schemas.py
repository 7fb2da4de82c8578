"""Request bodies of the API (``...Create`` / ``...Update`` families), kept apart from store rows.

Responses are the services' ``describe_*`` dictionaries. Unknown fields are refused, so a typo in a
client is a 400 naming the field instead of a silently ignored setting.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

# The largest integer the store keeps (a signed 64-bit column on SQLite and PostgreSQL).
MAX_STORED_INTEGER = 2**63 - 1

Id = Annotated[int, Path(ge=1, le=MAX_STORED_INTEGER, description="A number the hub gave out")]
"""A numbered object in a path (grant, share, subscription, token): larger ones are a 400."""

Count = Annotated[int, Field(ge=0, le=MAX_STORED_INTEGER)]
"""A non-negative integer a request sets and the store keeps (bytes, seconds, a concurrency)."""


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are an error, and values are not coerced
    (``"yes"`` is not a boolean, ``"5"`` not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class DomainCreate(RequestBody):
    name: str
    producer: bool = False
    consumer: bool = False
    description: str | None = None
    admins: list[str] = Field(default_factory=list)


class DomainUpdate(RequestBody):
    producer: bool | None = None
    consumer: bool | None = None
    description: str | None = None


class DomainAdminCreate(RequestBody):
    principal: str


class PrincipalCreate(RequestBody):
    name: str
    attributes: dict[str, str] = Field(default_factory=dict)


class PrincipalUpdate(RequestBody):
    set: dict[str, str] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class GroupMemberCreate(RequestBody):
    member: str


class TokenCreate(RequestBody):
    principal: str
    expires_in: str | None = None
    description: str | None = None


class LocationCreate(RequestBody):
    uri: str
    domain: str


class DatabaseCreate(RequestBody):
    domain: str
    name: str
    description: str | None = None
    location: str | None = None


class DatabaseUpdate(RequestBody):
    description: str


class ColumnCreate(RequestBody):
    name: str
    type: str
    partition: bool = False
    description: str | None = None


class TableCreate(RequestBody):
    name: str
    location: str
    format: str
    columns: list[ColumnCreate]
    description: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)


class TableUpdate(RequestBody):
    description: str | None = None
    properties: dict[str, str] | None = None
    columns: list[ColumnCreate] | None = None


class CrawlCreate(RequestBody):
    uri: str
    domain: str
    database: str


class SettingUpdate(RequestBody):
    value: Any
