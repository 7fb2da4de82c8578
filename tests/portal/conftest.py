"""Portal fixtures: a real hub served by uvicorn on a loopback port, a browser-like client that
signs in with a real token, keeps cookies and posts forms with their CSRF token, and the sharing
mesh with hostile text that the escaping tests (over HTTP and in a browser) serve."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import httpx
import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.catalog import crawler
from lakemesh.demo.mesh import DemoResult, load_demo
from lakemesh.governance import tags
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.api.conftest import make_hub_home
from tests.conftest import assert_policy_index_current, make_hub_env
from tests.factories.lake import Lake
from tests.factories.sharing import SAM, SharingMesh, build_sharing_mesh

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')

HOSTILE = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(2)>'


class Browser:
    """A client of the portal as a browser uses it: it keeps cookies, follows no redirect by
    itself, and sends each form with the CSRF token of the page it came from."""

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
        self.csrf_token = ""

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **params: str) -> httpx.Response:
        """GET a page; the CSRF token of its forms is kept for the next :meth:`post`."""
        response = self.client.get(path, params=params) if params else self.client.get(path)
        if found := CSRF_INPUT.search(response.text):
            self.csrf_token = unescape(found.group(1))
        return response

    def post(
        self, path: str, data: dict[str, str | list[str]] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        """POST a form (with the kept CSRF token unless ``csrf`` is False)."""
        fields = dict(data or {})
        if csrf:
            fields.setdefault("csrf_token", self.csrf_token)
        return self.client.post(path, data=fields)

    def sign_in(self, token: str) -> httpx.Response:
        """Sign in through the form of ``/login``; the answer is the redirect home."""
        self.get("/login")
        response = self.post("/login", {"token": token, "next": "/"})
        assert response.status_code == 303, response.text
        return response


def api_client(url: str, token: str) -> httpx.Client:
    """A REST client of the hub at ``url`` (to compare answers with the portal's)."""
    return httpx.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


@dataclass
class PortalServer:
    """A served hub and its mesh admin's token."""

    hub: Hub
    url: str
    admin_token: str

    def browser(self) -> Browser:
        return Browser(self.url)

    def api(self, token: str) -> httpx.Client:
        return api_client(self.url, token)


@pytest.fixture(scope="session")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    """One new hub (a mesh admin only) served on 127.0.0.1 for the portal tests."""
    hub, token = make_hub_home(tmp_path_factory.mktemp("portal") / "home")
    with serve_in_background(hub) as url:
        yield PortalServer(hub, url, token)
    assert_policy_index_current(hub)
    hub.close()


@dataclass
class DemoServer:
    """The shared NimbusCart demo mesh, served, with its persona tokens."""

    hub: Hub
    url: str
    result: DemoResult

    def browser(self, profile: str) -> Browser:
        """A browser signed in as the demo persona ``profile`` (``marketing-analyst``, ...)."""
        browser = Browser(self.url)
        browser.sign_in(self.result.tokens[profile])
        return browser

    def api(self, profile: str) -> httpx.Client:
        """A REST client acting as the demo persona ``profile``."""
        return api_client(self.url, self.result.tokens[profile])


@pytest.fixture(scope="session")
def demo_server(demo_mesh: tuple[Hub, Actor]) -> Iterator[DemoServer]:
    """The demo mesh of ``tests/conftest.py`` served on 127.0.0.1."""
    hub, _steward = demo_mesh
    result = load_demo(Path(hub.home.path))
    assert result is not None
    with serve_in_background(hub) as url:
        yield DemoServer(hub, url, result)


@pytest.fixture
def browser(portal_server: PortalServer) -> Iterator[Browser]:
    """A browser not signed in yet."""
    browser = portal_server.browser()
    yield browser
    browser.close()


def build_hostile_mesh(root: Path, *, tables: Sequence[str] = ("crm.hostile",)) -> SharingMesh:
    """The sharing mesh (tests/factories/sharing.py) under ``root`` with hostile text wherever the
    hub keeps free text or a column name: table ``sales.crm.hostile`` has a column named
    :data:`HOSTILE` holding :data:`IMAGE` and :data:`HOSTILE`, tag key ``hostile`` (value ``a``)
    is described with both, and sam published ``hostile_product`` of ``tables``, titled
    :data:`HOSTILE`, described :data:`IMAGE`, tagged ``hostile=a``."""
    env = make_hub_env(root / "home")
    lake = Lake(root / "lake")
    mesh = build_sharing_mesh(env, lake)
    lake.parquet("sales/crm/hostile/part-0.parquet", {"id": [1, 2], HOSTILE: [IMAGE, HOSTILE]})
    crawler.crawl(
        env.hub, actor=env.admin, uri=lake.uri_of("sales/crm"), domain="sales", database="crm"
    )
    with env.hub.transaction() as session:
        tags.create_tag(
            session, actor=env.admin, key="hostile", values=["a"], description=HOSTILE + IMAGE
        )
        hostile = ProductSpec(
            name="hostile_product",
            domain="sales",
            tables=list(tables),
            title=HOSTILE,
            description=IMAGE,
            tags={"hostile": "a"},
        )
        products.publish_product(session, actor=mesh.actor(SAM), spec=hostile)
    return mesh
