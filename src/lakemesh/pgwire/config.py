"""The PostgreSQL port's settings: the ``[pgwire]`` table of the hub's ``config.toml``.

```toml
[pgwire]
port = 5433                           # off unless set (or lakemesh serve --pg-port)
host = "127.0.0.1"                    # default: the host the API listens on
tls_certificate = "/path/server.crt"  # PEM; with tls_key, SSLRequest is answered with TLS
tls_key = "/path/server.key"
require_tls = false                   # true: clients that do not ask for TLS are refused
tls_cleartext_password = false        # true: TLS clients send the token in clear, not SCRAM
max_connections = 256                 # connections open at once; more are refused (53300)
```

>>> settings = pgwire_settings({"pgwire": {"port": 5433}})
>>> settings.port, settings.require_tls
(5433, False)
>>> pgwire_settings({}).port is None
True
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lakemesh.errors import InvalidInputError

SECTION = "pgwire"


@dataclass(frozen=True)
class PgwireSettings:
    """Where and how the PostgreSQL port listens; ``port`` None means it is off."""

    port: int | None = None
    host: str | None = None
    tls_certificate: str | None = None
    tls_key: str | None = None
    require_tls: bool = False
    tls_cleartext_password: bool = False
    """Ask TLS clients for the token in clear rather than a SCRAM-SHA-256 proof (tokens issued
    before verifiers existed). Connections without TLS always use SCRAM."""
    max_connections: int = 256

    def with_port(self, port: int | None) -> PgwireSettings:
        """These settings with ``port`` when it is given (``--pg-port``)."""
        return self if port is None else replace(self, port=port)

    def tls_context(self) -> ssl.SSLContext | None:
        """The server's TLS context when a certificate is configured.

        Raises:
            InvalidInputError: the certificate or key cannot be loaded, or TLS is required
                without a certificate.
        """
        if not self.tls_certificate:
            if self.require_tls:
                raise InvalidInputError(
                    "pgwire.require_tls is set but no pgwire.tls_certificate is configured "
                    "(config.toml)",
                    details={"setting": "pgwire.require_tls"},
                )
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.tls_certificate, self.tls_key)
        except (OSError, ssl.SSLError) as e:
            raise InvalidInputError(
                f"Cannot load the pgwire TLS certificate {self.tls_certificate}: {e}",
                details={"setting": "pgwire.tls_certificate"},
            ) from e
        return context


def pgwire_settings(config: dict[str, Any]) -> PgwireSettings:
    """The ``[pgwire]`` settings of a hub's ``config.toml``.

    Raises:
        InvalidInputError: a setting has the wrong type, naming it.
    """
    section = config.get(SECTION, {})
    if not isinstance(section, dict):
        raise InvalidInputError(
            "Invalid [pgwire] in config.toml: expected a table", details={"setting": SECTION}
        )
    known = {
        "port",
        "host",
        "tls_certificate",
        "tls_key",
        "require_tls",
        "tls_cleartext_password",
        "max_connections",
    }
    unknown = sorted(set(section) - known)
    if unknown:
        raise InvalidInputError(
            f"Unknown pgwire setting in config.toml: {unknown[0]} "
            f"(known: {', '.join(sorted(known))})",
            details={"setting": f"pgwire.{unknown[0]}"},
        )
    port = section.get("port")
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536
    ):
        raise InvalidInputError(
            f"Invalid pgwire.port in config.toml: {port!r} (expected a port number)",
            details={"setting": "pgwire.port"},
        )
    for name in ("host", "tls_certificate", "tls_key"):
        if section.get(name) is not None and not isinstance(section[name], str):
            raise InvalidInputError(
                f"Invalid pgwire.{name} in config.toml: {section[name]!r} (expected a string)",
                details={"setting": f"pgwire.{name}"},
            )
    for name in ("require_tls", "tls_cleartext_password"):
        if not isinstance(section.get(name, False), bool):
            raise InvalidInputError(
                f"Invalid pgwire.{name} in config.toml: {section[name]!r} (expected true or false)",
                details={"setting": f"pgwire.{name}"},
            )
    most = section.get("max_connections", PgwireSettings.max_connections)
    if isinstance(most, bool) or not isinstance(most, int) or most <= 0:
        raise InvalidInputError(
            f"Invalid pgwire.max_connections in config.toml: {most!r} (expected a positive number)",
            details={"setting": "pgwire.max_connections"},
        )
    certificate = section.get("tls_certificate")
    return PgwireSettings(
        max_connections=most,
        port=port,
        host=section.get("host"),
        tls_certificate=str(Path(certificate).expanduser()) if certificate else None,
        tls_key=str(Path(section["tls_key"]).expanduser()) if section.get("tls_key") else None,
        require_tls=section.get("require_tls", False),
        tls_cleartext_password=section.get("tls_cleartext_password", False),
    )
