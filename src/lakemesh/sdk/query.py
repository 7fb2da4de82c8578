"""SDK methods of governed queries (Arrow over the wire), query jobs, history and workgroups."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from lakemesh.api.schemas.queries import JobStatus, JobSubmitted, QueryPublic, QueryResult
from lakemesh.api.schemas.workgroups import WorkgroupPublic
from lakemesh.errors import InvalidInputError
from lakemesh.sdk.base import ApiBase, parsed, parsed_list, segment

ARROW = "application/vnd.apache.arrow.stream"
EXPORT_FORMATS = ("csv", "arrow")

if TYPE_CHECKING:
    import pyarrow as pa


class _ChunkReader(io.RawIOBase):
    """A readable file over a response's body chunks, so Arrow decodes as they arrive."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class QueryMethods(ApiBase):
    """Governed SQL: each query returns only what the caller's grants allow."""

    def _raw(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request whose body is not JSON (CSV, Arrow); errors raised as usual."""
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        self._raise_for_status(response)
        return response

    def _arrow(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[pa.Table, dict[str, Any]]:
        """A response's Arrow IPC stream decoded batch by batch as it arrives (the body is never
        held whole next to the table), and the query's figures."""
        try:
            with self._http.stream(method, path, json=json, params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                # Imported here for the CLI's startup time: most commands never read Arrow.
                import pyarrow as pa

                reader = io.BufferedReader(_ChunkReader(response.iter_bytes()), 1 << 20)
                return pa.ipc.open_stream(reader).read_all(), _figures(response)
        except httpx.TransportError as e:
            raise self._unreachable(e) from e

    # -- queries --------------------------------------------------------------------------------

    def query(self, sql: str, *, workgroup: str | None = None) -> pa.Table:
        """Run ``sql`` and return its rows as an Arrow table (sent as an Arrow IPC stream)."""
        body = {"sql": sql, "workgroup": workgroup, "format": "arrow"}
        table, figures = self._arrow("POST", "/queries", json=body)
        for notice in figures["warnings"]:
            warnings.warn(notice, ReaderWarning, stacklevel=2)
        return table

    def query_json(self, sql: str, *, workgroup: str | None = None) -> QueryResult:
        """Run ``sql``: its ``columns`` (name, type), ``rows`` as lists in column order, and the
        query's figures (``query_id``, ``bytes_scanned``, ``rows_returned``, ``duration_ms``,
        ``warnings``)."""
        body = {"sql": sql, "workgroup": workgroup, "format": "json"}
        return parsed(QueryResult, self.request("POST", "/queries", json=body))

    def query_export(
        self, sql: str, *, format: str, workgroup: str | None = None
    ) -> tuple[bytes, dict[str, Any]]:
        """Run ``sql`` and return its rows as CSV or Arrow IPC stream bytes, with the query's
        figures (``query_id``, ``bytes_scanned``, ``rows_returned``, ``duration_ms``)."""
        _check_format(format)
        body = {"sql": sql, "workgroup": workgroup, "format": format}
        response = self._raw("POST", "/queries", json=body)
        return response.content, _figures(response)

    # -- jobs -----------------------------------------------------------------------------------

    def submit_query(self, sql: str, *, workgroup: str | None = None) -> JobSubmitted:
        """Start ``sql`` in the background: the job's ``id`` and ``status`` (queued)."""
        body = {"sql": sql, "workgroup": workgroup}
        return parsed(JobSubmitted, self.request("POST", "/queries/jobs", json=body))

    def query_status(self, query_id: str) -> JobStatus:
        """A job's status (``queued``, ``running``, or its outcome) and figures."""
        return parsed(JobStatus, self._get(f"/queries/jobs/{segment(query_id)}"))

    def query_results(self, query_id: str) -> pa.Table:
        """A finished job's rows as an Arrow table (the job's error when it did not succeed)."""
        path = f"/queries/jobs/{segment(query_id)}/results"
        table, _ = self._arrow("GET", path, params={"format": "arrow"})
        return table

    def query_results_export(self, query_id: str, *, format: str) -> tuple[bytes, dict[str, Any]]:
        """A finished job's rows as CSV or Arrow IPC stream bytes, with its figures."""
        _check_format(format)
        response = self._raw(
            "GET", f"/queries/jobs/{segment(query_id)}/results", params={"format": format}
        )
        return response.content, _figures(response)

    def query_results_json(self, query_id: str) -> QueryResult:
        """A finished job's rows as :meth:`query_json` gives them."""
        found = self._get(f"/queries/jobs/{segment(query_id)}/results", format="json")
        return parsed(QueryResult, found)

    def cancel_query(self, query_id: str) -> JobStatus:
        """Cancel a queued or running job; returns its status."""
        return parsed(JobStatus, self.request("DELETE", f"/queries/jobs/{segment(query_id)}"))

    def query_history(
        self, *, limit: int | None = None, principal: str | None = None
    ) -> list[QueryPublic]:
        """Your newest queries (mesh admins may ask for another principal's)."""
        found = self._get("/queries/history", limit=limit, principal=principal)
        return parsed_list(QueryPublic, found)


class WorkgroupMethods(ApiBase):
    """Workgroups: where queries run and the limits they obey."""

    def list_workgroups(self) -> list[WorkgroupPublic]:
        return parsed_list(WorkgroupPublic, self._get("/workgroups"))

    def get_workgroup(self, name: str) -> WorkgroupPublic:
        return parsed(WorkgroupPublic, self._get(f"/workgroups/{segment(name)}"))

    def create_workgroup(
        self, name: str, *, engine: str = "duckdb", **settings: Any
    ) -> WorkgroupPublic:
        """Create a workgroup; ``settings`` are ``description``, ``max_bytes_per_query``,
        ``max_bytes_per_month``, ``max_concurrent``, ``max_concurrent_per_principal``,
        ``timeout_seconds``, ``max_memory_bytes``, ``max_rows``, ``max_result_bytes``,
        ``result_retention`` (``7d``) and ``spark_remote`` (``sc://host:port``). A limit given
        as None is no limit; one left out has its default."""
        body = {"name": name, "engine": engine, **settings}
        return parsed(WorkgroupPublic, self.request("POST", "/workgroups", json=body))

    def update_workgroup(self, name: str, **changes: Any) -> WorkgroupPublic:
        """Change a workgroup's settings; a limit given as None is lifted."""
        changed = self.request("PATCH", f"/workgroups/{segment(name)}", json=changes)
        return parsed(WorkgroupPublic, changed)

    def delete_workgroup(self, name: str) -> None:
        self.request("DELETE", f"/workgroups/{segment(name)}")


def _check_format(format: str) -> None:
    if format not in EXPORT_FORMATS:
        raise InvalidInputError(
            f"Unknown export format: {format} (expected {' or '.join(EXPORT_FORMATS)})",
            details={"format": format},
        )


class ReaderWarning(UserWarning):
    """A notice for whoever reads the data, e.g. a table of a deprecated data product."""


def _figures(response: httpx.Response) -> dict[str, Any]:
    headers = response.headers
    return {
        "warnings": json.loads(headers.get("x-lakemesh-warnings") or "[]"),
        "query_id": headers.get("x-lakemesh-query-id", ""),
        "bytes_scanned": _number(headers.get("x-lakemesh-bytes-scanned")),
        "rows_returned": _number(headers.get("x-lakemesh-rows")),
        "duration_ms": _number(headers.get("x-lakemesh-duration-ms")),
    }


def _number(header: str | None) -> int | None:
    """A figure header as the number it is (``None`` when the hub sent none)."""
    return int(header) if header and header.isdigit() else None
