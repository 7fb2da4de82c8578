"""SCRAM-SHA-256 (RFC 5802, RFC 7677) with a lakemesh token as the password.

A token's verifier (``StoredKey`` and ``ServerKey``, in PostgreSQL's text form) is made when the
token is issued, the one moment the hub holds the secret; it proves a client knows the token
without the token crossing the wire. Every token of a principal is salted with the principal's
salt (derived from its id), because the server names the salt before it knows which token the
client holds; tokens are 256-bit random, so a salt shared by one principal's tokens costs
nothing against guessing.

>>> salt = principal_salt(7)
>>> text = make_verifier("lm_secret", salt)
>>> text.startswith("SCRAM-SHA-256$4096:")
True
>>> client = ScramClient("lm_secret")
>>> server = ServerExchange(salt)
>>> first = server.first(client.first())
>>> matched = server.final(client.final(first), [text])
>>> (matched, client.verify(server.signature))
(0, True)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"
ITERATIONS = 4096
"""PBKDF2 rounds, PostgreSQL's default (the password is a random token, not a human's)."""


class ScramError(ValueError):
    """A SCRAM message that breaks the protocol, or a proof that matches no verifier."""


def principal_salt(key: int | str) -> bytes:
    """The salt of every token of the principal with id (or, unknown, name) ``key``."""
    return hashlib.sha256(f"lakemesh scram salt {key}".encode()).digest()[:16]


def _salted(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def make_verifier(token: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """The verifier of ``token`` as PostgreSQL writes one:
    ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (base64)."""
    salted = _salted(token, salt, iterations)
    stored = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
    server = _hmac(salted, b"Server Key")
    b64 = _b64
    return f"{MECHANISM}${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier."""

    iterations: int
    salt: bytes
    stored_key: bytes
    server_key: bytes

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """Raises: ScramError: not a SCRAM-SHA-256 verifier."""
        try:
            mechanism, rounds_salt, keys = text.split("$")
            rounds, salt = rounds_salt.split(":")
            stored, server = keys.split(":")
            if mechanism != MECHANISM:
                raise ValueError(mechanism)
            return cls(int(rounds), _unb64(salt), _unb64(stored), _unb64(server))
        except ValueError as e:
            raise ScramError("Not a SCRAM-SHA-256 verifier") from e


class ServerExchange:
    """The server's side of one SCRAM-SHA-256 exchange, without channel binding."""

    def __init__(self, salt: bytes, iterations: int = ITERATIONS) -> None:
        self.salt = salt
        self.iterations = iterations
        self.signature = b""
        """``ServerSignature`` once :meth:`final` matched a verifier (the client checks it)."""
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self._header = ""

    def first(self, client_first: str) -> str:
        """The server-first-message answering ``client_first``.

        Raises:
            ScramError: a malformed message, or channel binding asked for (not offered).
        """
        header, separator, bare = _split_header(client_first)
        if not separator or header.startswith("p="):
            raise ScramError("SCRAM channel binding is not offered by this server")
        attributes = _attributes(bare)
        client_nonce = attributes.get("r", "")
        if not client_nonce or "m" in attributes:
            raise ScramError("malformed SCRAM client-first-message")
        self._header = header
        self._client_first_bare = bare
        self._nonce = client_nonce + secrets.token_urlsafe(18)
        self._server_first = f"r={self._nonce},s={_b64(self.salt)},i={self.iterations}"
        return self._server_first

    def final(self, client_final: str, verifiers: list[str]) -> int:
        """Check the client's proof against each of ``verifiers``; returns the index of the one
        it proves (and sets :attr:`signature`).

        Raises:
            ScramError: a malformed message, a wrong nonce, or no verifier matches the proof.
        """
        without_proof, _, proof_part = client_final.rpartition(",p=")
        attributes = _attributes(without_proof)
        if not proof_part or attributes.get("r") != self._nonce:
            raise ScramError("malformed SCRAM client-final-message")
        if attributes.get("c") != _b64(self._header.encode()):
            raise ScramError("SCRAM channel binding does not match")
        proof = _unb64(proof_part)
        message = ",".join((self._client_first_bare, self._server_first, without_proof)).encode()
        for index, text in enumerate(verifiers):
            try:
                verifier = Verifier.parse(text)
            except ScramError:
                continue
            if (verifier.salt, verifier.iterations) != (self.salt, self.iterations):
                continue
            signature = _hmac(verifier.stored_key, message)
            if len(proof) != len(signature):
                continue
            client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
            if hmac.compare_digest(hashlib.sha256(client_key).digest(), verifier.stored_key):
                self.signature = _hmac(verifier.server_key, message)
                return index
        raise ScramError("the SCRAM proof matches no token of the principal")

    def server_final(self) -> str:
        """The server-final-message (``v=`` the server's signature)."""
        return f"v={_b64(self.signature)}"


def _split_header(message: str) -> tuple[str, str, str]:
    """``gs2-header`` (``n,,`` or ``y,,``; with its commas) and the bare message."""
    parts = message.split(",", 2)
    if len(parts) < 3 or (parts[0] not in ("n", "y") and not parts[0].startswith("p=")):
        return "", "", message
    return f"{parts[0]},{parts[1]},", ",", parts[2]


def _attributes(message: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in message.split(","):
        key, separator, value = item.partition("=")
        if separator and len(key) == 1:
            found.setdefault(key, value)
    return found


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as e:
        raise ScramError("malformed base64 in a SCRAM message") from e


class ScramClient:
    """The client's side of an exchange, as libpq computes it (doctests, raw-protocol tests)."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.nonce = secrets.token_urlsafe(18)
        self._bare = f"n=,r={self.nonce}"
        self._salted = b""
        self._message = b""

    def first(self) -> str:
        return "n,," + self._bare

    def final(self, server_first: str) -> str:
        attributes = _attributes(server_first)
        self._salted = _salted(self.password, _unb64(attributes["s"]), int(attributes["i"]))
        without_proof = f"c={_b64(b'n,,')},r={attributes['r']}"
        self._message = ",".join((self._bare, server_first, without_proof)).encode()
        client_key = _hmac(self._salted, b"Client Key")
        signature = _hmac(hashlib.sha256(client_key).digest(), self._message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        return f"{without_proof},p={_b64(proof)}"

    def verify(self, server_signature: bytes) -> bool:
        expected = _hmac(_hmac(self._salted, b"Server Key"), self._message)
        return hmac.compare_digest(expected, server_signature)
