"""The protocol's edges on a raw socket: what an unauthenticated client can make the server do."""

from __future__ import annotations

import base64
import socket
import struct

from lakemesh.identity.scram import MECHANISM, ScramClient
from lakemesh.pgwire import messages

from .conftest import PgMesh


def _startup(parameters: dict[str, str], version: int = messages.PROTOCOL_VERSION) -> bytes:
    body = struct.pack("!i", version) + b"".join(
        messages.cstring(k) + messages.cstring(v) for k, v in parameters.items()
    )
    body += b"\x00"
    return struct.pack("!i", len(body) + 4) + body


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_huge_password_message_is_refused_before_it_is_read(pg: PgMesh) -> None:
    with socket.create_connection((pg.host, pg.port)) as sock:
        sock.sendall(_startup({"user": "mia@marketing"}))
        offer = messages.authentication_sasl([MECHANISM])
        assert _read_exactly(sock, len(offer)) == offer
        sock.sendall(b"p" + struct.pack("!i", 50_000_000))
        answer = _read_all(sock)
    assert answer.startswith(b"E")
    assert b"08P01" in answer
    assert b"Invalid message length" in answer


def test_an_unknown_protocol_version_is_refused(pg: PgMesh) -> None:
    with socket.create_connection((pg.host, pg.port)) as sock:
        sock.sendall(_startup({"user": "mia@marketing"}, version=2 << 16))
        answer = _read_all(sock)
    assert b"0A000" in answer
    assert b"unsupported frontend protocol 2.0" in answer


def test_a_cancel_request_with_a_wrong_key_cancels_nothing(pg: PgMesh) -> None:
    with pg.connect("user:sam@sales") as connection:
        key = connection.pgconn.backend_pid
        with socket.create_connection((pg.host, pg.port)) as sock:
            body = struct.pack("!iii", messages.CANCEL_REQUEST, key, 12345)
            sock.sendall(struct.pack("!i", len(body) + 4) + body)
            assert _read_all(sock) == b""
        assert connection.execute("SELECT 2").fetchone() == (2,)


def _message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size:
        chunk = sock.recv(size - len(received))
        assert chunk, received
        received += chunk
    return received


def _read_message(sock: socket.socket) -> tuple[bytes, bytes]:
    header = _read_exactly(sock, 5)
    return header[:1], _read_exactly(sock, struct.unpack("!i", header[1:])[0] - 4)


def _authenticate(sock: socket.socket, token: str) -> None:
    """SCRAM-SHA-256 by hand, as libpq does it."""
    client = ScramClient(token)
    _read_message(sock)  # AuthenticationSASL
    first = client.first().encode()
    sock.sendall(
        _message(b"p", messages.cstring(MECHANISM) + struct.pack("!i", len(first)) + first)
    )
    kind, body = _read_message(sock)  # AuthenticationSASLContinue
    assert (kind, body[:4]) == (b"R", struct.pack("!i", 11)), body
    sock.sendall(_message(b"p", client.final(body[4:].decode()).encode()))
    kind, body = _read_message(sock)  # AuthenticationSASLFinal
    assert (kind, body[:4]) == (b"R", struct.pack("!i", 12)), body
    assert client.verify(base64.b64decode(body[4:].decode()[2:]))


def _until_ready(sock: socket.socket) -> bytes:
    received = b""
    while not (len(received) >= 6 and received[-6:-1] == b"Z\x00\x00\x00\x05"):
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    return received


def test_a_portal_ends_with_its_implicit_transaction(pg: PgMesh) -> None:
    with socket.create_connection((pg.host, pg.port)) as sock:
        sock.settimeout(30)
        sock.sendall(_startup({"user": "mia@marketing", "database": "sales"}))
        _authenticate(sock, pg.mesh.token("user:mia@marketing"))
        _until_ready(sock)
        query = messages.cstring("") + messages.cstring("SELECT 1 AS a UNION ALL SELECT 2")
        execute_one = _message(b"E", messages.cstring("") + struct.pack("!i", 1))
        sock.sendall(
            _message(b"P", query + struct.pack("!h", 0))
            + _message(b"B", b"\x00\x00" + struct.pack("!hhh", 0, 0, 0))
            + execute_one
            + _message(b"S")
        )
        first = _until_ready(sock)
        assert b"s\x00\x00\x00\x04" in first  # PortalSuspended: one row of two
        sock.sendall(execute_one + _message(b"S"))
        second = _until_ready(sock)
    assert b'portal "" does not exist' in second
