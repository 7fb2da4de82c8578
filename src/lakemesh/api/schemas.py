"""Request bodies of the API (``...Create`` / ``...Update`` families), kept apart from store rows.

Responses are the services' ``describe_*`` dictionaries. Unknown fields are refused, so a typo in a
client is a 400 naming the field instead of a silently ignored setting.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


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
