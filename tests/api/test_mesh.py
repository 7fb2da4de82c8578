"""``/mesh``: the JSON Schema of the mesh files, export, plan and apply over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.conftest import ApiServer, DomainAdmin, error_of, ok


def test_the_schema_validates_every_file_and_needs_no_token(anonymous: httpx.Client) -> None:
    schema = ok(anonymous.get("/mesh/schema"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {option["description"] for option in schema["anyOf"]} == {
        "mesh.yaml",
        "domain.yaml",
        "catalog.yaml",
        "access.yaml",
        "products.yaml",
    }
    one = ok(anonymous.get("/mesh/schema", params={"file": "domain.yaml"}))
    assert one["required"] == ["name"]
    assert one["additionalProperties"] is False
    unknown = error_of(anonymous.get("/mesh/schema", params={"file": "nope.yaml"}), 400)
    assert "file" in unknown["message"]


def test_export_plan_apply_round_trip(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin]
) -> None:
    domain = make_domain("meshapi")
    files = ok(admin.get("/mesh/export", params={"domain": domain.domain}))
    assert files["mesh"] is None
    assert [folder["domain"]["name"] for folder in files["domains"]] == [domain.domain]
    files["domains"][0]["domain"]["principals"].append({"name": f"user:zed@{domain.domain}"})
    plan = ok(admin.post("/mesh/plan", json={"files": files}))
    assert [(c["action"], c["kind"], c["key"]) for c in plan["changes"]] == [
        ("create", "principal", f"user:zed@{domain.domain}")
    ]
    applied = ok(admin.post("/mesh/apply", json={"files": files}))
    assert applied["committed"] == [[domain.domain]]
    assert ok(admin.post("/mesh/plan", json={"files": files}))["changes"] == []


def test_a_domain_admin_exports_only_its_own_domains(
    api_server: ApiServer, make_domain: Callable[[str], DomainAdmin]
) -> None:
    first, second = make_domain("meshmine"), make_domain("meshtheirs")
    with api_server.client(first.token) as client:
        own = ok(client.get("/mesh/export"))
        denied = error_of(client.get("/mesh/export", params={"domain": second.domain}), 403)
    assert [folder["domain"]["name"] for folder in own["domains"]] == [first.domain]
    assert denied["message"] == f"{first.principal} is not an admin of domain {second.domain}"


def test_a_token_secret_is_sent_with_the_files_and_never_returned(
    admin: httpx.Client, api_server: ApiServer, make_domain: Callable[[str], DomainAdmin]
) -> None:
    domain = make_domain("meshsecret")
    files = ok(admin.get("/mesh/export", params={"domain": domain.domain}))
    service = f"service:etl@{domain.domain}"
    token = {"secret_env": "ETL_TOKEN", "description": "nightly"}
    files["domains"][0]["domain"]["principals"].append({"name": service, "tokens": [token]})
    missing = error_of(admin.post("/mesh/apply", json={"files": files}), 400)
    assert missing["message"].startswith("Apply refused, nothing applied: Secret ETL_TOKEN of a ")
    secret = "lm_etl-over-http-0123456789abcdefghij"
    applied = admin.post("/mesh/apply", json={"files": files, "secrets": {"ETL_TOKEN": secret}})
    assert secret not in applied.text
    assert ok(applied)["committed"] == [[domain.domain]]
    with api_server.client(secret) as etl:
        assert ok(etl.get("/whoami"))["name"] == service
    exported = admin.get("/mesh/export", params={"domain": domain.domain})
    assert secret not in exported.text
    (principal,) = [
        p for p in ok(exported)["domains"][0]["domain"]["principals"] if p["name"] == service
    ]
    assert principal["tokens"] == [{**token, "expires_at": None}]
