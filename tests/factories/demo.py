"""The NimbusCart demo mesh, built once per test run and copied for each user.

``build_demo`` takes many seconds; every suite that reads the demo mesh used to build its own
(and under pytest-xdist each worker built it again). :func:`shared_demo` builds it once for the
whole run, whichever worker asks first (the others wait on a lock file), and
:func:`copy_demo` gives each user a home of its own: the store, config and profiles are copied;
the generated data is read in place (the copies' locations name the shared home's storage, which
no test writes to).
"""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from lakemesh.backups import backup, restore
from lakemesh.demo.mesh import build_demo
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor

ORDERS = 2000
_DONE = "tokens.json"


@dataclass(frozen=True)
class DemoHome:
    """A built demo home and its personas' tokens by profile (``steward``, ``sales-admin``, ...)."""

    home: Path
    tokens: dict[str, str]

    def open(self) -> tuple[Hub, Actor]:
        """The home's hub and its data steward."""
        hub = Hub.open(self.home)
        with hub.read() as session:
            steward = authenticate(session, self.tokens["steward"])
        return hub, steward


def shared_demo(folder: Path) -> DemoHome:
    """The demo mesh built in ``folder`` (2,000 orders), or the one built there already.

    ``folder`` is shared by the processes of one test run; never open a hub on the result (its
    store is the pristine copy): :func:`copy_demo` it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    home, done = folder / "home", folder / _DONE
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                result = build_demo(home, orders=ORDERS)
                done.write_text(json.dumps(result.tokens))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return DemoHome(home, json.loads(done.read_text()))


def copy_demo(source: DemoHome, home: Path) -> DemoHome:
    """A demo home of its own in ``home``: everything of ``source`` but its generated data."""
    shutil.copytree(source.home, home, ignore=lambda folder, names: _storage(source, folder))
    return DemoHome(home, source.tokens)


def _storage(source: DemoHome, folder: str) -> list[str]:
    return ["storage"] if Path(folder) == source.home else []


@dataclass(frozen=True)
class DemoBackup:
    """A demo mesh's home, a backup of its store, and the steward's token."""

    home: Path
    file: Path
    steward_token: str

    def copy(self, home: Path, database_url: str | None = None) -> tuple[Hub, Actor]:
        """A restored copy of the demo mesh in ``home`` and its steward."""
        restore(source=self.file, home=home, database_url=database_url)
        hub = Hub.open(home)
        with hub.read() as session:
            steward = authenticate(session, self.steward_token)
        return hub, steward


def backed_up_demo(source: DemoHome, folder: Path) -> DemoBackup:
    """A copy of ``source`` in ``folder/demo`` and a backup of its store in ``folder``."""
    demo = copy_demo(source, folder / "demo")
    hub = Hub.open(demo.home)
    file = folder / "demo.lmbackup"
    backup(database_url=hub.database_url, destination=file, config=hub.home.config())
    hub.close()
    return DemoBackup(demo.home, file, demo.tokens["steward"])
