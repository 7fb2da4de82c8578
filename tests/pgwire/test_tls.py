"""TLS with a configured certificate (made at test time), a setting that requires it, and the
limit on connections."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lakemesh.pgwire.config import PgwireSettings
from tests.factories.query import MIA

from .conftest import PgMesh


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "server.crt", folder / "server.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


@pytest.mark.parametrize("required", [False, True])
def test_tls_with_a_configured_certificate(
    pg_factory: Callable[[PgwireSettings], PgMesh], tmp_path: Path, required: bool
) -> None:
    certificate, key = make_certificate(tmp_path)
    pg = pg_factory(
        PgwireSettings(tls_certificate=str(certificate), tls_key=str(key), require_tls=required)
    )
    secure = pg.dsn(MIA, sslmode="verify-full", sslrootcert=str(certificate))
    with psycopg.connect(secure) as connection:
        assert connection.pgconn.ssl_in_use
        assert connection.execute("SELECT 1").fetchone() == (1,)
    if required:
        with pytest.raises(psycopg.OperationalError, match="TLS is required"):
            psycopg.connect(pg.dsn(MIA, sslmode="disable"))
    else:
        with psycopg.connect(pg.dsn(MIA, sslmode="disable")) as connection:
            assert not connection.pgconn.ssl_in_use


def test_without_a_certificate_tls_is_declined(pg: PgMesh) -> None:
    with pytest.raises(psycopg.OperationalError, match="does not support SSL"):
        psycopg.connect(pg.dsn(MIA, sslmode="require"))
    with psycopg.connect(pg.dsn(MIA, sslmode="prefer")) as connection:
        assert not connection.pgconn.ssl_in_use


def test_connections_past_the_limit_are_refused(
    pg_factory: Callable[[PgwireSettings], PgMesh],
) -> None:
    pg = pg_factory(PgwireSettings(max_connections=1))
    with pg.connect(MIA) as first:
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            psycopg.connect(pg.dsn(MIA))
        assert first.execute("SELECT 1").fetchone() == (1,)
    # a slot is free once the server has seen the first one end
    deadline = time.monotonic() + 10
    while True:
        try:
            again = pg.connect(MIA)
            break
        except psycopg.OperationalError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    with again:
        assert again.execute("SELECT 2").fetchone() == (2,)
