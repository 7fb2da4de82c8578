"""Migrated stores for the tests' hubs, made once per test process and copied per test.

Running every migration is most of what a new hub costs: on SQLite a fraction of a second of
CPU, on PostgreSQL seconds of DDL, and there creating and dropping a database per test costs as
much again (``DROP DATABASE`` forces a checkpoint of the whole server). So:

- SQLite: the migrations run once into a template file; each hub gets a copy of it.
- PostgreSQL: the migrations run once into a template database; each test borrows a database
  cloned from it (``CREATE DATABASE ... TEMPLATE``) and gives it back afterwards, reset to the
  template's content (every row and sequence), to be lent again. A database whose schema the
  test changed (migrations run down and up) or that cannot be reset is dropped instead.

The stores are what the migrations make (the template is the migrations' own output);
``tests/store/test_migrations.py`` and ``test_behaviour.py`` still run them on empty stores.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from lakemesh.store import connect, upgrade


class SqliteTemplate:
    """A migrated SQLite store file, made on first use (in a folder removed when the process
    ends); :meth:`copy_to` gives a hub its copy."""

    def __init__(self) -> None:
        self._file: Path | None = None

    def file(self) -> Path:
        if self._file is None:
            self.folder = Path(tempfile.mkdtemp(prefix="lakemesh-store-template-"))
            atexit.register(shutil.rmtree, self.folder, ignore_errors=True)
            migrated = self.folder / "migrated.db"
            engine = connect(f"sqlite:///{migrated}")
            upgrade(engine)
            engine.dispose()
            # A self-contained copy (no -wal file beside it) through SQLite's backup API.
            template = self.folder / "template.db"
            with (
                sqlite3.connect(migrated) as source,
                sqlite3.connect(template) as destination,
            ):
                source.backup(destination)
            source.close()
            destination.close()
            self._file = template
        return self._file

    def copy_to(self, database_file: Path) -> None:
        """Write the migrated store to ``database_file`` (which must not exist yet)."""
        if database_file.exists():
            raise FileExistsError(database_file)
        database_file.parent.mkdir(parents=True, exist_ok=True)
        database_file.write_bytes(self.file().read_bytes())


SQLITE_TEMPLATE = SqliteTemplate()
"""This process's migrated SQLite store."""


_SCHEMA = """
SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
    SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ('
        || coalesce((
        SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
            || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')' AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%'
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' '
        || pg_get_constraintdef(oid)
    FROM pg_constraint
    WHERE connamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname LIKE 'pg_%'
        OR nspname = 'information_schema')
    UNION ALL
    SELECT 'index ' || schemaname || '.' || indexname || ' ' || indexdef FROM pg_indexes
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'namespace ' || nspname FROM pg_namespace
    WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema'
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(coalesce(p.prosrc, ''))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT 'type ' || t.typname || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY
        e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'm') AND n.nspname NOT LIKE 'pg_%'
        AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT 'large objects ' || count(*) FROM pg_largeobject_metadata
    UNION ALL
    SELECT 'settings ' || count(*) FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS schema
"""

_TABLES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'information_schema'
ORDER BY 1
"""

_SEQUENCES = """
SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename),
    coalesce(last_value, start_value), last_value IS NOT NULL
FROM pg_sequences ORDER BY 1
"""


class PostgresStores:
    """Migrated PostgreSQL databases of one test process, lent one test at a time."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._prefix = f"lakemesh_test_{uuid.uuid4().hex[:8]}"
        self._template: str | None = None
        self._schema = ""
        self._rows: dict[str, str] = {}
        self._sequences: list[tuple[str, int, bool]] = []
        self._idle: list[str] = []
        self._made = 0

    def url(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    @contextmanager
    def database(self) -> Iterator[str]:
        """The URL of a migrated database holding only what the migrations put in, for the
        block's use alone."""
        name = self._idle.pop() if self._idle else self._clone()
        try:
            yield self.url(name)
        finally:
            self._give_back(name)

    def close(self) -> None:
        """Drop every database this process made."""
        for name in [*self._idle, *([self._template] if self._template else [])]:
            self._drop(name)
        self._idle.clear()
        self._template = None
        self._admin.dispose()

    def _clone(self) -> str:
        template = self._template or self._make_template()
        self._made += 1
        name = f"{self._prefix}_{self._made}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    def _make_template(self) -> str:
        name = f"{self._prefix}_template"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = connect(self.url(name))
        try:
            upgrade(engine)
            with engine.connect() as connection:
                self._schema = str(connection.execute(text(_SCHEMA)).scalar_one())
                for (table,) in connection.execute(text(_TABLES)):
                    rows = connection.execute(
                        text(f"SELECT coalesce(json_agg(t), '[]')::text FROM {table} AS t")
                    ).scalar_one()
                    if rows != "[]":
                        self._rows[table] = rows
                self._sequences = [
                    (str(s), int(v), bool(c)) for s, v, c in connection.execute(text(_SEQUENCES))
                ]
        finally:
            engine.dispose()  # CREATE DATABASE ... TEMPLATE needs the template unused
        self._template = name
        return name

    def _give_back(self, name: str) -> None:
        try:
            self._reset(name)
        except Exception:
            self._drop(name)
        else:
            self._idle.append(name)

    def _reset(self, name: str) -> None:
        """Put the template's content back (in one transaction), or raise if the schema is no
        longer the template's."""
        with self._admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        engine = create_engine(self.url(name), poolclass=NullPool)
        try:
            with engine.begin() as connection:
                _restore(connection, self._schema, self._rows, self._sequences)
        finally:
            engine.dispose()

    def _drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


Sequences = list[tuple[str, int, bool]]


def _restore(
    connection: Connection, schema: str, rows: dict[str, str], sequences: Sequences
) -> None:
    found = connection.execute(text(_SCHEMA)).scalar_one()
    if found != schema:
        raise RuntimeError("the test changed the database's schema")
    # Superuser only: no foreign key is checked while every table is emptied and refilled.
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(text("SET LOCAL synchronous_commit = off"))
    for (table,) in connection.execute(text(_TABLES)).all():
        connection.execute(text(f"DELETE FROM {table}"))
    for table, content in rows.items():
        refill = f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, :rows)"
        connection.execute(text(refill), {"rows": content})
    for sequence, value, called in sequences:
        connection.execute(
            text("SELECT setval(:sequence, :value, :called)"),
            {"sequence": sequence, "value": value, "called": called},
        )
