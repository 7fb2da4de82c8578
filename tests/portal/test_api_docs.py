"""The REST API's docs page works with no internet: Swagger UI comes from the hub itself."""

from __future__ import annotations

import re

import httpx

from tests.portal.conftest import PortalServer


def test_the_docs_page_references_no_other_origin(portal_server: PortalServer) -> None:
    with httpx.Client(base_url=portal_server.url, timeout=60) as client:
        page = client.get("/api/v1/docs")
        assert page.status_code == 200
        references = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
        assert references, page.text
        assert all(ref.startswith("/") and not ref.startswith("//") for ref in references)
        assert "http://" not in page.text
        assert "https://" not in page.text
        for ref in references:
            assert client.get(ref).status_code == 200, ref  # script, style, icon and document
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        [script_src] = [d.strip() for d in policy.split(";") if d.strip().startswith("script-src")]
        assert re.fullmatch(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'", script_src)
        assert "unsafe-inline" not in script_src
