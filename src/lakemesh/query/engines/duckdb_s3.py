"""S3 objects in the DuckDB sandbox: the httpfs extension and the hub's credentials.

The extension comes from the ``duckdb-extension-httpfs`` package (the ``s3`` extra) and is loaded
by file path when a sandbox database is opened; nothing is ever installed or downloaded. The
credentials are the hub's own (:class:`~lakemesh.storage.S3Options`, from its configuration) and
go into a temporary secret created before the sandbox is narrowed to the query's objects and its
configuration locked. The secret value is redacted from anything the engine reports.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import duckdb

from lakemesh.errors import InvalidInputError
from lakemesh.query.engines.duckdb_tables import extension_path
from lakemesh.storage import S3Options

OBJECT_PREFIXES = ("s3://",)
"""How the files of tables on object storage are spelled (:func:`lakemesh.query.resolution`)."""

SECRET_NAME = "lakemesh_s3"


def is_object(path: str) -> bool:
    """True when ``path`` names an object in S3-compatible storage, not a local file."""
    return path.startswith(OBJECT_PREFIXES)


def httpfs_extension() -> str:
    """Path of the httpfs extension shipped by ``duckdb-extension-httpfs`` for this DuckDB.

    Raises:
        InvalidInputError: the package is missing, or built for another DuckDB version.
    """
    return extension_path(
        "duckdb_extension_httpfs", "httpfs", extra="s3", purpose="Querying tables on S3"
    )


# Settings httpfs fills from the process environment (AWS_ACCESS_KEY_ID, ...) when it loads:
# readable with current_setting(), so they are emptied; the secret below is the one credential.
_ENVIRONMENT_SETTINGS = (
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_session_token",
    "s3_region",
    "s3_endpoint",
)


def create_secret(connection: duckdb.DuckDBPyConnection, options: S3Options) -> None:
    """Empty the S3 settings httpfs took from the environment, then create the temporary S3
    secret the sandbox reads objects with (in memory only)."""
    settings: dict[str, str | bool] = {
        "URL_STYLE": options.effective_url_style,
        "REGION": options.region or "us-east-1",
    }
    if options.endpoint_url:
        endpoint = urlsplit(options.endpoint_url)
        if not endpoint.netloc or endpoint.scheme not in ("http", "https"):
            raise InvalidInputError(
                f"Invalid S3 endpoint URL: {options.endpoint_url} (expected http(s)://host[:port])",
                details={"endpoint_url": options.endpoint_url},
            )
        settings["ENDPOINT"] = endpoint.netloc
        settings["USE_SSL"] = endpoint.scheme == "https"
    for option, value in (
        ("KEY_ID", options.key),
        ("SECRET", options.secret),
        ("SESSION_TOKEN", options.token),
    ):
        if value:
            settings[option] = value
    clauses = ", ".join(
        f"{option} {_literal(value)}" for option, value in [("TYPE", "s3"), *settings.items()]
    )
    for setting in _ENVIRONMENT_SETTINGS:
        connection.execute(f"SET {setting} = ''")
    # CREATE SECRET takes no prepared parameters: values are written as quoted literals.
    connection.execute(f"CREATE TEMPORARY SECRET {SECRET_NAME} ({clauses})")


def hidden_values(options: S3Options) -> tuple[str, ...]:
    """The credential values no message may show."""
    return tuple(value for value in (options.secret, options.token, options.key) if value)


def redact(text: str, hidden: tuple[str, ...]) -> str:
    """``text`` with every value of ``hidden`` replaced by ``***``."""
    for value in sorted(hidden, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _literal(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + value.replace("'", "''") + "'"
