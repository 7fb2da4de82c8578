"""``/domains``: create, show, list, update, admins, delete, and their errors."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.conftest import error_of, ok


def test_domain_lifecycle(admin: httpx.Client, unique: Callable[[str], str]) -> None:
    name = unique("sales")
    created = ok(
        admin.post(
            "/domains",
            json={
                "name": name,
                "producer": True,
                "description": "Orders",
                "admins": [f"user:bob@{name}"],
            },
        ),
        201,
    )
    assert created["producer"] is True
    assert created["consumer"] is False
    assert created["admins"] == [f"user:bob@{name}"]
    assert ok(admin.get(f"/domains/{name}")) == created
    assert name in [d["name"] for d in ok(admin.get("/domains"))]

    updated = ok(admin.patch(f"/domains/{name}", json={"consumer": True}))
    assert updated["consumer"] is True
    assert updated["description"] == "Orders"

    with_admin = ok(admin.post(f"/domains/{name}/admins", json={"principal": f"user:carol@{name}"}))
    assert with_admin["admins"] == [f"user:bob@{name}", f"user:carol@{name}"]
    without = ok(admin.delete(f"/domains/{name}/admins/user:carol@{name}"))
    assert without["admins"] == [f"user:bob@{name}"]

    assert admin.delete(f"/domains/{name}").status_code == 204
    error = error_of(admin.get(f"/domains/{name}"), 404)
    assert error["message"] == f"Domain does not exist: {name}"


def test_duplicate_domain_is_409(admin: httpx.Client, unique: Callable[[str], str]) -> None:
    name = unique("dup")
    ok(admin.post("/domains", json={"name": name}), 201)
    error = error_of(admin.post("/domains", json={"name": name}), 409)
    assert error["type"] == "already_exists"
    assert error["message"] == f"Domain already exists: {name}"


def test_invalid_domain_name_is_400(admin: httpx.Client) -> None:
    error = error_of(admin.post("/domains", json={"name": "Bad Name"}), 400)
    assert error["type"] == "invalid_input"
    assert "Invalid domain name: 'Bad Name'" in error["message"]


def test_malformed_body_is_400_naming_the_fields(admin: httpx.Client) -> None:
    error = error_of(admin.post("/domains", json={"nmae": "x"}), 400)
    assert error["type"] == "invalid_input"
    assert "body.name: Field required" in error["message"]
    assert "body.nmae: Extra inputs are not permitted" in error["message"]
    assert {"location": "body.name", "message": "Field required"} in error["details"]["errors"]


def test_governance_cannot_be_deleted(admin: httpx.Client) -> None:
    error = error_of(admin.delete("/domains/governance"), 409)
    assert error["message"] == "The governance domain cannot be deleted"
