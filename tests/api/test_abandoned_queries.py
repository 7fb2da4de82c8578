"""A query whose client went away is cancelled, not left running to its time limit."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.conftest import ApiServer, ok

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


def test_a_client_that_gives_up_cancels_its_query(
    api_server: ApiServer, admin: httpx.Client
) -> None:
    sql = f"{SLOW} -- abandoned {time.monotonic()}"
    with (
        api_server.client(api_server.admin_token) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.post("/queries", json={"sql": sql}, timeout=1.5)
    deadline = time.monotonic() + 15
    while True:
        found = [q for q in ok(admin.get("/queries/history")) if q["sql"] == sql]
        if found and found[0]["outcome"] is not None:
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    [query] = found
    assert query["status"] == "cancelled"
    assert query["error"] == {"type": "query_cancelled", "message": "Query was cancelled"}
    assert query["duration_ms"] < 10_000


def test_a_patient_client_gets_its_rows(admin: httpx.Client) -> None:
    body = ok(admin.post("/queries", json={"sql": "SELECT 6 * 7 AS answer"}))
    assert body["rows"] == [[42]]
