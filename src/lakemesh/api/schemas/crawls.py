"""Crawls: tables discovered under a URI (the streamed form is documented on the route)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel, RowModel

if TYPE_CHECKING:
    from lakemesh.catalog.crawler import CrawledTable as CrawledTableRecord


class CrawlCreate(RequestBody):
    uri: str
    domain: str
    database: str


class CrawledTable(RowModel):
    # ``proposal`` first: the order crawls have always answered in (scripts diff the JSON).
    proposal: int | None = Field(
        default=None,
        description="The schema proposal a breaking change to a contracted product's table "
        "waits in (status held: the table keeps serving its contracted schema)",
    )
    name: str
    status: str = Field(description="created, updated, unchanged, skipped or held")
    schema_version: int
    files: int
    bytes: int
    changes: dict[str, list[Any]] = Field(description="added, removed and changed columns")
    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def from_row(cls, row: CrawledTableRecord) -> CrawledTable:
        return cls(
            proposal=row.proposal,
            name=row.name,
            status=row.status,
            schema_version=row.schema_version,
            files=row.files,
            bytes=row.bytes,
            changes=row.changes,
            warnings=list(row.warnings),
        )


class CrawlResult(ResponseModel):
    tables: list[CrawledTable]

    @classmethod
    def of(cls, tables: list[CrawledTableRecord]) -> CrawlResult:
        return cls(tables=[CrawledTable.from_row(table) for table in tables])
