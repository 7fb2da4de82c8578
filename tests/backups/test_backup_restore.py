"""Backup and restore of the hub store: consistent under a live writer, portable between the
backends, all or nothing, and refused on a non-empty target or a corrupted file."""

from __future__ import annotations

import itertools
import json
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from lakemesh.audit import chain
from lakemesh.backups.backup import backup
from lakemesh.backups.restore import restore
from lakemesh.catalog import databases, domains
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from lakemesh.governance import grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import principals
from lakemesh.model.permissions import Permission
from lakemesh.store.schema import Base, Grant
from tests.conftest import HubEnv, fresh_postgres_database

USERS = [f"user:u{number}@sales" for number in range(30)]


def _populate(env: HubEnv) -> None:
    env.hub.mask_salt()  # a setting of config.toml the backup carries
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", producer=True)
        databases.create_database(session, actor=env.admin, domain="sales", name="crm")
        for user in USERS:
            principals.create_principal(session, actor=env.admin, principal=user)


def _grant(env: HubEnv, user: str) -> None:
    with env.hub.transaction() as session:
        grants.grant(
            session,
            actor=env.admin,
            grantee=user,
            request=GrantRequest(permissions=frozenset({Permission.DESCRIBE}), on="sales.crm"),
        )


def _backup(env: HubEnv, file: Path) -> dict[str, Any]:
    return backup(
        database_url=env.hub.database_url, destination=file, config=env.hub.home.config()
    ).to_dict()


def _rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    dict(row)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    ).mappings()
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def empty_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """An empty PostgreSQL database to restore into (``None``: the SQLite file of the home)."""
    if request.param == "sqlite":
        yield None
        return
    source = request.getfixturevalue("env") if "env" in request.fixturenames else None
    if source is None or source.hub.engine.dialect.name != "postgresql":
        yield request.getfixturevalue("postgres_database")  # fresh, and not the source's
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.mark.parametrize("empty_database", ["sqlite", "postgres"], indirect=True)
def test_round_trip_keeps_every_row_of_every_table_across_backends(
    env: HubEnv, empty_database: str | None, tmp_path: Path
) -> None:
    _populate(env)
    for user in USERS[:3]:
        _grant(env, user)
    with env.hub.transaction() as session:  # a deleted newest row: its id is never reused
        grants.revoke(
            session,
            actor=env.admin,
            grantee=USERS[2],
            request=GrantRequest(permissions=frozenset({Permission.DESCRIBE}), on="sales.crm"),
        )
    summary = _backup(env, tmp_path / "hub.lmbackup")
    assert summary["audit"]["ok"] is True

    restored = restore(
        source=tmp_path / "hub.lmbackup", home=tmp_path / "restored", database_url=empty_database
    ).to_dict()

    assert restored["audit"] == summary["audit"]
    assert restored["rows"] == summary["rows"]
    hub = Hub.open(tmp_path / "restored")
    try:
        assert _rows(hub.database_url) == _rows(env.hub.database_url)
        settings = {k: v for k, v in env.hub.home.config().items() if k != "database_url"}
        assert hub.home.config() == {
            **settings,
            **({"database_url": empty_database} if empty_database else {}),
        }
        with hub.transaction() as session:  # ids go on after the backed-up ones
            before = session.execute(select(func.max(Grant.id))).scalar_one()
        restored_env = HubEnv(hub, env.admin, env.token)
        _grant(restored_env, USERS[2])
        with hub.read() as session:
            assert session.execute(select(func.max(Grant.id))).scalar_one() == before + 2
            assert chain.verify(session).ok
    finally:
        hub.close()


def test_a_backup_taken_while_grants_are_made_restores_consistently(
    env: HubEnv, tmp_path: Path
) -> None:
    _populate(env)
    made: list[int] = []
    stop = threading.Event()

    def writer() -> None:
        for number in itertools.count():
            if stop.is_set():
                return
            user = f"user:w{number}@sales"
            with env.hub.transaction() as session:
                principals.create_principal(session, actor=env.admin, principal=user)
            _grant(env, user)
            made.append(number)

    def wait_for_more_grants(table: str, _rows: int) -> None:
        # While the backup runs (on PostgreSQL: inside its snapshot), the writer goes on.
        if table != "settings":
            return
        seen = len(made)
        deadline = time.monotonic() + 10
        while len(made) < seen + 2 and time.monotonic() < deadline:
            stop.wait(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(made) < 3:
            stop.wait(0.01)
        summary = backup(
            database_url=env.hub.database_url,
            destination=tmp_path / "hub.lmbackup",
            config={},
            progress=wait_for_more_grants,
        )
    finally:
        stop.set()
        thread.join()

    restored = restore(source=tmp_path / "hub.lmbackup", home=tmp_path / "restored")
    assert restored.audit.ok, restored.audit.reason
    assert restored.audit.events == summary.audit.events
    hub = Hub.open(tmp_path / "restored")
    try:
        with hub.read() as session:
            granted = session.execute(select(func.count()).select_from(Grant)).scalar_one()
            events = session.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'grant.create'")
            ).scalar_one()
    finally:
        hub.close()
    # Each grant came with its audit event, in one transaction: the snapshot has both or neither,
    # and none of the grants made while the backup was being written.
    assert granted == events
    assert 3 <= granted < len(made)


def test_restore_refuses_a_home_or_database_that_is_not_empty(env: HubEnv, tmp_path: Path) -> None:
    _backup(env, tmp_path / "hub.lmbackup")
    with pytest.raises(ConflictError, match=f"Hub home is not empty: {env.home} \\(has config"):
        restore(source=tmp_path / "hub.lmbackup", home=env.home)
    if env.hub.engine.dialect.name == "postgresql":
        with pytest.raises(ConflictError, match="Database is not empty: .*has tables"):
            restore(
                source=tmp_path / "hub.lmbackup",
                home=tmp_path / "other",
                database_url=env.hub.database_url,
            )
        assert not (tmp_path / "other" / "config.toml").exists()


def test_backup_refuses_to_overwrite_a_file(sqlite_env: HubEnv, tmp_path: Path) -> None:
    (tmp_path / "hub.lmbackup").write_text("keep me")
    with pytest.raises(ConflictError, match="Backup file exists already: .*hub.lmbackup"):
        _backup(sqlite_env, tmp_path / "hub.lmbackup")
    assert (tmp_path / "hub.lmbackup").read_text() == "keep me"


def _rewrite(file: Path, edit: Callable[[dict[str, bytes]], None]) -> None:
    """Rewrite the backup's zip with ``edit`` applied to its members' contents."""
    with zipfile.ZipFile(file) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    edit(contents)
    with zipfile.ZipFile(file, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def test_backup_of_a_missing_sqlite_file_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(NotFoundError, match=f"Database file does not exist: {missing}"):
        backup(database_url=f"sqlite:///{missing}", destination=tmp_path / "b", config={})
    assert sorted(tmp_path.iterdir()) == []


def test_restore_into_an_unreachable_database_names_it(sqlite_env: HubEnv, tmp_path: Path) -> None:
    _backup(sqlite_env, tmp_path / "hub.lmbackup")
    url = "postgresql+psycopg://postgres@127.0.0.1:1/lakemesh"
    with pytest.raises(StorageError, match="Cannot connect to database postgresql.*127.0.0.1:1/"):
        restore(source=tmp_path / "hub.lmbackup", home=tmp_path / "restored", database_url=url)
    assert not (tmp_path / "restored" / "config.toml").exists()


def _tamper(file: Path, member: str) -> None:
    def edit(contents: dict[str, bytes]) -> None:
        contents[member] = contents[member].replace(b'"DESCRIBE"', b'"SELECT"')

    _rewrite(file, edit)


@pytest.mark.parametrize("empty_database", ["sqlite", "postgres"], indirect=True)
def test_a_corrupted_backup_is_refused_with_nothing_written(
    sqlite_env: HubEnv, empty_database: str | None, tmp_path: Path
) -> None:
    _populate(sqlite_env)
    _grant(sqlite_env, USERS[0])
    _backup(sqlite_env, tmp_path / "hub.lmbackup")
    _tamper(tmp_path / "hub.lmbackup", "tables/grants.jsonl")
    with pytest.raises(InvalidInputError, match="checksum mismatch in tables/grants.jsonl"):
        restore(
            source=tmp_path / "hub.lmbackup",
            home=tmp_path / "restored",
            database_url=empty_database,
        )
    assert not (tmp_path / "restored" / "config.toml").exists()
    assert not (tmp_path / "restored" / "hub.db").exists()
    if empty_database:
        engine = create_engine(empty_database)
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
        engine.dispose()


def test_an_audit_chain_that_does_not_verify_leaves_nothing(
    sqlite_env: HubEnv, tmp_path: Path
) -> None:
    _populate(sqlite_env)
    with sqlite_env.hub.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = 'user:mallory@sales' WHERE seq = 2"))
    _backup(sqlite_env, tmp_path / "hub.lmbackup")
    with pytest.raises(InvalidInputError, match="audit chain does not verify: event 2 was altered"):
        restore(source=tmp_path / "hub.lmbackup", home=tmp_path / "restored")
    assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == []


def test_a_file_that_is_no_backup_is_refused(sqlite_env: HubEnv, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInputError, match="Not a lakemesh backup: .*notes.txt"):
        restore(source=tmp_path / "notes.txt", home=tmp_path / "restored")
    with pytest.raises(InvalidInputError, match="Backup file does not exist: .*missing"):
        restore(source=tmp_path / "missing", home=tmp_path / "restored")


def _edit_manifest(file: Path, change: dict[str, Any]) -> None:
    def edit(contents: dict[str, bytes]) -> None:
        manifest = json.loads(contents["manifest.json"])
        manifest.update(change)
        dropped = change.get("drop_table")
        manifest["tables"] = [t for t in manifest["tables"] if t["name"] != dropped]
        contents["manifest.json"] = json.dumps(manifest).encode()

    _rewrite(file, edit)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 99}, "Unsupported backup format version 99 in .*"),
        ({"alembic_revision": "0001_old"}, "holds store revision 0001_old .*restores revision"),
        ({"drop_table": "grants"}, "lacks tables of its store revision: grants"),
    ],
)
def test_a_backup_this_version_cannot_restore_is_refused_with_nothing_written(
    sqlite_env: HubEnv, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    file = tmp_path / "hub.lmbackup"
    _backup(sqlite_env, file)
    _edit_manifest(file, change)
    with pytest.raises(InvalidInputError, match=message):
        restore(source=file, home=tmp_path / "restored")
    assert not (tmp_path / "restored" / "hub.db").exists()
    assert not (tmp_path / "restored" / "config.toml").exists()
