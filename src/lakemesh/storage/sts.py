"""Short-lived, scoped S3 credentials from the store's STS (``AssumeRole`` with a session policy).

The hub assumes a role the store defines (``s3.vend-role-arn`` in the hub settings) and narrows
it with a session policy: read (and list) the objects under given prefixes, nothing else. The
store signs and checks the session: it refuses any other object, bucket or write, and the whole
session once it expires, whether or not the hub is still running.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lakemesh.errors import StorageError
from lakemesh.storage.s3 import S3Options, storage_error

MAX_SECONDS = 900
"""The longest session the hub vends (15 minutes)."""


@dataclass(frozen=True)
class SessionCredentials:
    """An STS session: keys, token and when the store stops honouring them."""

    key: str
    secret: str
    token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"SessionCredentials(key={self.key!r}, expires_at={self.expires_at.isoformat()})"


def read_policy(prefixes: Sequence[str], *, write: bool = False) -> dict[str, Any]:
    """A session policy that reads and lists the objects under ``prefixes`` (``s3://b/p``), and
    with ``write`` also writes new ones there (never deletes).

    >>> read_policy(["s3://lake/sales/orders"])["Statement"][0]["Resource"]
    ['arn:aws:s3:::lake/sales/orders/*']
    """
    objects: list[str] = []
    listing: list[dict[str, Any]] = []
    for prefix in prefixes:
        bucket, _, key = prefix.removeprefix("s3://").partition("/")
        key = key.rstrip("/")
        objects.append(f"arn:aws:s3:::{bucket}/{key}/*")
        listing.append(
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{key}/*", key]}},
            }
        )
    actions = ["s3:GetObject"]
    if write:
        actions += ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": objects},
            *listing,
        ],
    }


def assume_read_session(
    options: S3Options,
    *,
    role_arn: str,
    session_name: str,
    prefixes: Sequence[str],
    duration_seconds: int | None,
    write: bool = False,
) -> SessionCredentials:
    """A session reading ``prefixes`` (and writing new objects there, with ``write``) from the
    store's STS, as the hub.

    ``duration_seconds`` None lets the store choose (its configured session length).

    Raises:
        StorageError: the store refused or could not be reached (the reason named).
    """
    options = options.with_credentials()
    arguments: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "Policy": json.dumps(read_policy(prefixes, write=write)),
    }
    if duration_seconds is not None:
        arguments["DurationSeconds"] = duration_seconds
    try:
        session = importlib.import_module("botocore.session").Session()
        client = session.create_client(
            "sts",
            endpoint_url=options.endpoint_url,
            aws_access_key_id=options.key,
            aws_secret_access_key=options.secret,
            aws_session_token=options.token,
            region_name=options.region or "us-east-1",
        )
        answer = client.assume_role(**arguments)
    except ImportError as e:
        raise StorageError(
            "Vending credentials needs the S3 support: pip install 'lakemesh[s3]'"
        ) from e
    except Exception as e:  # the STS client's own errors, named by storage_error
        raise storage_error(
            e,
            message=f"The store refused to vend credentials for {', '.join(prefixes)}",
            details={},
        ) from e
    found = answer["Credentials"]
    return SessionCredentials(
        key=found["AccessKeyId"],
        secret=found["SecretAccessKey"],
        token=found["SessionToken"],
        expires_at=found["Expiration"],
    )
