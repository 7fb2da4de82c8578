"""Schedules of checks and crawls: set, listed and removed by the domain's admins (service, CLI,
REST through the SDK), run when due, after a crawl that changes a product's tables, and taken
over when the process holding a run died (the clock is the one thing faked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lakemesh import meshfile
from lakemesh.api.schemas.schedules import ScheduledRunPublic, SchedulePublic
from lakemesh.api.server import serve_in_background
from lakemesh.catalog import crawler, domains
from lakemesh.cli.main import app
from lakemesh.errors import AccessDeniedError, InvalidInputError, NotFoundError
from lakemesh.identity.principals import get_domain_row
from lakemesh.scheduling import Scheduler, list_schedules, schedule_runs, set_schedule
from lakemesh.scheduling.scheduler import SchedulerSettings
from lakemesh.sdk import Client
from lakemesh.sharing import products
from lakemesh.store.schema import QualityRun
from tests.conftest import FrozenClock, HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import ANA, ORDERS, SHOP_ADMIN, Shop, build_shop
from tests.factories.tokens import clear_cli_environment, token_of

SETTINGS = SchedulerSettings(interval_seconds=0.1, lease_seconds=30, max_attempts=3)
START = datetime(2026, 1, 1, 2, 59, tzinfo=UTC)


@pytest.fixture
def shop(env: HubEnv, tmp_path: Path, frozen_clock: FrozenClock) -> Shop:
    frozen_clock.current = START
    return build_shop(env, Lake(tmp_path / "lake"))


def _set(shop: Shop, kind: str, target: str, **options: object) -> dict[str, Any]:
    """The schedule set, as the API shows it."""
    with shop.env.hub.transaction() as session:
        row = set_schedule(
            session,
            actor=shop.actor(SHOP_ADMIN),
            kind=kind,
            target=target,
            **options,  # type: ignore[arg-type]
        )
        return SchedulePublic.from_row(row).model_dump()


def _check_runs(shop: Shop) -> list[str]:
    """The triggers of the product checks run so far."""
    with shop.env.hub.read() as session:
        rows = session.execute(select(QualityRun).order_by(QualityRun.id)).scalars()
        return [row.trigger for row in rows]


def _runs(shop: Shop, kind: str = "check", target: str = "orders_parquet") -> list[dict[str, Any]]:
    """The schedule's runs, as the API shows them."""
    with shop.env.hub.read() as session:
        runs = schedule_runs(session, actor=shop.actor(SHOP_ADMIN), kind=kind, target=target)
        return [ScheduledRunPublic.from_row(run).model_dump() for run in runs]


def test_a_cron_schedule_runs_once_when_due_whoever_ticks(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    found = _set(shop, "check", "orders_parquet", cron="0 3 * * *")
    assert found["next_run_at"] == "2026-01-01T03:00:00+00:00"
    first, second = Scheduler(shop.env.hub, SETTINGS), Scheduler(shop.env.hub, SETTINGS)
    assert first.tick() == []
    frozen_clock.current = datetime(2026, 1, 1, 3, 0, 5, tzinfo=UTC)
    done = first.tick() + second.tick() + first.tick()
    assert len(done) == 1
    assert _check_runs(shop) == ["schedule"]
    (run,) = _runs(shop)
    assert (run["status"], run["reason"], run["due_at"]) == (
        "succeeded",
        "cron",
        "2026-01-01T03:00:00+00:00",
    )
    assert run["result"]["check_status"] == "error"  # the contract reads email: not granted
    with shop.env.hub.read() as session:
        (listed,) = list_schedules(session, actor=shop.actor(SHOP_ADMIN))
        shown = SchedulePublic.from_row(listed.row, last_run=listed.last_run)
    assert shown.next_run_at == "2026-01-02T03:00:00+00:00"
    assert shown.last_run is not None
    assert shown.last_run.status == "succeeded"
    frozen_clock.current = datetime(2026, 1, 5, 12, tzinfo=UTC)  # four missed days: one run
    assert len(second.tick() + first.tick()) == 1


def test_a_check_runs_after_a_crawl_that_changes_the_products_tables(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    _set(shop, "check", "orders_parquet", after_crawl=True)
    scheduler = Scheduler(shop.env.hub, SETTINGS)
    assert scheduler.tick() == []
    frozen_clock.advance(timedelta(minutes=5))
    crawl = lambda: crawler.crawl(  # noqa: E731
        shop.env.hub,
        actor=shop.env.admin,
        uri=shop.lake.uri_of("shop/sales"),
        domain="shop",
        database="sales",
    )
    crawl()  # nothing changed
    assert scheduler.tick() == []
    shop.lake.parquet(
        "shop/sales/orders_parquet/part-1.parquet",
        {**{k: v[:1] for k, v in ORDERS.items()}, "day": ["2025-01-03"], "note": ["new"]},
    )
    crawl()
    assert len(scheduler.tick()) == 1
    assert scheduler.tick() == []
    assert _check_runs(shop) == ["crawl"]
    assert _runs(shop)[0]["reason"] == "crawl"


def test_a_run_whose_holder_died_is_marked_failed_and_retried(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    _set(shop, "check", "orders_parquet", cron="0 3 * * *")
    frozen_clock.current = datetime(2026, 1, 1, 3, 0, 5, tzinfo=UTC)
    dead = Scheduler(shop.env.hub, SETTINGS)
    claimed = dead._claim_due()  # claimed, then the process died before doing it
    assert len(claimed) == 1
    alive = Scheduler(shop.env.hub, SETTINGS)
    assert alive.tick() == []  # the lease still runs
    frozen_clock.advance(timedelta(seconds=31))
    assert alive.tick() == [claimed[0].run_id]
    (run,) = _runs(shop)
    assert (run["status"], run["holder"]) == ("succeeded", alive.holder)
    lost, retried = run["attempts"]
    assert (lost["holder"], lost["status"]) == (dead.holder, "failed")
    assert lost["message"].startswith(f"holder {dead.holder} stopped renewing its lease")
    assert (retried["holder"], retried["status"]) == (alive.holder, "succeeded")
    assert _check_runs(shop) == ["schedule"]


def test_a_run_is_given_up_after_its_last_try(shop: Shop, frozen_clock: FrozenClock) -> None:
    _set(shop, "check", "orders_parquet", cron="0 3 * * *")
    frozen_clock.current = datetime(2026, 1, 1, 3, 0, 5, tzinfo=UTC)
    settings = SchedulerSettings(lease_seconds=10, max_attempts=2)
    Scheduler(shop.env.hub, settings)._claim_due()
    frozen_clock.advance(timedelta(seconds=11))
    assert len(Scheduler(shop.env.hub, settings)._take_over()) == 1  # the second try, dies too
    frozen_clock.advance(timedelta(seconds=11))
    assert Scheduler(shop.env.hub, settings).tick() == []
    (run,) = _runs(shop)
    assert run["status"] == "failed"
    assert run["message"].endswith("gave up after 2 tries")
    assert _check_runs(shop) == []


def test_a_crawl_schedule_recrawls_its_table(shop: Shop, frozen_clock: FrozenClock) -> None:
    _set(shop, "crawl", "shop.sales.orders_csv", cron="*/10 * * * *")
    frozen_clock.current = datetime(2026, 1, 1, 3, 0, 1, tzinfo=UTC)
    assert len(Scheduler(shop.env.hub, SETTINGS).tick()) == 1
    (run,) = _runs(shop, "crawl", "shop.sales.orders_csv")
    assert (run["status"], run["result"]) == (
        "succeeded",
        {"tables": {"shop.sales.orders_csv": "unchanged"}},
    )


@pytest.mark.parametrize(
    ("kind", "target", "options", "error", "message"),
    [
        ("check", "orders_parquet", {}, InvalidInputError, "needs a cron expression or --after"),
        (
            "check",
            "orders_parquet",
            {"cron": "61 * * * *"},
            InvalidInputError,
            r"Invalid cron expression: '61 \* \* \* \*'",
        ),
        ("check", "orders_parquet", {"cron": "0 3 * *"}, InvalidInputError, "five fields"),
        (
            "crawl",
            "shop.sales.orders_csv",
            {"after_crawl": True},
            InvalidInputError,
            "A crawl cannot run after a crawl",
        ),
        ("check", "nothing", {"cron": "0 3 * * *"}, NotFoundError, "nothing"),
        (
            "crawl",
            "shop.sales.nothing",
            {"cron": "0 3 * * *"},
            NotFoundError,
            "Table does not exist: shop.sales.nothing",
        ),
        (
            "load",
            "orders_parquet",
            {"cron": "0 3 * * *"},
            InvalidInputError,
            "Unknown schedule kind: 'load'",
        ),
    ],
)
def test_bad_schedules_are_refused_by_name(
    shop: Shop, kind: str, target: str, options: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        _set(shop, kind, target, **options)


def test_only_the_domains_admins_schedule(shop: Shop) -> None:
    with (
        pytest.raises(AccessDeniedError, match="user:ana@shop is not an admin of domain shop"),
        shop.env.hub.transaction() as session,
    ):
        set_schedule(
            session, actor=shop.actor(ANA), kind="check", target="orders_parquet", cron="0 3 * * *"
        )


def test_schedules_through_the_cli(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, frozen_clock: FrozenClock
) -> None:
    clear_cli_environment(monkeypatch)
    base = ["--home", str(shop.env.home), "--token", shop.env.token]
    runner = CliRunner()
    made = runner.invoke(
        app,
        [*base, "schedule", "set", "check", "orders_csv", "--cron", "30 * * * *", "--after-crawl"],
    )
    assert made.exit_code == 0, made.stderr
    assert (
        "Scheduled check of orders_csv on '30 * * * *' (next 2026-01-01T03:30:00+00:00) and "
        "after every crawl that changes its tables" in made.stdout
    )
    frozen_clock.current = datetime(2026, 1, 1, 3, 31, tzinfo=UTC)
    ran = runner.invoke(app, [*base, "--json", "schedule", "run-due"])
    assert ran.exit_code == 0, ran.stderr
    assert len(json.loads(ran.stdout)["runs"]) == 1
    listed = json.loads(runner.invoke(app, [*base, "--json", "schedule", "list"]).stdout)
    assert [(s["target"], s["last_run"]["status"]) for s in listed] == [("orders_csv", "succeeded")]
    runs = json.loads(
        runner.invoke(app, [*base, "--json", "schedule", "runs", "check", "orders_csv"]).stdout
    )
    assert [r["reason"] for r in runs] == ["cron"]
    shown = runner.invoke(app, [*base, "schedule", "list"])
    assert "orders_csv" in shown.stdout
    removed = runner.invoke(app, [*base, "schedule", "remove", "check", "orders_csv"])
    assert removed.exit_code == 0, removed.stderr
    missing = runner.invoke(app, [*base, "--json", "schedule", "remove", "check", "orders_csv"])
    assert missing.exit_code != 0
    assert "Schedule does not exist: check orders_csv" in missing.stderr


def test_a_check_schedule_takes_the_contracts_cron(shop: Shop) -> None:
    with shop.env.hub.transaction() as session:
        row = products.get_product(session, "orders_parts")
        contract = dict(row.contract or {})
        schema = [dict(item) for item in contract["schema"]]
        quality = [dict(rule) for rule in schema[0]["quality"]]
        quality[0].update(scheduler="cron", schedule="15 4 * * 1")
        schema[0]["quality"] = quality
        row.contract = {**contract, "schema": schema}
    found = _set(shop, "check", "orders_parts")
    assert (found["cron"], found["next_run_at"]) == ("15 4 * * 1", "2026-01-05T04:15:00+00:00")


def test_schedules_through_rest_and_the_sdk(shop: Shop) -> None:
    with serve_in_background(shop.env.hub) as url, Client.connect(url, token=shop.env.token) as c:
        made = c.set_schedule("check", "orders_parquet", cron="0 3 * * *", after_crawl=True)
        assert isinstance(made, SchedulePublic)
        assert (made.domain, made.after_crawl, made.last_run) == ("shop", True, None)
        assert [s.target for s in c.list_schedules(domain="shop")] == ["orders_parquet"]
        assert c.list_schedules(domain="other") == []
        assert c.schedule_runs("check", "orders_parquet") == []
        with pytest.raises(InvalidInputError, match="Invalid cron expression: 'every day'"):
            c.set_schedule("check", "orders_parquet", cron="every day")
        response = httpx.put(
            f"{url}/api/v1/schedules",
            json={"kind": "check", "target": "orders_parquet", "cron": "0 3 * * *"},
            headers={"Authorization": f"Bearer {token_of(shop.env, ANA)}"},
        )
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "user:ana@shop is not an admin of domain shop"
        c.remove_schedule("check", "orders_parquet")
        with pytest.raises(NotFoundError, match="Schedule does not exist: check orders_parquet"):
            c.schedule_runs("check", "orders_parquet")


def test_a_check_schedule_takes_the_domains_default_when_the_contract_gives_none(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    with shop.env.hub.transaction() as session:
        with pytest.raises(InvalidInputError, match="Invalid cron expression: 'hourly'"):
            domains.update_domain(
                session, actor=shop.actor(SHOP_ADMIN), name="shop", check_schedule="hourly"
            )
        domains.update_domain(
            session, actor=shop.actor(SHOP_ADMIN), name="shop", check_schedule="0 3 * * *"
        )
    found = _set(shop, "check", "orders_parquet")
    assert (found["cron"], found["next_run_at"]) == ("0 3 * * *", "2026-01-01T03:00:00+00:00")
    first, second = Scheduler(shop.env.hub, SETTINGS), Scheduler(shop.env.hub, SETTINGS)
    assert first.tick() + second.tick() == []
    frozen_clock.current = datetime(2026, 1, 1, 3, 0, 5, tzinfo=UTC)
    # the lease: one run each, orders_parquet's set by hand, the two others' derived
    assert len(second.tick() + first.tick() + second.tick()) == 3
    (run,) = _runs(shop)
    assert (run["status"], run["reason"]) == ("succeeded", "cron")
    with shop.env.hub.transaction() as session:  # the contract's schedule comes first
        row = products.get_product(session, "orders_parts")
        contract = dict(row.contract or {})
        schema = [dict(item) for item in contract["schema"]]
        schema[0]["quality"] = [
            {**schema[0]["quality"][0], "scheduler": "cron", "schedule": "15 4 * * 1"}
        ]
        row.contract = {**contract, "schema": schema}
    assert _set(shop, "check", "orders_parts")["cron"] == "15 4 * * 1"
    with shop.env.hub.transaction() as session:
        domains.update_domain(session, actor=shop.actor(SHOP_ADMIN), name="shop", check_schedule="")
    with pytest.raises(InvalidInputError, match="nor does its domain"):
        _set(shop, "check", "orders_csv")


def test_the_domains_default_through_the_cli_rest_and_mesh_files(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("LAKEMESH_HOME", "LAKEMESH_HUB", "LAKEMESH_TOKEN", "LAKEMESH_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    base = ["--home", str(shop.env.home), "--token", shop.env.token]
    runner = CliRunner()
    made = runner.invoke(app, [*base, "domain", "update", "shop", "--check-schedule", "0 6 * * *"])
    assert made.exit_code == 0, made.stderr
    shown = runner.invoke(app, [*base, "--json", "domain", "show", "shop"])
    assert json.loads(shown.stdout)["check_schedule"] == "0 6 * * *"
    with serve_in_background(shop.env.hub) as url, Client.connect(url, token=shop.env.token) as c:
        assert c.get_domain("shop").check_schedule == "0 6 * * *"
        with pytest.raises(InvalidInputError, match="Invalid cron expression: '0 6'"):
            c.update_domain("shop", check_schedule="0 6")
        assert c.update_domain("shop", check_schedule="30 5 * * *").check_schedule == "30 5 * * *"
    with shop.env.hub.read() as session:
        files = meshfile.export_mesh(session, actor=shop.env.admin, domains=["shop"])
    assert "check_schedule: 30 5 * * *\n" in meshfile.render_files(files)["shop/domain.yaml"]
    folder = tmp_path / "mesh"
    meshfile.write_files(files, folder)
    domain_file = folder / "shop" / "domain.yaml"
    domain_file.write_text(domain_file.read_text().replace("30 5 * * *", "0 7 * * *"))
    applied = meshfile.apply_mesh(
        shop.env.hub, actor=shop.env.admin, files=meshfile.read_files(folder)
    )
    assert [(c.action, c.resource.key) for c in applied.plan.changes] == [("change", "shop")]
    with shop.env.hub.read() as session:
        assert get_domain_row(session, "shop").check_schedule == "0 7 * * *"
