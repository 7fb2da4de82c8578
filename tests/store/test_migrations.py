"""The migrations build exactly the tables the models describe, on both backends, and the latest
ones can be undone and done again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from lakemesh.store.migrate import current_revision, head_revision, known_head, migrate
from lakemesh.store.schema import Base
from tests.conftest import HubEnv


def _differences(env: HubEnv) -> list[object]:
    with env.hub.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))


def test_every_migration_matches_the_models(env: HubEnv) -> None:
    assert _differences(env) == []


def test_the_latest_migrations_go_down_and_up(env: HubEnv) -> None:
    migrate(env.hub.engine, "0004_sharing", down=True)
    assert "policy_changes" not in inspect(env.hub.engine).get_table_names()
    columns = {c["name"] for c in inspect(env.hub.engine).get_columns("query_history")}
    assert "cancel_requested_at" not in columns
    migrate(env.hub.engine, "head")
    assert current_revision(env.hub.engine) == head_revision()
    assert _differences(env) == []


def test_sqlite_tables_made_before_autoincrement_are_rebuilt_keeping_rows(
    sqlite_env: HubEnv,
) -> None:
    engine = sqlite_env.hub.engine
    migrate(engine, "0009_attribute_keys", down=True)
    counts = "SELECT (SELECT count(*) FROM principals), (SELECT count(*) FROM api_tokens)"
    with engine.connect() as connection:
        before = connection.exec_driver_sql(counts).one()
        raw = connection.connection.driver_connection
        assert raw is not None
        # principals as hubs made before 0010 have it: an INTEGER key without AUTOINCREMENT.
        sql = raw.execute("SELECT sql FROM sqlite_master WHERE name = 'principals'").fetchone()[0]
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute(sql.replace("principals", "old_principals", 1).replace(" AUTOINCREMENT", ""))
        raw.execute("INSERT INTO old_principals SELECT * FROM principals")
        raw.execute("DROP TABLE principals")
        raw.execute("ALTER TABLE old_principals RENAME TO principals")
        raw.execute("PRAGMA foreign_keys=ON")
    migrate(engine, "head")
    with engine.connect() as connection:
        after = connection.exec_driver_sql(counts).one()
        rebuilt = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'principals'"
        ).scalar()
    assert after == before  # the rebuild cascaded to no token
    assert "AUTOINCREMENT" in str(rebuilt)


def test_mixed_case_principal_names_are_lower_cased_apart(env: HubEnv) -> None:
    migrate(env.hub.engine, "0010_ids_never_reused", down=True)
    with env.hub.engine.begin() as connection:
        domain_id = connection.exec_driver_sql(
            "SELECT domain_id FROM principals WHERE ref = 'user:admin@governance'"
        ).scalar()
        for ref, name in (("user:MIA@governance", "MIA"), ("user:Mia@governance", "Mia")):
            connection.execute(
                text(
                    "INSERT INTO principals (ref, kind, name, domain_id, attributes, created_at)"
                    " VALUES (:ref, 'user', :name, :domain, '{}', CURRENT_TIMESTAMP)"
                ),
                {"ref": ref, "name": name, "domain": domain_id},
            )
    migrate(env.hub.engine, "head")
    with env.hub.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, ref FROM principals WHERE ref LIKE :mia ORDER BY id"),
            {"mia": "user:mia%"},
        ).all()
    assert [ref for _, ref in rows] == [
        "user:mia@governance",
        f"user:mia+{rows[1][0]}@governance",
    ]


def test_the_head_is_read_from_the_migration_files_as_alembic_reads_it() -> None:
    # The hub's start checks the store against this without importing Alembic.
    assert known_head() == head_revision() is not None
