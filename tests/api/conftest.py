"""API fixtures: a hub home, a real uvicorn server on a loopback port, and clients for it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.catalog.domains import bootstrap
from lakemesh.hub import Hub
from tests.conftest import assert_policy_index_current

ADMIN = "user:admin@governance"


def make_hub_home(home: Path) -> tuple[Hub, str]:
    """A new hub home (empty ``config.toml``) with its first mesh admin; the hub and its token."""
    home.mkdir(parents=True)
    (home / "config.toml").write_text("")
    hub = Hub(home=home)
    with hub.transaction() as session:
        issued = bootstrap(session, admin=ADMIN)
    return hub, issued.token


@dataclass
class ApiServer:
    """A running API server and the mesh admin's token."""

    hub: Hub
    url: str
    admin_token: str

    def client(self, token: str | None) -> httpx.Client:
        """A client of ``/api/v1``, sending ``token`` as bearer (none when ``None``)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60)


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One hub served by uvicorn on 127.0.0.1 for the whole API suite."""
    hub, token = make_hub_home(tmp_path_factory.mktemp("api") / "home")
    with serve_in_background(hub) as url:
        yield ApiServer(hub, url, token)
    assert_policy_index_current(hub)
    hub.close()


@pytest.fixture
def admin(api_server: ApiServer) -> Iterator[httpx.Client]:
    """A client acting as the mesh admin."""
    with api_server.client(api_server.admin_token) as client:
        yield client


@pytest.fixture
def anonymous(api_server: ApiServer) -> Iterator[httpx.Client]:
    """A client without a token."""
    with api_server.client(None) as client:
        yield client


_counter = itertools.count(1)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names no other test uses (the server is shared): ``unique("sales")`` -> ``sales_7``."""
    return lambda prefix: f"{prefix}_{next(_counter)}"


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The ``error`` object of a response that must be an error with ``status``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"type", "message", "details"}, body
    error: dict[str, Any] = body["error"]
    return error


@dataclass
class DomainAdmin:
    """A domain made for one test, with an admin (``user:owner@DOMAIN``) and its token."""

    domain: str
    principal: str
    token: str


@pytest.fixture
def make_domain(admin: httpx.Client, unique: Callable[[str], str]) -> Callable[[str], DomainAdmin]:
    """``make_domain("sales")``: a new producer domain and a token of its admin."""

    def make(prefix: str) -> DomainAdmin:
        name = unique(prefix)
        owner = f"user:owner@{name}"
        ok(admin.post("/domains", json={"name": name, "producer": True, "admins": [owner]}), 201)
        issued = ok(admin.post("/tokens", json={"principal": owner}), 201)
        return DomainAdmin(name, owner, issued["token"])

    return make
