"""`lakemesh serve` as a real process, and `lakemesh demo` wired to the demo builder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from lakemesh.home import HubHome
from lakemesh.sdk import Client
from tests.cli.conftest import Cli

# How long a server may take to answer: generous, since the suite runs on every core at once.
STARTUP = 120.0


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


@contextmanager
def _served(home: Path) -> Iterator[str]:
    """``lakemesh serve`` on ``home`` in a child process; yields its URL once it answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "LAKEMESH_HOME": str(home)}
    command = [sys.executable, "-c", "from lakemesh.cli.main import main; main()"]
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--log-level", "warning"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_health(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=STARTUP)


def test_serve_runs_the_hub_api(admin_cli: Cli) -> None:
    with _served(admin_cli.home) as url:
        token = HubHome(admin_cli.home).profile(None)["token"]
        with Client.connect(url, token=token) as client:
            assert client.whoami().name == "user:admin@governance"
        # The CLI on a served home asks its server (no hub loaded in process): a database the
        # CLI could not open itself does not matter.
        elsewhere = {"LAKEMESH_DATABASE_URL": "sqlite:////nonexistent/hub.db"}
        assert admin_cli.json("whoami", env=elsewhere)["name"] == "user:admin@governance"
    # Once the server is gone, the CLI loads the hub itself again.
    admin_cli.run("whoami", env=elsewhere, code=1)
    assert admin_cli.json("whoami")["name"] == "user:admin@governance"


def test_serve_on_a_busy_port_says_so_before_serving(admin_cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = admin_cli.run("serve", "--port", str(port), code=10)
        assert "Serving" not in result.stdout + result.stderr
        assert f"Error: Port is in use: 127.0.0.1:{port}" in result.stderr
        fresh = Cli(admin_cli.home.parent / "demo")
        error = fresh.error("demo", "--port", str(port), code=10)
    assert error["type"] == "port_in_use"
    assert error["message"].startswith(f"Port is in use: 127.0.0.1:{port} (another process")
    # The busy port stopped the demo before it built anything.
    assert not HubHome(fresh.home).exists()


def test_demo_builds_once_and_is_never_rebuilt_under_its_server(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "demo")
    built = cli.json("demo", "--no-serve", "--orders", "1000")
    names = {table["name"] for table in built["tables"]}
    assert {"sales.crm.orders", "sales.crm.customers"} <= names
    profiles = {persona["profile"] for persona in built["personas"]}
    assert {"steward", "marketing-analyst", "eu-manager"} <= profiles
    assert cli.json("whoami")["name"] == "user:steward@governance"
    assert cli.json("--profile", "eu-manager", "whoami")["attributes"] == {"region": "EU"}
    tokens = {p["profile"]: p["token"] for p in built["personas"]}
    database = (cli.home / "hub.db").read_bytes()
    with _served(cli.home) as url:
        for args in (("demo", "--reset"), ("demo",), ("init", "--force")):
            error = cli.error(*args, "--no-serve" if args[0] == "demo" else "--json", code=5)
            assert error["message"].startswith(f"Hub home is being served: {cli.home} (pid "), error
            assert f" on {url}). Nothing was changed; stop that server first" in error["message"]
        assert error["message"].endswith(f"then run: lakemesh --home {cli.home} init --force")
        # Same tokens, same database: the live demo still answers as before.
        with Client.connect(url, token=tokens["marketing-analyst"]) as client:
            assert client.whoami().name == "user:mia@marketing"
    assert (cli.home / "hub.db").read_bytes() == database
    # Stopped, `demo` serves what it built (same tokens); `demo --reset` builds it anew.
    again = cli.run("demo", "--no-serve", "--orders", "1000")
    assert f"NimbusCart is built already in {cli.home}" in again.stdout
    assert "demo --reset" in again.stdout
    assert HubHome(cli.home).profile("steward")["token"] == tokens["steward"]
    rebuilt = cli.json("demo", "--no-serve", "--reset", "--orders", "1000")
    assert {p["token"] for p in rebuilt["personas"]}.isdisjoint(tokens.values())


def test_version(cli: Cli) -> None:
    assert cli.run("--version").stdout.startswith("lakemesh ")
