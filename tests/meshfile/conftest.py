"""Fixtures of the mesh-as-code tests: the demo mesh's export and fresh hubs to apply it to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakemesh import meshfile
from lakemesh.catalog.domains import bootstrap
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor
from tests.conftest import HubEnv, assert_policy_index_current
from tests.stores import SQLITE_TEMPLATE

STEWARD = "user:steward@governance"


def fresh_hub(home: Path, *, admin: str = STEWARD, database_url: str | None = None) -> HubEnv:
    """A new, empty hub whose first mesh admin is ``admin`` (the demo's steward by default); on
    SQLite its store is a copy of one migrated once (:mod:`tests.stores`)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'database_url = "{database_url}"\n' if database_url else "")
    if database_url is None:
        SQLITE_TEMPLATE.copy_to(HubHome(home).database_file)
    hub = Hub(home=home)
    with hub.transaction() as session:
        issued = bootstrap(session, admin=admin)
    with hub.read() as session:
        actor = authenticate(session, issued.token)
    return HubEnv(hub, actor, issued.token)


def export_text(hub: Hub, actor: Actor, domains: list[str] | None = None) -> dict[str, str]:
    """The export of ``hub`` as the files' text by path."""
    with hub.read() as session:
        return meshfile.render_files(meshfile.export_mesh(session, actor=actor, domains=domains))


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[HubEnv]:
    """An empty hub on SQLite whose mesh admin is the demo's steward."""
    env = fresh_hub(tmp_path / "fresh")
    yield env
    assert_policy_index_current(env.hub)
    env.hub.close()


@pytest.fixture(scope="session")
def demo_export(
    demo_mesh: tuple[Hub, Actor], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """The demo mesh exported to a folder, and its files' text."""
    hub, steward = demo_mesh
    folder = tmp_path_factory.mktemp("export") / "mesh"
    with hub.read() as session:
        meshfile.write_files(meshfile.export_mesh(session, actor=steward), folder)
    return folder, export_text(hub, steward)


@pytest.fixture
def copy(demo_export: tuple[Path, dict[str, str]], tmp_path: Path) -> Iterator[HubEnv]:
    """A copy of the demo mesh, rebuilt from its export in a fresh hub."""
    env = fresh_hub(tmp_path / "copy")
    meshfile.apply_mesh(env.hub, actor=env.admin, files=meshfile.read_files(demo_export[0]))
    yield env
    assert_policy_index_current(env.hub)
    env.hub.close()
