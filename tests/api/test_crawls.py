"""Crawling through HTTP: a plain JSON result, and NDJSON progress streaming."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok

NDJSON = {"Accept": "application/x-ndjson"}


def _write_lake(root: Path) -> None:
    """``orders`` partitioned by day (three files) and a plain ``customers`` table."""
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        folder = root / "orders" / f"day={day}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"id": [1, 2], "amount": [9.5, 3.0]}), folder / "part-0.parquet")
    (root / "customers").mkdir()
    pq.write_table(
        pa.table({"id": [1], "email": ["a@example.com"]}), root / "customers" / "part-0.parquet"
    )


def _lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.iter_lines() if line]


def _prepare(admin: httpx.Client, owner: DomainAdmin, tmp_path: Path) -> Path:
    lake = tmp_path / owner.domain
    _write_lake(lake)
    ok(admin.post("/locations", json={"uri": str(lake), "domain": owner.domain}), 201)
    return lake


def test_crawl_streams_progress_then_the_result(
    api_server: ApiServer,
    make_domain: Callable[[str], DomainAdmin],
    admin: httpx.Client,
    tmp_path: Path,
) -> None:
    owner = make_domain("crawl")
    lake = _prepare(admin, owner, tmp_path)
    body = {"uri": str(lake), "domain": owner.domain, "database": "raw"}
    with (
        api_server.client(owner.token) as client,
        client.stream("POST", "/crawls", json=body, headers=NDJSON) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        events = _lines(response)

    progress, final = events[:-1], events[-1]
    assert progress
    assert all(e["event"] == "progress" and e["total"] == 4 for e in progress)
    assert progress[-1]["done"] == 4
    assert final["event"] == "result"
    tables = {t["name"]: t for t in final["tables"]}
    assert set(tables) == {f"{owner.domain}.raw.customers", f"{owner.domain}.raw.orders"}
    assert tables[f"{owner.domain}.raw.orders"]["status"] == "created"
    assert tables[f"{owner.domain}.raw.orders"]["files"] == 3

    shown = ok(admin.get(f"/tables/{owner.domain}.raw.orders"))
    assert shown["partition_columns"] == ["day"]
    assert [c["name"] for c in shown["columns"]] == ["id", "amount", "day"]

    again = ok(admin.post("/crawls", json=body))
    assert [t["status"] for t in again["tables"]] == ["unchanged", "unchanged"]


def test_crawl_errors_stream_as_one_error_line(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("crawlerr")
    body = {"uri": str(tmp_path / "unregistered"), "domain": owner.domain, "database": "raw"}
    with admin.stream("POST", "/crawls", json=body, headers=NDJSON) as response:
        assert response.status_code == 200
        events = _lines(response)
    assert len(events) == 1
    assert events[0]["event"] == "error"
    assert events[0]["error"]["type"] == "invalid_input"
    assert events[0]["error"]["message"].startswith(
        f"file://{tmp_path}/unregistered is not inside any location registered by domain "
        f"{owner.domain}"
    )
    error = error_of(admin.post("/crawls", json=body), 400)
    assert error["message"] == events[0]["error"]["message"]


def test_crawl_of_a_corrupt_file_names_it_and_registers_nothing(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("corrupt")
    lake = _prepare(admin, owner, tmp_path)
    (lake / "customers" / "broken.parquet").write_bytes(b"not parquet at all")
    body = {"uri": str(lake), "domain": owner.domain, "database": "raw"}
    with admin.stream("POST", "/crawls", json=body, headers=NDJSON) as response:
        final = _lines(response)[-1]
    assert final["event"] == "error"
    assert "broken.parquet" in final["error"]["message"]
    assert ok(admin.get("/tables", params={"domain": owner.domain})) == []


def test_crawl_by_another_domains_admin_is_403(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    tmp_path: Path,
) -> None:
    owner, other = make_domain("crawl_own"), make_domain("crawl_other")
    lake = _prepare(admin, owner, tmp_path)
    body = {"uri": str(lake), "domain": owner.domain, "database": "raw"}
    with api_server.client(other.token) as client:
        error = error_of(client.post("/crawls", json=body), 403)
    assert error["message"] == f"{other.principal} is not an admin of domain {owner.domain}"
