"""Apply Alembic migrations programmatically: the hub upgrades its store at start.

Alembic itself is imported only when a migration has to run: checking that the store is up to
date reads the migration files and the ``alembic_version`` table directly, which keeps every
CLI command on a hub home from paying for Alembic's import (startup time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*"([^"]+)"', re.MULTILINE)


def alembic_config() -> Config:
    """Alembic's configuration of the hub's migrations (no ini file)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    """The newest migration this version of lakemesh knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_head() -> str | None:
    """:func:`head_revision` read from the migration files without Alembic (``None`` when they
    do not name exactly one head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("[0-9]*.py"):
        for kind, name in _REVISION.findall(script.read_text()):
            (revisions if kind == "revision" else parents).add(name)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None  # no alembic_version table: nothing migrated yet
    return str(found[0][0]) if len(found) == 1 else None


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (a no-op when the store is up to date)."""
    head = known_head()
    if head is not None and current_revision(engine) == head:
        return
    migrate(engine, "head")


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the store to ``revision`` in one transaction.

    Raises:
        RuntimeError: a migration left a row referring to a missing one (nothing is committed).
    """
    with migration_transaction(engine) as connection:
        run_migrations(connection, revision, down=down)


def run_migrations(connection: Connection, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) to ``revision`` in the caller's transaction on ``connection``."""
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    if down:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that may change the schema: committed when the block ends.

    On SQLite, foreign keys are off inside it (rebuilding a table drops the old one, which would
    otherwise cascade) and checked before it commits, as SQLite's procedure for schema changes
    asks.

    Raises:
        RuntimeError: the block left a row referring to a missing one (nothing is committed).
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or it is ignored
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"Foreign keys broken: {broken[:5]}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
