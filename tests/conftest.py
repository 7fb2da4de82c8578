"""Shared fixtures: hub homes on SQLite files and on the machine's PostgreSQL, and the clock."""

from __future__ import annotations

import functools
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer.main
import typer.testing
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lakemesh import clock
from lakemesh.authz.loader import load_index
from lakemesh.authz.state import CACHE_KEY, policy_index
from lakemesh.catalog.domains import bootstrap
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor
from tests.factories.demo import DemoHome, copy_demo, shared_demo
from tests.seaweedfs import S3_VARIABLES, S3Server, shared_seaweedfs, stop_shared_seaweedfs
from tests.stores import SQLITE_TEMPLATE, PostgresStores
from tests.worker_groups import SPARK, group_of, grouped_scheduler

POSTGRES_URL = os.environ.get(
    "LAKEMESH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgres"]
SHARED_SEAWEEDFS = "shared-seaweedfs"


def _postgres_reason() -> str | None:
    """None when PostgreSQL is reachable, else why not."""
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as e:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(e).__name__}"
    return None


_POSTGRES_REASON = _postgres_reason()


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist's workers start with COLUMNS and LINES set (80x24): the CLI would take its
    output for a terminal's and wrap it. The tests see what a pipe sees unless they say so.

    Typer's test runner turns the app into its Click command tree on every ``invoke`` (some
    0.2 s of CPU each, thousands of times a run); a program builds it once, and so do the tests.
    """
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
    # CliRunner.invoke rebuilds Click's command tree through this private name on every call; if a
    # Typer release renames it, fail here rather than silently losing the cache.
    if not hasattr(typer.testing, "_get_command"):
        raise pytest.UsageError("typer.testing._get_command is gone: update the command-tree cache")
    typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reaches PostgreSQL ``postgres`` (``make test-fast`` leaves them out),
    also the PostgreSQL half of the tests parametrised over the store backends."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("env") == "postgres"
        fixtures = set(getattr(item, "fixturenames", ()))
        if on_postgres or fixtures & {"postgres_database", "migrated_postgres_database"}:
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under ``--dist loadfile``, the modules of a group of :mod:`tests.worker_groups` run on one
    worker (one local Spark a run, not one per worker)."""
    if config.getoption("dist", None) != "loadfile":
        return None
    return grouped_scheduler(config, log)


@pytest.fixture(autouse=True)
def _spark_starts_only_in_its_group(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that starts the local Spark must be in a module of the Spark group (else each
    worker that runs it starts a JVM of its own)."""
    started = _local_spark_started()
    yield
    module = request.node.nodeid.split("::")[0]
    if not started and _local_spark_started() and group_of(module) != SPARK:
        pytest.fail(f"{module} starts the local Spark: add it to GROUPS in tests/worker_groups.py")


def _local_spark_started() -> bool:
    sessions = sys.modules.get("lakemesh.query.engines.spark_session")
    return sessions is not None and bool(sessions._local)


def _require_postgres() -> None:
    """Skip when no server is reachable, except under CI (CI=true), where that fails the run."""
    if _POSTGRES_REASON is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(_POSTGRES_REASON)
        pytest.skip(_POSTGRES_REASON)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    _require_postgres()
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_stores() -> Iterator[PostgresStores]:
    """This test process's migrated PostgreSQL databases (:mod:`tests.stores`)."""
    _require_postgres()
    stores = PostgresStores(POSTGRES_URL)
    yield stores
    stores.close()


@pytest.fixture
def migrated_postgres_database(postgres_stores: PostgresStores) -> Iterator[str]:
    """A PostgreSQL database for one test holding what the migrations make and nothing else
    (a copy of one migrated once, reset afterwards for the next test: :mod:`tests.stores`)."""
    with postgres_stores.database() as url:
        yield url


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped when the block ends."""
    name = f"lakemesh_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def assert_policy_index_current(hub: Hub) -> None:
    """The hub's cached policy index, brought up to date through the change log, holds exactly
    what a fresh load of the store holds (checked after every test that used a hub fixture)."""
    if hub.caches.get(CACHE_KEY) is None:
        return
    with hub.read() as session:
        kept = policy_index(session).content()
        fresh = load_index(session).content()
    differing = sorted(key for key in fresh if kept[key] != fresh[key])
    assert not differing, f"incrementally kept policy index differs in {differing}: {kept}"


@dataclass
class HubEnv:
    """A hub with its first mesh admin."""

    hub: Hub
    admin: Actor
    token: str

    @property
    def home(self) -> Path:
        return self.hub.home.path


def make_hub_env(
    home: Path, database_url: str | None = None, *, run_migrations: bool = False
) -> HubEnv:
    """A new hub home with a mesh admin (``user:admin@governance``).

    Its SQLite store (without ``database_url``) is a copy of one migrated once per test process
    (:mod:`tests.stores`), unless ``run_migrations``: then the hub migrates an empty store.
    """
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'database_url = "{database_url}"\n' if database_url else "")
    if database_url is None and not run_migrations:
        SQLITE_TEMPLATE.copy_to(HubHome(home).database_file)
    hub = Hub(home=home)
    with hub.transaction() as session:
        issued = bootstrap(session, admin="user:admin@governance")
    with hub.transaction() as session:
        admin = authenticate(session, issued.token)
    return HubEnv(hub, admin, issued.token)


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubEnv]:
    """A hub on each store backend: the behaviour suites run on SQLite and PostgreSQL (stores
    the migrations made, copied: :mod:`tests.stores`)."""
    postgres = request.param == "postgres"
    url = request.getfixturevalue("migrated_postgres_database") if postgres else None
    hub_env = make_hub_env(tmp_path / "home", url)
    yield hub_env
    assert_policy_index_current(hub_env.hub)
    hub_env.hub.close()


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[HubEnv]:
    """A hub on a SQLite file (for tests that do not depend on the store backend)."""
    hub_env = make_hub_env(tmp_path / "home")
    yield hub_env
    assert_policy_index_current(hub_env.hub)
    hub_env.hub.close()


class FrozenClock:
    """A controllable clock: the one thing tests may fake."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Replace ``lakemesh.clock.now`` by a clock the test moves."""
    fake = FrozenClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoHome:
    """The NimbusCart demo mesh (2,000 orders), built once for the whole run (by the first
    pytest-xdist worker that needs it; the others wait for it). Never open it: copy it
    (:func:`tests.factories.demo.copy_demo`)."""
    run = tmp_path_factory.getbasetemp()
    return shared_demo((run if worker_id == "master" else run.parent) / "shared-demo")


@pytest.fixture(scope="session")
def demo_mesh(
    demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Hub, Actor]]:
    """A copy of the demo mesh and its data steward, shared by the tests that only read it
    (``build_demo`` applies its governance and sharing)."""
    hub, steward = copy_demo(demo_home, tmp_path_factory.mktemp("demo") / "home").open()
    yield hub, steward
    assert_policy_index_current(hub)
    hub.close()


@pytest.fixture(scope="session")
def seaweedfs(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[S3Server]:
    """One real S3-compatible server (SeaweedFS) on loopback for the whole run, started by the
    first pytest-xdist worker that needs it and found by the others; tests keep apart by using
    buckets of their own (see :mod:`tests.seaweedfs`). Without workers the session stops it;
    with workers, the controller does at the end of the run (:func:`pytest_sessionfinish`)."""
    if not hasattr(pytestconfig, "workerinput"):  # no pytest-xdist workers
        folder = tmp_path_factory.getbasetemp() / SHARED_SEAWEEDFS
        yield shared_seaweedfs(folder, owner=os.getpid())
        stop_shared_seaweedfs(folder)
    else:  # the worker's parent is the controller: the server lives as long as the run
        folder = tmp_path_factory.getbasetemp().parent / SHARED_SEAWEEDFS
        yield shared_seaweedfs(folder, owner=os.getppid())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In pytest-xdist's controller, after every worker is done (or on Ctrl-C): stop the run's
    SeaweedFS, if a worker started one."""
    config = session.config
    if hasattr(config, "workerinput") or not config.pluginmanager.has_plugin("dsession"):
        return
    stop_shared_seaweedfs(config._tmp_path_factory.getbasetemp() / SHARED_SEAWEEDFS)


@contextmanager
def s3_environment(server: S3Server, **overrides: str | None) -> Iterator[None]:
    """The hub's S3 settings pointing at ``server`` (through the environment) while the block
    runs, and nothing else boto's credential chain could find; ``overrides`` change or (None)
    remove variables."""
    with pytest.MonkeyPatch.context() as patch:
        for variable in S3_VARIABLES:
            patch.delenv(variable, raising=False)
        # No test machine has an instance role: boto must not wait on the metadata service.
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for variable, value in {**server.environ, **overrides}.items():
            if value is None:
                patch.delenv(variable, raising=False)
            else:
                patch.setenv(variable, value)
        yield
