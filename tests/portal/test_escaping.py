"""Every value a page shows is escaped: a product, tag, column and principal named
``<script>alert(1)</script>`` show as text, and no script but the portal's own file runs."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.portal.conftest import Browser, PortalServer

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script[^>]*>", html, flags=re.IGNORECASE)


def _accepted(response: httpx.Response) -> bool:
    """Whether the hub took the name; a refusal must say why (never a 5xx)."""
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]["type"] == "invalid_input", response.text
        return False
    return True


@pytest.fixture(scope="module")
def evil_product(
    portal_server: PortalServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bool]:
    """A product, its table, a column, a tag and a principal named ``EVIL`` where the hub takes
    such a name (names of principals, tables and products are identifiers; titles,
    descriptions and tag values are free text); says which were taken."""
    folder = tmp_path_factory.mktemp("evil") / "xss"
    folder.mkdir()
    taken: dict[str, bool] = {}
    with portal_server.api(portal_server.admin_token) as admin:
        admin.post("/domains", json={"name": "xss", "producer": True}).raise_for_status()
        taken["principal"] = _accepted(admin.post("/principals", json={"name": f"user:{EVIL}@xss"}))
        admin.post("/locations", json={"uri": str(folder), "domain": "xss"}).raise_for_status()
        admin.post("/databases", json={"domain": "xss", "name": "crm"}).raise_for_status()
        body = {"name": "xss.crm.things", "location": str(folder / "things"), "format": "parquet"}
        columns = [
            {"name": "id", "type": "VARCHAR", "description": EVIL},
            {"name": EVIL, "type": "VARCHAR"},
        ]
        taken["column"] = _accepted(admin.post("/tables", json={**body, "columns": columns}))
        if not taken["column"]:
            created = admin.post("/tables", json={**body, "columns": columns[:1]})
            assert created.status_code == 201, created.text
        taken["tag"] = _accepted(admin.post("/tags", json={"key": "label", "values": [EVIL]}))
        if taken["tag"]:
            assigned = admin.post(
                "/tags/resources/xss.crm.things/tags", json={"tags": {"label": EVIL}}
            )
            assert assigned.status_code < 300, assigned.text
        taken["product"] = _accepted(
            admin.post(
                "/products",
                json={
                    "name": "xss_things",
                    "domain": "xss",
                    "tables": ["crm.things"],
                    "title": EVIL,
                    "description": EVIL,
                },
            )
        )
    assert taken["product"]  # a product's title and description are free text
    return taken


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/products/xss_things",
        "/tables/xss.crm.things",
        f"/search?q={EVIL}",
        "/search?q=&tag=label%3D%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        f"/products/{EVIL}",
        f"/login?next={EVIL}",
    ],
)
def test_names_that_are_markup_show_as_text(
    portal_server: PortalServer, browser: Browser, evil_product: dict[str, bool], path: str
) -> None:
    browser.sign_in(portal_server.admin_token)
    page = browser.client.get(path)
    assert page.status_code in (200, 404), page.text
    assert EVIL not in page.text
    assert _scripts(page.text) == ['<script src="/static/portal/portal.js" defer>']
    if path in ("/products/xss_things", f"/search?q={EVIL}"):
        assert ESCAPED in page.text


def test_the_evil_product_page_shows_each_taken_name_escaped(
    portal_server: PortalServer, browser: Browser, evil_product: dict[str, bool]
) -> None:
    browser.sign_in(portal_server.admin_token)
    page = browser.get("/products/xss_things").text
    # title, description, the column's description, and the column and tag when taken
    expected = 3 + evil_product["column"] * 2 + evil_product["tag"]
    assert page.count(ESCAPED) >= expected


def test_templates_never_mark_values_safe() -> None:
    templates = Path(__file__).parents[2] / "src" / "lakemesh" / "portal" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert "|safe" not in text.replace(" ", ""), template
        assert "autoescape false" not in text, template
