"""The migrations build exactly the tables the models describe, on both backends, and the latest
ones can be undone and done again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from lakemesh.store.migrate import alembic_config, current_revision, head_revision
from lakemesh.store.schema import Base
from tests.conftest import HubEnv


def _differences(env: HubEnv) -> list[object]:
    with env.hub.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))


def test_every_migration_matches_the_models(env: HubEnv) -> None:
    assert _differences(env) == []


def test_the_latest_migrations_go_down_and_up(env: HubEnv) -> None:
    config = alembic_config()
    with env.hub.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004_sharing")
    assert "policy_changes" not in inspect(env.hub.engine).get_table_names()
    columns = {c["name"] for c in inspect(env.hub.engine).get_columns("query_history")}
    assert "cancel_requested_at" not in columns
    with env.hub.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert current_revision(env.hub.engine) == head_revision()
    assert _differences(env) == []
