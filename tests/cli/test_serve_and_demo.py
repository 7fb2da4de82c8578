"""`lakemesh serve` as a real process, and `lakemesh demo` wired to the demo builder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from lakemesh.home import HubHome
from lakemesh.sdk import Client
from tests.cli.conftest import Cli

STARTUP = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        assert process.poll() is None, "lakemesh serve exited early"
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"lakemesh serve did not answer on {url}")


def test_serve_runs_the_hub_api(admin_cli: Cli) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "LAKEMESH_HOME": str(admin_cli.home)}
    command = [sys.executable, "-c", "from lakemesh.cli.main import main; main()"]
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--log-level", "warning"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_health(url, process)
        token = HubHome(admin_cli.home).profile(None)["token"]
        with Client.connect(url, token=token) as client:
            assert client.whoami()["name"] == "user:admin@governance"
    finally:
        process.terminate()
        process.wait(timeout=STARTUP)


def test_demo_builds_the_mesh_and_saves_persona_profiles(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "demo")
    result = cli.json("demo", "--no-serve", "--orders", "1000")
    names = {table["name"] for table in result["tables"]}
    assert {"sales.crm.orders", "sales.crm.customers"} <= names
    profiles = {persona["profile"] for persona in result["personas"]}
    assert {"steward", "marketing-analyst", "eu-manager"} <= profiles
    assert cli.json("whoami")["name"] == "user:steward@governance"
    assert cli.json("--profile", "eu-manager", "whoami")["attributes"] == {"region": "EU"}


def test_version(cli: Cli) -> None:
    assert cli.run("--version").stdout.startswith("lakemesh ")
