"""Every route declares its response model: the OpenAPI document, not prose, gives every shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from lakemesh.api import schemas
from tests.api.conftest import DomainAdmin, ok

# Answers whose shape is a free-form map by nature: a JSON Schema document.
FREE_FORM = {("get", "/api/v1/mesh/schema")}


def _schema_of(response: dict[str, Any]) -> dict[str, Any] | None:
    schema: dict[str, Any] | None = (
        response.get("content", {}).get("application/json", {}).get("schema")
    )
    return schema


def test_every_2xx_response_has_a_response_schema(anonymous: httpx.Client) -> None:
    document = ok(anonymous.get("/openapi.json"))
    components = document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                schema = _schema_of(response)
                assert schema, (method, path, status)
                if (method, path) in FREE_FORM:
                    assert schema["type"] == "object", (method, path)
                    continue
                reference = schema.get("$ref") or schema.get("items", {}).get("$ref")
                assert reference, (method, path, status, schema)
                assert reference.removeprefix("#/components/schemas/") in components
                checked += 1
    assert checked >= 80


def test_request_and_response_models_live_in_the_schemas_package() -> None:
    assert issubclass(schemas.TablePublic, schemas.ResponseModel)
    assert issubclass(schemas.TableCreate, schemas.RequestBody)
    assert issubclass(schemas.GrantCreate, schemas.RequestBody)


def test_the_table_list_and_one_table_agree_on_shape(
    admin: httpx.Client, make_domain: Callable[[str], DomainAdmin], tmp_path: Path
) -> None:
    owner = make_domain("shape")
    folder = tmp_path / owner.domain
    folder.mkdir()
    ok(admin.post("/locations", json={"uri": str(folder), "domain": owner.domain}), 201)
    ok(admin.post("/databases", json={"domain": owner.domain, "name": "crm"}), 201)
    name = f"{owner.domain}.crm.orders"
    body = {
        "name": name,
        "location": str(folder / "orders"),
        "format": "parquet",
        "columns": [{"name": "id", "type": "BIGINT"}],
    }
    created = ok(admin.post("/tables", json=body), 201)
    [listed] = ok(admin.get("/tables", params={"database": f"{owner.domain}.crm"}))
    shown = ok(admin.get(f"/tables/{name}"))
    assert listed == shown == created
    assert set(shown) >= {"name", "columns", "partition_columns", "tags", "schema_version"}
    assert set(shown["columns"][0]) >= {"name", "type", "partition", "tags"}
