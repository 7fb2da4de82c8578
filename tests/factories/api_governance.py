"""Catalog objects the tag, filter and mask API tests govern."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.conftest import DomainAdmin, ok


def customers_table(admin: httpx.Client, owner: DomainAdmin, tmp_path: Path) -> str:
    """``DOMAIN.crm.customers`` (id, email, region) in ``owner``'s domain; returns its name."""
    folder = tmp_path / owner.domain
    folder.mkdir()
    ok(admin.post("/locations", json={"uri": str(folder), "domain": owner.domain}), 201)
    ok(admin.post("/databases", json={"domain": owner.domain, "name": "crm"}), 201)
    name = f"{owner.domain}.crm.customers"
    columns = [{"name": c, "type": "VARCHAR"} for c in ("id", "email", "region")]
    body = {"name": name, "location": str(folder / "customers"), "format": "parquet"}
    ok(admin.post("/tables", json={**body, "columns": columns}), 201)
    return name
