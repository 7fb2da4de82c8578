"""A grant or revoke decides the very next request, on every hub process sharing the store.

Two real ``lakemesh serve`` processes (two hub homes, like two machines) run on one fresh
PostgreSQL database; each change goes through one and is checked on the other at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from lakemesh.bootstrap import init_home

STARTUP = 60.0
TABLE = "sales.crm.customers"
MIA = "user:mia@sales"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _serve(home: Path, database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``lakemesh serve`` on a free loopback port, once it answers; the process and its URL."""
    port = _free_port()
    environment = {
        **os.environ,
        "LAKEMESH_HOME": str(home),
        "LAKEMESH_DATABASE_URL": database_url,
    }
    command = [sys.executable, "-c", "from lakemesh.cli.main import main; main()"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port), "--log-level", "warning"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lakemesh serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise AssertionError(f"lakemesh serve did not answer on {url}:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STARTUP)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


class Replica:
    """One hub process, reached as the mesh admin and as the analyst mia."""

    def __init__(self, url: str, admin_token: str) -> None:
        self.url = url
        self.admin = self.client(admin_token)
        self.mia: httpx.Client | None = None

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def explain(self) -> Any:
        params = {"principal": MIA, "permission": "SELECT", "resource": TABLE}
        return _ok(self.admin.get("/explain", params=params))

    def mia_reads_table(self) -> int:
        assert self.mia is not None
        return self.mia.get(f"/tables/{TABLE}").status_code


@pytest.fixture
def replicas(postgres_database: str, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    """Two hub processes on one PostgreSQL database, each with a hub home of its own."""
    first = tmp_path / "a"
    initialised = init_home(first, database_url=postgres_database)
    token = initialised.token.token
    initialised.hub.close()
    second = tmp_path / "b"
    second.mkdir()
    (second / "config.toml").write_text("")  # the store comes from LAKEMESH_DATABASE_URL
    with ExitStack() as stack:
        made = []
        for home in (first, second):
            process, url = _serve(home, postgres_database, tmp_path / f"{home.name}.log")
            stack.callback(_stop, process)
            replica = Replica(url, token)
            stack.callback(replica.admin.close)
            made.append(replica)
        yield made[0], made[1]


def _catalog(replica: Replica, tmp_path: Path) -> None:
    admin = replica.admin
    _ok(admin.post("/domains", json={"name": "sales", "admins": ["user:sam@sales"]}), 201)
    _ok(admin.post("/principals", json={"name": MIA}), 201)
    folder = tmp_path / "lake" / "sales"
    folder.mkdir(parents=True)
    _ok(admin.post("/locations", json={"uri": str(folder), "domain": "sales"}), 201)
    _ok(admin.post("/databases", json={"domain": "sales", "name": "crm"}), 201)
    columns = [{"name": c, "type": "VARCHAR"} for c in ("id", "email", "region")]
    body = {"name": TABLE, "location": str(folder / "customers"), "format": "parquet"}
    _ok(admin.post("/tables", json={**body, "columns": columns}), 201)


def test_grant_and_revoke_decide_the_next_request_on_the_other_process(
    replicas: tuple[Replica, Replica], tmp_path: Path
) -> None:
    a, b = replicas
    _catalog(a, tmp_path)
    mia_token = _ok(a.admin.post("/tokens", json={"principal": MIA, "expires_in": "1d"}), 201)
    a.mia, b.mia = a.client(mia_token["token"]), b.client(mia_token["token"])
    # Both processes have decided (and cached their policy index) before any grant.
    assert a.explain()["allowed"] is False
    assert b.explain()["allowed"] is False
    assert b.mia_reads_table() == 403

    for _ in range(3):
        body = {"grantee": MIA, "permissions": ["SELECT"], "on": TABLE, "columns": ["id", "region"]}
        granted = _ok(a.admin.post("/grants", json=body), 201)
        seen = b.explain()
        assert (seen["allowed"], seen["columns"]) == (True, ["id", "region"])
        assert b.mia_reads_table() == 200

        assert _ok(b.admin.delete(f"/grants/{granted['id']}")) == {"revoked": [granted["id"]]}
        assert a.explain()["allowed"] is False
        assert a.mia_reads_table() == 403

        # And the other way round: granted on B, revoked on A.
        granted = _ok(b.admin.post("/grants", json=body), 201)
        assert a.explain()["columns"] == ["id", "region"]
        _ok(a.admin.post("/grants/revoke", json=body))
        assert b.explain()["allowed"] is False
        assert b.mia_reads_table() == 403
    a.mia.close()
    b.mia.close()
