"""The shop of tests.quality with a second producer domain, vault, whose table k the shop's
people may not DESCRIBE."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakemesh.catalog import crawler, domains, locations
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import Shop, build_shop


@pytest.fixture
def shop(sqlite_env: HubEnv, tmp_path: Path) -> Shop:
    shop = build_shop(sqlite_env, Lake(tmp_path / "lake"))
    shop.lake.parquet("vault/keys/k/part-0.parquet", {"id": [1], "secret": ["x"]})
    admin = sqlite_env.admin
    with sqlite_env.hub.transaction() as session:
        domains.create_domain(session, actor=admin, name="vault", producer=True)
        locations.register_location(
            session, actor=admin, uri=shop.lake.uri_of("vault"), domain="vault"
        )
    crawler.crawl(
        sqlite_env.hub,
        actor=admin,
        uri=shop.lake.uri_of("vault/keys"),
        domain="vault",
        database="keys",
    )
    return shop
