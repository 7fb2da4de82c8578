"""A real S3-compatible server on loopback for the query tests (moto's, in a thread).

The hub reads its S3 settings from the environment (``LAKEMESH_S3_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ...), so tests point it at the server by setting those variables.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import s3fs

from lakemesh.storage.s3 import ENVIRONMENT_VARIABLES

# A secret with a quote in it: it must survive being written into DuckDB's CREATE SECRET.
ACCESS_KEY = "LAKEMESHTESTKEY0001"
SECRET_KEY = "lakemesh-test-secret-'quoted'-9f3b2c71e0"
REGION = "us-east-1"

S3_VARIABLES = (*ENVIRONMENT_VARIABLES, "AWS_PROFILE")
"""What the hub reads S3 settings from, and the profile boto would fall back on."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class S3Server:
    """The running server: its endpoint and the credentials the hub is configured with."""

    endpoint: str

    @property
    def environ(self) -> dict[str, str]:
        """The hub's configuration for this server."""
        return {
            "LAKEMESH_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self) -> Any:
        """A boto3 client (bucket management, which s3fs does not do on moto's region)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def filesystem(self) -> s3fs.S3FileSystem:
        """An s3fs filesystem on the server (no listing cache: tests change objects)."""
        return s3fs.S3FileSystem(
            endpoint_url=self.endpoint,
            key=ACCESS_KEY,
            secret=SECRET_KEY,
            use_listings_cache=False,
            client_kwargs={"region_name": REGION},
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def upload(self, folder: Path, uri: str) -> str:
        """Copy every file under ``folder`` to ``uri`` (``s3://bucket/prefix``); returns ``uri``."""
        client = self.client()
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = "/".join(filter(None, [prefix, path.relative_to(folder).as_posix()]))
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        return uri

    def put(self, uri: str, body: bytes) -> None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        self.client().put_object(Bucket=bucket, Key=key, Body=body)

    def sizes(self, uri: str) -> dict[str, int]:
        """``s3://`` URI to size of every object under ``uri``."""
        found = self.filesystem().find(uri.removeprefix("s3://"), detail=True)
        return {f"s3://{path}": int(info["size"]) for path, info in found.items()}
