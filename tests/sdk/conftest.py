"""SDK fixtures: every test runs against an embedded hub home and a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.bootstrap import init_home
from lakemesh.sdk import Client
from tests.factories.lake import Lake

MODES = ["embedded", "remote"]


@dataclass
class Mesh:
    """A new hub home, reached in one mode: in-process (embedded) or over HTTP (remote)."""

    mode: str
    home: Path
    admin_token: str
    url: str | None = None

    def client(self, token: str | None = None) -> Client:
        """A client acting with ``token``; ``None`` means the mesh admin (the default profile)."""
        if self.url is None:
            return Client.open(self.home, token=token)
        return Client.connect(self.url, token=token or self.admin_token)


@pytest.fixture(params=MODES)
def mesh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mesh]:
    """A hub home with its first mesh admin, embedded or served by uvicorn on 127.0.0.1."""
    initialised = init_home(tmp_path / "home")
    token = initialised.token.token
    if request.param == "embedded":
        initialised.hub.close()
        yield Mesh("embedded", tmp_path / "home", token)
        return
    try:
        with serve_in_background(initialised.hub) as url:
            yield Mesh("remote", tmp_path / "home", token, url)
    finally:
        initialised.hub.close()


@pytest.fixture
def client(mesh: Mesh) -> Iterator[Client]:
    """The mesh admin's client."""
    with mesh.client() as admin:
        yield admin


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A folder for data files (outside the hub home)."""
    return Lake(tmp_path / "lake")
