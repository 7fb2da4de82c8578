"""A Spark Connect address (``sc://host:port/;param=value;...``) and the token it may hold.

The hub keeps the whole address (the engine needs the token to connect), but shows it, records
it in the audit trail and echoes it in errors only with the token's value replaced.
"""

from __future__ import annotations

SPARK_TOKEN_PARAMETER = "token"
"""The parameter of a Spark Connect address (``sc://host:port/;token=...``) holding a secret."""

REDACTED = "***"


def split_spark_token(remote: str | None) -> tuple[str | None, str | None]:
    """A Spark Connect address without its token, and the token (None without one).

    >>> split_spark_token("sc://spark:15002/;user_id=etl;token=abc")
    ('sc://spark:15002/;user_id=etl', 'abc')
    >>> split_spark_token("sc://spark:15002")
    ('sc://spark:15002', None)
    """
    if remote is None:
        return None, None
    address, *parameters = remote.split(";")
    token: str | None = None
    kept: list[str] = []
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == SPARK_TOKEN_PARAMETER:
            token = value
        else:
            kept.append(parameter)
    return ";".join([address, *kept]), token


def with_spark_token(remote: str | None, token: str | None) -> str | None:
    """The address the hub keeps: ``remote`` with ``token`` as its last parameter.

    >>> with_spark_token("sc://spark:15002/", "abc")
    'sc://spark:15002/;token=abc'
    """
    if remote is None or token is None:
        return remote
    return f"{remote};{SPARK_TOKEN_PARAMETER}={token}"


def redact_spark_token(remote: str | None) -> str | None:
    """The address as shown to people: a token's value replaced by ``***``.

    >>> redact_spark_token("sc://spark:15002/;token=abc;user_id=etl")
    'sc://spark:15002/;user_id=etl;token=***'
    >>> redact_spark_token("sc://spark:15002")
    'sc://spark:15002'
    """
    address, token = split_spark_token(remote)
    return with_spark_token(address, None if token is None else REDACTED)
