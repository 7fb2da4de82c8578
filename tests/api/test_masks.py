"""Masks over HTTP: lifecycle, validation errors, mesh admins only."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok


def test_mask_lifecycle_and_errors(
    api_server: ApiServer,
    admin: httpx.Client,
    make_domain: Callable[[str], DomainAdmin],
    unique: Callable[[str], str],
) -> None:
    key, name = unique("pii_level"), unique("hide")
    ok(admin.post("/tags", json={"key": key, "values": ["low", "high"]}), 201)
    body = {"name": name, "tag_expression": f"{key} = high", "function": "email_domain"}
    created = ok(admin.post("/masks", json=body), 201)
    assert {k: created[k] for k in ("name", "tag_expression", "function", "created_by")} == {
        "name": name,
        "tag_expression": f"{key}=high",
        "function": "email_domain",
        "created_by": "user:admin@governance",
    }
    assert ok(admin.get(f"/masks/{name}")) == created
    assert created in ok(admin.get("/masks"))

    error = error_of(admin.post("/masks", json=body), 409)
    assert error["message"] == f"Mask already exists: {name}"
    error = error_of(admin.post("/masks", json={**body, "function": "blur"}), 400)
    assert error["message"] == (
        "Unknown mask function: 'blur' (known: redact, hash, last4, null, email_domain)"
    )
    error = error_of(admin.post("/masks", json={**body, "tag_expression": f"{key}=top"}), 400)
    assert error["message"] == f"Tag value does not exist: {key}=top (allowed: high, low)"
    error = error_of(admin.post("/masks", json={**body, "tag_expression": "(a=b"}), 400)
    assert error["message"].startswith("Invalid tag expression at position 4: expected ')'")
    error = error_of(admin.delete(f"/tags/{key}"), 409)
    assert error["message"] == f"Tag key {key} is still in use: mask {name} ({key}=high)"

    owner = make_domain("masks")
    with api_server.client(owner.token) as client:
        assert created in ok(client.get("/masks"))
        error = error_of(client.delete(f"/masks/{name}"), 403)
        assert error["message"] == f"{owner.principal} is not a mesh admin"
        error = error_of(client.post("/masks", json={**body, "name": unique("mine")}), 403)
        assert error["message"] == f"{owner.principal} is not a mesh admin"

    assert admin.delete(f"/masks/{name}").status_code == 204
    error = error_of(admin.get(f"/masks/{name}"), 404)
    assert error["message"] == f"Mask does not exist: {name}"
    assert admin.delete(f"/tags/{key}").status_code == 204
