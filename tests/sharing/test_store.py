"""The 0004_sharing migration creates exactly the tables the sharing models describe."""

from __future__ import annotations

import doctest

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lakemesh.contracts import odcs
from lakemesh.store.schema import Base
from tests.conftest import HubEnv

SHARING_TABLES = {
    "shares",
    "resource_links",
    "data_products",
    "data_product_tables",
    "subscriptions",
    "subscription_grants",
    "subscription_events",
}


def test_migration_matches_the_models(env: HubEnv) -> None:
    with env.hub.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    mine = [
        difference
        for difference in differences
        if any(table in repr(difference) for table in SHARING_TABLES)
    ]
    assert mine == []


def test_contract_examples_run() -> None:
    assert doctest.testmod(odcs).failed == 0
