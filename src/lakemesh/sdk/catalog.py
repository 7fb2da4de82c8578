"""SDK methods of the catalog: locations, databases, tables and crawls."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from lakemesh.api.schemas.crawls import CrawledTable
from lakemesh.api.schemas.databases import DatabasePublic
from lakemesh.api.schemas.locations import LocationPublic
from lakemesh.api.schemas.tables import (
    SchemaVersionPublic,
    TableChanged,
    TableDiffPublic,
    TablePublic,
)
from lakemesh.errors import InvalidInputError, LakemeshError
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment

NDJSON = "application/x-ndjson"

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while a crawl reads the files it found."""


def split_database(name: str) -> tuple[str, str]:
    """``DOMAIN.DATABASE`` as its two parts."""
    domain, dot, database = name.partition(".")
    if not dot or not domain or not database or "." in database:
        raise InvalidInputError(
            f"Invalid database name: {name!r} (expected DOMAIN.DATABASE)",
            details={"database": name},
        )
    return domain, database


class CatalogMethods(ApiBase):
    """What the mesh holds and where it lives."""

    # -- locations ------------------------------------------------------------------------------

    def list_locations(self, *, domain: str | None = None) -> list[LocationPublic]:
        return parsed_list(LocationPublic, self._get("/locations", domain=domain))

    def register_location(self, uri: str, *, domain: str) -> LocationPublic:
        """Register a storage URI (``file://…``, ``s3://…``) as owned by ``domain``."""
        body = {"uri": uri, "domain": domain}
        return parsed(LocationPublic, self.request("POST", "/locations", json=body))

    def remove_location(self, uri: str) -> None:
        """Deregister a location no table uses any more."""
        self.request("DELETE", "/locations", params={"uri": uri})

    # -- databases ------------------------------------------------------------------------------

    def list_databases(self, *, domain: str | None = None) -> list[DatabasePublic]:
        return parsed_list(DatabasePublic, self._get("/databases", domain=domain))

    def create_database(
        self, name: str, *, description: str = "", location: str | None = None
    ) -> DatabasePublic:
        """Create ``DOMAIN.DATABASE``."""
        domain, database = split_database(name)
        body = {"domain": domain, "name": database, "description": description}
        if location is not None:
            body["location"] = location
        return parsed(DatabasePublic, self.request("POST", "/databases", json=body))

    def get_database(self, name: str) -> DatabasePublic:
        return parsed(DatabasePublic, self._get(f"/databases/{segment(name)}"))

    def update_database(self, name: str, *, description: str) -> DatabasePublic:
        body = {"description": description}
        changed = self.request("PATCH", f"/databases/{segment(name)}", json=body)
        return parsed(DatabasePublic, changed)

    def drop_database(self, name: str, *, cascade: bool = False) -> None:
        """Drop a database; ``cascade`` also drops its tables."""
        self.request(
            "DELETE",
            f"/databases/{segment(name)}",
            params={"cascade": "true" if cascade else "false"},
        )

    # -- tables ---------------------------------------------------------------------------------

    def list_tables(
        self, *, domain: str | None = None, database: str | None = None
    ) -> list[TablePublic]:
        return parsed_list(TablePublic, self._get("/tables", domain=domain, database=database))

    def create_table(
        self,
        name: str,
        *,
        location: str,
        format: str,
        columns: Iterable[Mapping[str, Any]],
        description: str = "",
        properties: Mapping[str, str] | None = None,
    ) -> TablePublic:
        """Register ``D.DB.T`` by hand; columns are ``{"name", "type", "partition"}``."""
        body = {
            "name": name,
            "location": location,
            "format": format,
            "columns": [dict(column) for column in columns],
            "description": description,
            "properties": dict(properties or {}),
        }
        return parsed(TablePublic, self.request("POST", "/tables", json=body))

    def get_table(self, name: str) -> TablePublic:
        """``D.DB.T`` with its location, format, columns, partition columns and tags."""
        return parsed(TablePublic, self._get(f"/tables/{segment(name)}"))

    def update_table(
        self,
        name: str,
        *,
        description: str | None = None,
        properties: Mapping[str, str] | None = None,
        columns: Iterable[Mapping[str, Any]] | None = None,
    ) -> TableChanged:
        """Alter a table; returns the table and the changes to its columns."""
        body: dict[str, Any] = only_set(description=description)
        if properties is not None:
            body["properties"] = dict(properties)
        if columns is not None:
            body["columns"] = [dict(column) for column in columns]
        return parsed(TableChanged, self.request("PATCH", f"/tables/{segment(name)}", json=body))

    def drop_table(self, name: str) -> None:
        self.request("DELETE", f"/tables/{segment(name)}")

    def table_diff(
        self,
        name: str,
        *,
        from_version: int | None = None,
        to_version: int | None = None,
        proposal: int | None = None,
    ) -> TableDiffPublic:
        """Two schema versions compared (default: the current one and the one before), or a
        schema proposal against the version it would replace: added, removed and changed
        columns, and whether the change breaks consumers."""
        found = self._get(
            f"/tables/{segment(name)}/diff",
            **{"from": from_version, "to": to_version, "proposal": proposal},
        )
        return parsed(TableDiffPublic, found)

    def table_history(self, name: str) -> list[SchemaVersionPublic]:
        """The schema versions of a table, oldest first."""
        return parsed_list(SchemaVersionPublic, self._get(f"/tables/{segment(name)}/history"))

    # -- crawling -------------------------------------------------------------------------------

    def crawl(
        self,
        uri: str,
        *,
        domain: str,
        database: str,
        progress: ProgressCallback | None = None,
    ) -> list[CrawledTable]:
        """Discover the tables under ``uri`` and register them in ``domain.database``.

        ``progress(done, total)`` is called as the hub reads files. Returns what the crawl did
        to each table: its ``name``, ``status`` (created, updated, unchanged, skipped or held),
        ``schema_version``, ``changes``, ...
        """
        body = {"uri": uri, "domain": domain, "database": database}
        try:
            with self._http.stream(
                "POST", "/crawls", json=body, headers={"Accept": NDJSON}
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                if NDJSON not in response.headers.get("content-type", ""):
                    response.read()
                    return parsed_list(CrawledTable, response.json()["tables"])
                for line in response.iter_lines():
                    if line.strip():
                        result = self._crawl_event(json.loads(line), progress)
                        if result is not None:
                            return result
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        raise LakemeshError(
            f"The crawl of {uri} ended without a result from the hub at {self.url}",
            details={"uri": uri},
        )

    def _crawl_event(
        self, event: dict[str, Any], progress: ProgressCallback | None
    ) -> list[CrawledTable] | None:
        kind = event.get("event")
        if kind == "progress":
            if progress is not None:
                progress(int(event["done"]), int(event["total"]))
            return None
        if kind == "error":
            raise self._error(event["error"])
        if kind == "result":
            return parsed_list(CrawledTable, event["tables"])
        return None
