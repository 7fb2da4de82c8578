"""Health, whoami, authentication failures and the error shape of routing failures."""

from __future__ import annotations

import httpx

from tests.api.conftest import ApiServer, error_of, ok


def test_health_needs_no_token(anonymous: httpx.Client) -> None:
    body = ok(anonymous.get("/health"))
    assert body["status"] == "ok"
    assert body["version"]


def test_whoami_describes_the_token_holder(admin: httpx.Client) -> None:
    body = ok(admin.get("/whoami"))
    assert body["name"] == "user:admin@governance"
    assert body["is_mesh_admin"] is True
    assert body["admin_of"] == ["governance"]


def test_missing_token_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/whoami")
    assert response.headers["www-authenticate"] == "Bearer"
    error = error_of(response, 401)
    assert error["type"] == "unauthenticated"
    assert "Missing API token" in error["message"]


def test_unknown_token_is_401(api_server: ApiServer) -> None:
    with api_server.client("lm_not-a-token") as client:
        error = error_of(client.get("/domains"), 401)
    assert error["message"] == "Invalid API token"


def test_unknown_route_is_404_in_the_error_shape(anonymous: httpx.Client) -> None:
    error = error_of(anonymous.get("/nowhere"), 404)
    assert error["type"] == "not_found"
    assert error["message"] == "No such route: GET /api/v1/nowhere"


def test_wrong_method_is_405_in_the_error_shape(anonymous: httpx.Client) -> None:
    error = error_of(anonymous.delete("/health"), 405)
    assert error["message"] == "Method not allowed: DELETE /api/v1/health"


def test_openapi_document_and_docs_are_served(anonymous: httpx.Client) -> None:
    document = ok(anonymous.get("/openapi.json"))
    assert "/api/v1/domains" in document["paths"]
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_annotations_resolve_into_the_openapi_document(anonymous: httpx.Client) -> None:
    """Modules use postponed annotations: bodies must still be bodies, queries queries."""
    paths = ok(anonymous.get("/openapi.json"))["paths"]
    create = paths["/api/v1/domains"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/DomainCreate"}
    assert "parameters" not in create or all(p["in"] != "query" for p in create["parameters"])
    search = paths["/api/v1/audit/events"]["get"]
    assert {p["name"] for p in search["parameters"]} == {
        "actor",
        "resource",
        "action",
        "since",
        "until",
        "limit",
    }
    assert create["security"] == [{"HTTPBearer": []}]
    assert "security" not in paths["/api/v1/health"]["get"]


def test_principal_refs_may_be_url_encoded(admin: httpx.Client) -> None:
    body = ok(admin.get("/principals/user%3Aadmin%40governance"))
    assert body["name"] == "user:admin@governance"
