"""The lazy app of an embedded hub (issue 10: CLI startup time): each router is included on the
first request to a path it serves, and routes exactly as the served app, which includes all."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Mount, compile_path

from lakemesh.api import app as api_app
from lakemesh.api.app import (
    API_ROUTES,
    GROUPS,
    ICEBERG,
    ICEBERG_PREFIX,
    PORTAL,
    Routers,
    groups_for,
)
from lakemesh.api.routes import iceberg
from lakemesh.hub import Hub
from lakemesh.sdk.transport import InProcessTransport
from tests.api.conftest import make_hub_home


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    hub, _token = make_hub_home(tmp_path_factory.mktemp("lazy") / "home")
    return hub


def _shape(routes: list[BaseRoute]) -> list[tuple[str | None, str | None, list[str]]]:
    """Each route (those of included routers one by one): its path, name and methods."""
    return [
        (route.path, route.name, sorted(route.methods or ()))
        for route in iter_route_contexts(routes)
    ]


def test_every_router_module_is_listed() -> None:
    modules = {p.stem for p in Path(iceberg.__file__).parent.glob("*.py")} - {"__init__"}
    assert {routes.module for routes in API_ROUTES} | {ICEBERG} == modules
    assert ICEBERG_PREFIX == iceberg.ICEBERG_PREFIX


def test_the_openapi_document_of_a_lazy_app_lists_every_route(hub: Hub) -> None:
    served = api_app.create_app(hub)
    lazy = api_app.create_app(hub, lazy=True)
    assert len(lazy.router.routes) < len(served.router.routes)
    assert lazy.openapi() == served.openapi()
    assert _shape(lazy.routes) == _shape(served.routes)


def test_a_lazy_app_includes_what_a_path_needs_in_the_served_order(hub: Hub) -> None:
    served = api_app.create_app(hub)
    lazy = api_app.create_app(hub, lazy=True)
    with httpx.Client(
        transport=InProcessTransport(lazy), base_url="http://embedded/api/v1"
    ) as client:
        assert client.get("/health").status_code == 200
        paths = [path for path, _name, _methods in _shape(lazy.routes)]
        assert "/api/v1/health" in paths
        assert not any(str(path).startswith(("/api/v1/tables", "/login")) for path in paths)
        assert client.get("/tables").status_code == 401  # no token: the router answered
        assert client.get("/products/p/checks").status_code == 401
        assert client.get("/nothing").status_code == 404
    # Everything is in by now (the 404 asked for all), in the order the served app has.
    assert _shape(lazy.routes) == _shape(served.routes)


def test_groups_for_a_path_hold_every_route_that_matches_it(hub: Hub) -> None:
    """For a path of each route of the served app, every route matching it (by path, whatever
    the method) belongs to a group ``groups_for`` names: the lazy app routes it alike."""
    app = api_app.create_app(hub, lazy=True)
    routers = Routers(app)
    routers.include_all()
    owned = [
        (group, path, isinstance(context.route, Mount))
        for group in GROUPS
        for context in iter_route_contexts(routers.routes_of(group))
        if (path := context.path) is not None
    ]
    assert len(owned) > 150
    for owner, path, mount in owned:
        example = re.sub(r"\{[^}]*\}", "x", path) + ("/x" if mount else "")
        matching = {
            group
            for group, other, other_mount in owned
            if (example.startswith(f"{other}/") if other_mount else _matches(other, example))
        }
        assert matching <= set(groups_for(example)), example
        if owner != PORTAL:  # an API path loads its own routers, not everything
            assert groups_for(example) != GROUPS, example


def _matches(path: str, example: str) -> bool:
    regex, _format, _convertors = compile_path(path)
    return regex.match(example) is not None
