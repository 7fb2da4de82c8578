"""SCRAM-SHA-256: clients prove their token without sending it; a token in clear only over TLS
and only when a setting asks for it; every refusal audited like a wrong token over HTTP."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import asyncpg
import psycopg
import pytest
from sqlalchemy import update

from lakemesh import audit
from lakemesh.identity.tokens import list_tokens, revoke_token
from lakemesh.pgwire.config import PgwireSettings
from lakemesh.store.schema import ApiToken
from tests.factories.query import BOB, MIA

from .conftest import PgMesh
from .test_tls import make_certificate


def connections(pg: PgMesh, outcome: str = "success") -> list[dict[str, object]]:
    with pg.mesh.hub.read() as session:
        events = audit.search(session, reader=pg.mesh.admin, action="pgwire.connect")
        return [{"actor": e.actor, **e.details} for e in events if e.outcome == outcome]


def test_libpq_clients_authenticate_with_scram(pg: PgMesh) -> None:
    # require_auth (libpq 16+) makes the client refuse any other method, cleartext included
    with pg.connect(MIA, require_auth="scram-sha-256") as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
    done = subprocess.run(
        ["psql", "-X", "-h", pg.host, "-p", str(pg.port), "-U", MIA, "-d", "sales", "-tA",
         "-c", "SELECT 40 + 2"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PGPASSWORD": pg.mesh.token(MIA), "PGSSLMODE": "disable"},
    )  # fmt: skip
    assert done.stdout.strip() == "42", done.stderr
    assert [e["method"] for e in connections(pg)] == ["SCRAM-SHA-256", "SCRAM-SHA-256"]


def test_asyncpg_authenticates_with_its_own_scram(pg: PgMesh) -> None:
    token = pg.mesh.token(BOB)

    async def main() -> int:
        connection = await asyncpg.connect(
            host=pg.host, port=pg.port, user=BOB, password=token, database="sales", ssl=False
        )
        try:
            return int(await connection.fetchval("SELECT 6 * 7"))
        finally:
            await connection.close()

    assert asyncio.run(main()) == 42
    with pytest.raises(asyncpg.InvalidPasswordError, match="Invalid API token"):
        asyncio.run(
            asyncpg.connect(
                host=pg.host, port=pg.port, user=BOB, password="lm_x", database="sales", ssl=False
            )
        )


def test_a_revoked_token_is_refused_as_over_http(pg: PgMesh) -> None:
    token = pg.mesh.token(BOB)
    actor = pg.mesh.actor(BOB)
    with pg.mesh.hub.transaction() as session:
        (row,) = [t for t in list_tokens(session, actor=actor) if token.startswith(t.prefix)]
        revoke_token(session, actor=actor, token_id=row.id)
    with pytest.raises(psycopg.OperationalError, match="API token was revoked"):
        psycopg.connect(pg.dsn(BOB, token=token))
    (refusal,) = connections(pg, "denied")
    assert refusal["actor"] == BOB
    assert "API token was revoked" in str(refusal["message"])


def test_an_unknown_user_gets_the_same_refusal_as_a_wrong_token(pg: PgMesh) -> None:
    with pytest.raises(psycopg.OperationalError) as unknown:
        psycopg.connect(pg.dsn("nobody@nowhere", token=pg.mesh.token(MIA)))
    with pytest.raises(psycopg.OperationalError) as wrong:
        psycopg.connect(pg.dsn(BOB, token=pg.mesh.token(MIA)))
    assert "Invalid API token" in str(unknown.value)
    assert "Invalid API token" in str(wrong.value)
    assert sorted(e["actor"] for e in connections(pg, "denied")) == [BOB, "user:nobody@nowhere"]


def _forget_verifiers(pg: PgMesh) -> None:
    """Tokens as issued before SCRAM verifiers existed."""
    with pg.mesh.hub.transaction() as session:
        session.execute(update(ApiToken).values(scram_verifier=None))


def test_cleartext_only_over_tls_and_only_when_the_setting_asks(
    pg_factory: Callable[[PgwireSettings], PgMesh], tmp_path: Path
) -> None:
    certificate, key = make_certificate(tmp_path)
    pg = pg_factory(
        PgwireSettings(
            tls_certificate=str(certificate), tls_key=str(key), tls_cleartext_password=True
        )
    )
    token = pg.mesh.token(MIA)
    _forget_verifiers(pg)
    secure = pg.dsn(MIA, token=token, sslmode="verify-full", sslrootcert=str(certificate))
    with psycopg.connect(secure, require_auth="password") as connection:
        assert connection.pgconn.ssl_in_use
        assert connection.execute("SELECT 1").fetchone() == (1,)
    # without TLS the token is never asked for in clear: SCRAM, which an old token cannot pass
    with pytest.raises(psycopg.OperationalError, match="Invalid API token"):
        psycopg.connect(pg.dsn(MIA, token=token, sslmode="disable"))
    with pytest.raises(psycopg.OperationalError, match="server requested a cleartext password"):
        psycopg.connect(secure, require_auth="scram-sha-256")
    assert [e["method"] for e in connections(pg)] == ["password"]


def test_without_the_setting_tls_clients_use_scram_too(
    pg_factory: Callable[[PgwireSettings], PgMesh], tmp_path: Path
) -> None:
    certificate, key = make_certificate(tmp_path)
    pg = pg_factory(PgwireSettings(tls_certificate=str(certificate), tls_key=str(key)))
    secure = pg.dsn(MIA, sslmode="verify-full", sslrootcert=str(certificate))
    with psycopg.connect(secure, require_auth="scram-sha-256") as connection:
        assert connection.pgconn.ssl_in_use
    assert [e["method"] for e in connections(pg)] == ["SCRAM-SHA-256"]
