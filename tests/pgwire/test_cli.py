"""`lakemesh serve --pg-port` as a real process; the [pgwire] settings of config.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from lakemesh.demo.mesh import PERSONAS
from lakemesh.errors import InvalidInputError
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.pgwire.config import PgwireSettings, pgwire_settings
from lakemesh.pgwire.server import serve_in_background
from tests.cli.conftest import Cli
from tests.cli.test_serve_and_demo import _free_port, _wait_for_health

STARTUP = 120.0


def _connect(port: int, token: str, deadline: float) -> psycopg.Connection:
    while True:
        try:
            return psycopg.connect(
                host="127.0.0.1",
                port=port,
                user="admin@governance",
                password=token,
                dbname="governance",
                sslmode="disable",
                autocommit=True,
            )
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("how", ["option", "config"])
def test_serve_with_a_pg_port_answers_postgresql_clients(admin_cli: Cli, how: str) -> None:
    port, pg_port = _free_port(), _free_port()
    home = HubHome(admin_cli.home)
    extra = ["--pg-port", str(pg_port)]
    if how == "config":
        home.write_config({**home.config(), "pgwire": {"port": pg_port}})
        extra = []
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from lakemesh.cli.main import main; main()",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        env={**os.environ, "LAKEMESH_HOME": str(admin_cli.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_health(f"http://127.0.0.1:{port}", process)
        token = home.profile(None)["token"]
        with _connect(pg_port, token, time.monotonic() + STARTUP) as connection:
            assert connection.execute("SELECT 40 + 2 AS answer").fetchone() == (42,)
    finally:
        process.terminate()
        output = process.communicate(timeout=STARTUP)[0].decode()
    assert f"postgresql://127.0.0.1:{pg_port}" in output


def test_serve_without_a_pg_port_serves_no_postgresql(admin_cli: Cli) -> None:
    assert pgwire_settings(HubHome(admin_cli.home).config()).port is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"port": "5433"}, "Invalid pgwire.port in config.toml: '5433'"),
        ({"prot": 5433}, "Unknown pgwire setting in config.toml: prot"),
        ({"require_tls": "yes"}, "Invalid pgwire.require_tls"),
    ],
)
def test_bad_settings_name_the_setting(section: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        pgwire_settings({"pgwire": section})


def test_requiring_tls_without_a_certificate_is_refused() -> None:
    settings = pgwire_settings({"pgwire": {"port": 5433, "require_tls": True}})
    with pytest.raises(InvalidInputError, match="no pgwire.tls_certificate"):
        settings.tls_context()


def test_demo_with_a_pg_port_prints_a_working_psql_line_per_persona(tmp_path: Path) -> None:
    port, pg_port = _free_port(), _free_port()
    home = tmp_path / "demo"
    process = subprocess.Popen(
        [
            sys.executable, "-c", "from lakemesh.cli.main import main; main()",
            "--home", str(home), "demo", "--orders", "1000", "--port", str(port),
            "--pg-port", str(pg_port),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait_for_health(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        output = process.communicate(timeout=STARTUP)[0]
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith("PGPASSWORD=")]
    assert len(lines) == len(PERSONAS)
    mia = next(line for line in lines if "user=user:mia@marketing" in line)
    assert f"port={pg_port}" in mia
    # the printed command works against a hub serving the same home
    hub = Hub.open(home)
    settings = PgwireSettings(port=pg_port)
    try:
        with serve_in_background(hub, settings=settings):
            done = subprocess.run(
                ["bash", "-c", mia.replace(" psql ", " psql -X -At -c 'SELECT current_user' ")],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
    finally:
        hub.close()
    assert done.stdout.strip() == "user:mia@marketing", done.stderr
