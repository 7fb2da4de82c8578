"""Denial of service: a served hub, capped in memory, survives every statement of the DoS set.

The hub runs as ``lakemesh serve`` in a child process whose address space is capped
(``RLIMIT_AS``, inherited by its query workers as their ceiling) on a loopback port. Each
statement goes to ``POST /queries`` as an analyst with no grant at all: it must get a 4xx that
names the limit that stopped it, and ``/health`` must answer after it. The hub's own memory must
not grow by what the statements asked for.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import make_hub_home, ok

HUB_ADDRESS_SPACE = 4 * 1024**3
"""The served hub's cap: far below what the statements ask for (up to 24 GB)."""
STARTUP_SECONDS = 60
MEMORY = 512 * 1024**2
TIMEOUT_SECONDS = 3
ANALYST = "user:eve@attackers"

_MEMORY = "memory limit of 512MiB (max_memory_bytes) (workgroup dos)"
_TIME = "time limit of "  # the time left once the statement was planned
_BUILD = "elements or characters, over the limit of 10000000 per call"
_RUN = (_MEMORY, _TIME)  # whichever of the statement's memory and time runs out first
# (on a loaded machine a statement bound for the memory cap can reach the timeout first)

# (statement, accepted statuses, what the error message must say: one of these)
DOS_SET: list[tuple[str, tuple[int, ...], tuple[str, ...]]] = [
    ("SELECT * FROM unnest(range(3000000000))", (400,), (_BUILD,)),
    ("SELECT * FROM unnest(range((SELECT 3000000000)))", (429,), _RUN),
    ("SELECT repeat('x', 3e9)", (400,), (_BUILD,)),
    ("SELECT repeat('x', (SELECT 3000000000)) AS x", (429,), _RUN),
    ("SELECT lpad('a', (SELECT 2000000000), 'x') AS x", (429,), _RUN),
    ("SELECT list(range) FROM range(300000000)", (429,), _RUN),
    ("SELECT string_agg(repeat('x', 1000), ',') FROM range(3000000)", (429,), _RUN),
    ("SELECT count(*) FROM range(1000000000) a, range(1000000000) b", (429,), _RUN),
    (
        "SELECT * FROM range(100000000) a, range(1000) b",
        (429,),
        ("row limit of 1000000 rows (max_rows) (workgroup dos)",),
    ),
    (
        "SELECT repeat('x', 1000) AS x FROM range(1000000)",
        (429,),
        ("larger than the limit of 104857600 bytes (max_result_bytes) (workgroup dos)",),
    ),
    (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        (429,),
        _RUN,
    ),
    (
        "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r) SELECT max(length(s)) "
        "FROM r",
        (429,),
        _RUN,
    ),
    ("SELECT " + "(" * 5000 + "1" + ")" * 5000, (400,), ("nests too deeply",)),
    ("SELECT 1 /* " + "x" * (5 * 1024**2) + " */", (400, 413), ("max_sql_bytes", "max_request")),
    (
        "SELECT count(*) FROM range(100000) "
        "WHERE regexp_matches(repeat('a', range::INTEGER % 5000), '(a*)*(a|aa)*b')",
        (200, 429),
        (_TIME,),
    ),
    ("SELECT * FROM read_csv('/dev/zero')", (400,), ("Table function not allowed: read_csv",)),
    ("SELECT * FROM read_text('/proc/self/environ')", (400,), ("not allowed: read_text",)),
    ("SELECT * FROM '/proc/self/status'", (400,), ("Reading a file by its path is not allowed",)),
]


@dataclass
class ServedHub:
    url: str
    process: subprocess.Popen[bytes]
    analyst: httpx.Client

    def health(self) -> None:
        assert self.process.poll() is None, "the hub process ended"
        response = httpx.get(f"{self.url}/api/v1/health", timeout=10)
        assert response.status_code == 200, response.text

    def heap_bytes(self) -> int:
        """The hub's anonymous resident memory (mapped result files are page cache, not this)."""
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    home = tmp_path_factory.mktemp("dos") / "home"
    hub, admin_token = make_hub_home(home)
    hub.close()
    port = _free_port()
    capped = (
        "import resource, sys;"
        f"resource.setrlimit(resource.RLIMIT_AS, ({HUB_ADDRESS_SPACE}, {HUB_ADDRESS_SPACE}));"
        "from lakemesh.cli.main import main; main()"
    )
    log = home.parent / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", capped, "serve", "--port", str(port), "--log-level", "warning"],
            env={**os.environ, "LAKEMESH_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process, log)
        with httpx.Client(
            base_url=f"{url}/api/v1",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=120,
        ) as admin:
            ok(admin.post("/domains", json={"name": "attackers", "consumer": True}), 201)
            ok(admin.post("/principals", json={"name": ANALYST}), 201)
            token = ok(admin.post("/tokens", json={"principal": ANALYST}), 201)["token"]
            settings = {"max_memory_bytes": MEMORY, "timeout_seconds": TIMEOUT_SECONDS}
            ok(admin.post("/workgroups", json={"name": "dos", **settings}), 201)
            unbounded = {"max_rows": None, "max_result_bytes": None, "timeout_seconds": 60}
            ok(admin.post("/workgroups", json={"name": "unbounded", **unbounded}), 201)
        with httpx.Client(
            base_url=f"{url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        ) as analyst:
            yield ServedHub(url, process, analyst)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lakemesh serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"lakemesh serve did not answer on {url}:\n{log.read_text()}")


def test_the_hub_survives_the_dos_set(served: ServedHub) -> None:
    served.health()
    ok(served.analyst.post("/queries", json={"sql": "SELECT 1 AS one", "workgroup": "dos"}))
    before = served.heap_bytes()
    for sql, statuses, messages in DOS_SET:
        started = time.monotonic()
        response = served.analyst.post("/queries", json={"sql": sql, "workgroup": "dos"})
        label = f"{sql[:80]!r} answered {response.status_code} in {time.monotonic() - started:.1f}s"
        assert response.status_code in statuses, f"{label}: {response.text[:500]}"
        if response.status_code != 200:
            message = response.json()["error"]["message"]
            assert any(expected in message for expected in messages), f"{label}: {message}"
        served.health()
    grown = served.heap_bytes() - before
    assert grown < 256 * 1024**2, f"the hub grew by {grown} bytes"
    result = ok(served.analyst.post("/queries", json={"sql": "SELECT 42 AS n", "workgroup": "dos"}))
    assert result["rows"] == [[42]]


def test_a_large_result_streams_through_the_hub(served: ServedHub) -> None:
    """~250 MB of JSON (result limits lifted) reaches the client without the hub holding it."""
    sql = "SELECT range AS n, repeat('x', 600) AS pad FROM range(400000)"
    body = {"sql": sql, "workgroup": "unbounded", "format": "json"}
    ok(served.analyst.post("/queries", json={"sql": "SELECT 1", "workgroup": "unbounded"}))
    before = served.heap_bytes()
    received = 0
    peak = before
    with served.analyst.stream("POST", "/queries", json=body) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            received += len(chunk)
            peak = max(peak, served.heap_bytes())
    assert received > 200 * 1024**2
    assert peak - before < 128 * 1024**2, f"the hub's heap grew by {peak - before} bytes"
    served.health()
