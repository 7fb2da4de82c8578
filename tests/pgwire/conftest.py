"""A governed mesh served over the PostgreSQL protocol on a free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from lakemesh.pgwire.config import PgwireSettings
from lakemesh.pgwire.server import serve_in_background
from tests.cli.conftest import admin_cli, cli  # noqa: F401 (the CLI tests use them)
from tests.conftest import HubEnv, make_hub_env
from tests.factories.query import GovernedMesh, build_governed_mesh


@dataclass
class PgMesh:
    """The governed mesh of tests/factories/query.py, listening on ``port``."""

    mesh: GovernedMesh
    host: str
    port: int

    def dsn(self, principal: str, token: str | None = None, **options: str) -> str:
        full = principal if ":" in principal else f"user:{principal}"
        password = token if token is not None else self.mesh.token(full)
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": principal,
            "password": password,
            "dbname": "sales",
            "sslmode": "disable",
            "connect_timeout": "10",
            **options,
        }
        return " ".join(f"{k}='{v}'" for k, v in parts.items())

    def connect(
        self, principal: str, row_factory: str = "tuple", **options: str
    ) -> psycopg.Connection:
        """A psycopg connection as ``principal`` (autocommit, as read-only clients use it)."""
        return psycopg.connect(self.dsn(principal, **options), autocommit=True)


def served(env: HubEnv, tmp_path: Path, settings: PgwireSettings | None = None) -> Iterator[PgMesh]:
    mesh = build_governed_mesh(env, tmp_path / "lake")
    with serve_in_background(env.hub, settings=settings) as running:
        yield PgMesh(mesh, running.host, running.port)


@pytest.fixture
def pg(sqlite_env: HubEnv, tmp_path: Path) -> Iterator[PgMesh]:
    """The governed mesh on SQLite, served on a free port."""
    yield from served(sqlite_env, tmp_path)


@pytest.fixture
def pg_any(env: HubEnv, tmp_path: Path) -> Iterator[PgMesh]:
    """The governed mesh on each store backend (SQLite and PostgreSQL), served on a free port."""
    yield from served(env, tmp_path)


@pytest.fixture
def pg_factory(tmp_path: Path) -> Iterator[Callable[[PgwireSettings], PgMesh]]:
    """Serves a fresh governed mesh with the given settings (TLS tests)."""
    stack: list[Iterator[PgMesh]] = []
    envs: list[HubEnv] = []

    def make(settings: PgwireSettings) -> PgMesh:
        env = make_hub_env(tmp_path / f"home{len(envs)}")
        envs.append(env)
        generator = served(env, tmp_path / f"data{len(envs)}", settings)
        stack.append(generator)
        return next(generator)

    yield make
    for generator in stack:
        generator.close()
    for env in envs:
        env.hub.close()
