"""Errors on the portal's paths are pages in the portal's layout; ``/api/v1`` keeps its JSON.

The unexpected failure is a real one: an audit event whose stored details are no longer JSON (a
store row corrupted behind the hub's back), which the audit page and ``GET /audit/events`` both
fail to read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from lakemesh.api.server import serve_in_background
from lakemesh.portal.security import CONTENT_SECURITY_POLICY
from tests.api.conftest import make_hub_home
from tests.portal.conftest import Browser, PortalServer, api_client

CORRUPT_DETAILS = '{"internal-secret-value": '
"""Not JSON: what the corrupted row holds (and what no error may show)."""


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    """A hub of its own (its audit trail is corrupted), served on 127.0.0.1."""
    hub, token = make_hub_home(tmp_path_factory.mktemp("broken") / "home")
    with hub.transaction() as session:
        session.execute(
            text("UPDATE audit_events SET details = :bad WHERE seq = 1"), {"bad": CORRUPT_DETAILS}
        )
    with serve_in_background(hub) as url:
        yield PortalServer(hub, url, token)
    hub.close()


def _assert_nothing_internal(body: str) -> None:
    for internal in ("internal-secret-value", "Traceback", "JSONDecodeError", "sqlalchemy"):
        assert internal not in body


def test_an_unexpected_failure_of_a_page_is_a_page_naming_a_logged_reference(
    broken_server: PortalServer, caplog: pytest.LogCaptureFixture
) -> None:
    browser = broken_server.browser()
    browser.sign_in(broken_server.admin_token)
    with caplog.at_level(logging.ERROR, logger="lakemesh.portal"):
        page = browser.get("/audit")
    browser.close()
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<title>Something went wrong · lakemesh</title>" in page.text
    assert 'data-error-type="internal_error"' in page.text
    _assert_nothing_internal(page.text)
    reference = page.text.split('<code id="error-reference">', 1)[1].split("</code>", 1)[0]
    assert len(reference) == 12
    [logged] = [r for r in caplog.records if reference in r.getMessage()]
    assert "GET /audit" in logged.getMessage()
    assert logged.exc_info is not None


def test_the_api_answers_the_same_failure_in_its_json_shape(broken_server: PortalServer) -> None:
    with api_client(broken_server.url, broken_server.admin_token) as api:
        answer = api.get("/audit/events")
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {"type": "internal_error", "message": "Internal server error", "details": {}}
    }
    _assert_nothing_internal(answer.text)


def test_routing_errors_on_portal_paths_are_pages_and_json_under_the_api(
    portal_server: PortalServer, browser: Browser
) -> None:
    browser.sign_in(portal_server.admin_token)
    missing = browser.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "text/html; charset=utf-8"
    assert "No such page: /no/such/page" in missing.text
    wrong_method = browser.client.put("/search")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("text/html")
    assert 'data-error-type="method_not_allowed"' in wrong_method.text
    assert wrong_method.headers["allow"] == "GET, HEAD"
    with portal_server.api(portal_server.admin_token) as api:
        api_missing = api.get("/no/such/route")
        api_wrong = api.put("/health")
    assert api_missing.status_code == 404
    assert api_missing.json()["error"]["type"] == "not_found"
    assert api_wrong.status_code == 405
    assert api_wrong.json()["error"]["type"] == "method_not_allowed"


def test_a_refusal_reached_through_a_page_is_a_page(
    portal_server: PortalServer, browser: Browser
) -> None:
    with portal_server.api(portal_server.admin_token) as api:
        assert api.post("/principals", json={"name": "user:nobody@governance"}).status_code < 300
        issued = api.post("/tokens", json={"principal": "user:nobody@governance"}).json()
    browser.sign_in(issued["token"])
    refused = browser.get("/governance")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "<title>Access denied · lakemesh</title>" in refused.text
    assert "user:nobody@governance is not a mesh admin or a domain admin" in refused.text
