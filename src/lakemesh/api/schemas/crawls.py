"""Crawls: tables discovered under a URI (the streamed form is documented on the route)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel


class CrawlCreate(RequestBody):
    uri: str
    domain: str
    database: str


class CrawledTable(ResponseModel):
    name: str
    status: str
    schema_version: int
    files: int
    bytes: int
    changes: dict[str, list[Any]]
    proposal: int | None = Field(
        default=None,
        description="The schema proposal a breaking change to a contracted product's table "
        "waits in (status held: the table keeps serving its contracted schema)",
    )


class CrawlResult(ResponseModel):
    tables: list[CrawledTable]
