"""A unique constraint the store enforces is an AlreadyExistsError, not a 500: the loser of two
concurrent creations gets the error a moment later would have given it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lakemesh import clock
from lakemesh.catalog import domains
from lakemesh.errors import AlreadyExistsError
from lakemesh.store.schema import Domain
from tests.conftest import make_hub_env


@pytest.mark.postgres
def test_the_loser_of_two_concurrent_domain_creations_gets_already_exists(
    postgres_database: str, tmp_path: Path
) -> None:
    env = make_hub_env(tmp_path / "home", postgres_database)
    first_inserted, release_first = threading.Event(), threading.Event()

    def first() -> None:
        with env.hub.transaction() as session:
            domains.create_domain(session, actor=env.admin, name="sales")
            first_inserted.set()
            release_first.wait(10)

    winner = threading.Thread(target=first)
    winner.start()
    try:
        assert first_inserted.wait(10)
        # The second creation sees no "sales" yet; its insert waits on the unique index until
        # the first commits, then fails.
        threading.Timer(0.5, release_first.set).start()
        with (
            pytest.raises(AlreadyExistsError, match=r"^Domain already exists: sales$") as info,
            env.hub.transaction() as session,
        ):
            domains.create_domain(session, actor=env.admin, name="sales")
    finally:
        release_first.set()
        winner.join()
    assert info.value.details["table"] == "domains"
    assert info.value.exit_code == 5
    with env.hub.read() as session:
        assert [d.name for d in domains.list_domains(session)].count("sales") == 1
    env.hub.close()


def test_a_unique_violation_on_sqlite_names_the_table_and_columns(tmp_path: Path) -> None:
    env = make_hub_env(tmp_path / "home")
    duplicate = Domain(name="governance", description="", created_at=clock.now())
    with (
        pytest.raises(AlreadyExistsError, match=r"^Domain already exists: the same name$"),
        env.hub.transaction() as session,
    ):
        session.add(duplicate)
    env.hub.close()
