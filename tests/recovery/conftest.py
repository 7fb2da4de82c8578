"""A NimbusCart demo mesh, backed up once; each test restores its own copy to plant changes in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lakemesh.backups import backup, restore
from lakemesh.demo.mesh import build_demo
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor


@dataclass(frozen=True)
class DemoBackup:
    """The demo mesh's home, a backup of its store, and the steward's token."""

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


@pytest.fixture(scope="session")
def demo_backup(tmp_path_factory: pytest.TempPathFactory) -> DemoBackup:
    folder = tmp_path_factory.mktemp("recovery")
    home = folder / "demo"
    result = build_demo(home, orders=2000)
    hub = Hub.open(home)
    file = folder / "demo.lmbackup"
    backup(database_url=hub.database_url, destination=file, config=hub.home.config())
    hub.close()
    return DemoBackup(home, file, result.tokens["steward"])
