"""Crawls: tables discovered under a URI (the streamed form is documented on the route)."""

from __future__ import annotations

from typing import Any

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


class CrawlResult(ResponseModel):
    tables: list[CrawledTable]
