"""Derived check schedules: a published product nobody set a check schedule for is checked on its
contract's cron, else its domain's default, the scheduler's tick keeping the schedule in line
(moved with the default, removed with the product's publication); a schedule set by hand wins.
Two schedulers ticking together on one store create, move and run each derived schedule once
(the clock is the one thing faked)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lakemesh.api.schemas.schedules import SchedulePublic
from lakemesh.catalog import domains
from lakemesh.cli.main import app
from lakemesh.model.actors import SYSTEM
from lakemesh.scheduling import Scheduler, list_schedules, remove_schedule
from lakemesh.sharing import products
from lakemesh.store.schema import AuditEvent, QualityRun
from tests.conftest import FrozenClock, HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import SHOP_ADMIN, Shop, build_shop
from tests.factories.tokens import clear_cli_environment
from tests.scheduling.test_schedules import SETTINGS, START, _runs, _set

DUE = datetime(2026, 1, 1, 3, 0, 5, tzinfo=UTC)


@pytest.fixture
def shop(env: HubEnv, tmp_path: Path, frozen_clock: FrozenClock) -> Shop:
    frozen_clock.current = START
    return build_shop(env, Lake(tmp_path / "lake"))


def _contract_cron(shop: Shop, product: str, cron: str) -> None:
    """Give the product's contract a quality rule scheduled on ``cron``."""
    with shop.env.hub.transaction() as session:
        row = products.get_product(session, product)
        contract = dict(row.contract or {})
        schema = [dict(item) for item in contract["schema"]]
        schema[0]["quality"] = [{**schema[0]["quality"][0], "scheduler": "cron", "schedule": cron}]
        row.contract = {**contract, "schema": schema}


def _default(shop: Shop, cron: str) -> None:
    with shop.env.hub.transaction() as session:
        domains.update_domain(
            session, actor=shop.actor(SHOP_ADMIN), name="shop", check_schedule=cron
        )


def _schedules(shop: Shop) -> dict[str, tuple[str | None, bool, str | None, str]]:
    """target → (cron, derived, next run, created by)."""
    with shop.env.hub.read() as session:
        shown = [
            SchedulePublic.from_row(s.row)
            for s in list_schedules(session, actor=shop.actor(SHOP_ADMIN))
        ]
    return {s.target: (s.cron, s.derived, s.next_run_at, s.created_by) for s in shown}


def _system_audit(shop: Shop) -> list[tuple[str, str, str | None]]:
    """(action, resource, cron) of the schedules the system actor set and removed."""
    with shop.env.hub.read() as session:
        rows = session.execute(
            select(AuditEvent)
            .where(
                AuditEvent.actor == SYSTEM.ref,
                AuditEvent.action.in_(("schedule.set", "schedule.remove")),
            )
            .order_by(AuditEvent.seq)
        ).scalars()
        return [(row.action, row.resource, row.details.get("cron")) for row in rows]


def _check_triggers(shop: Shop) -> list[str]:
    with shop.env.hub.read() as session:
        return [r.trigger for r in session.execute(select(QualityRun)).scalars()]


def test_a_contracts_cron_checks_a_published_product_nobody_scheduled(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    _contract_cron(shop, "orders_parts", "0 3 * * *")
    scheduler = Scheduler(shop.env.hub, SETTINGS)
    assert scheduler.tick() + scheduler.tick() == []
    assert _schedules(shop) == {
        "orders_parts": ("0 3 * * *", True, "2026-01-01T03:00:00+00:00", SYSTEM.ref)
    }
    frozen_clock.current = DUE
    assert len(scheduler.tick()) == 1
    assert scheduler.tick() == []
    (run,) = _runs(shop, target="orders_parts")
    assert (run["status"], run["reason"]) == ("succeeded", "cron")
    assert run["result"]["check_status"] in {"passed", "failed", "error"}
    assert _check_triggers(shop) == ["schedule"]
    assert _system_audit(shop) == [("schedule.set", "product:orders_parts", "0 3 * * *")]


def test_the_domains_default_checks_its_products_and_moves_with_it(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    _default(shop, "0 3 * * *")
    scheduler = Scheduler(shop.env.hub, SETTINGS)
    assert scheduler.tick() == []
    found = _schedules(shop)
    assert sorted(found) == ["orders_csv", "orders_parquet", "orders_parts"]
    assert {v[:3] for v in found.values()} == {("0 3 * * *", True, "2026-01-01T03:00:00+00:00")}
    frozen_clock.current = DUE
    assert len(scheduler.tick()) == 3
    assert sorted(_check_triggers(shop)) == ["schedule"] * 3
    _default(shop, "30 4 * * *")
    assert scheduler.tick() == []
    assert {v[:3] for v in _schedules(shop).values()} == {
        ("30 4 * * *", True, "2026-01-01T04:30:00+00:00")
    }
    _default(shop, "")
    assert scheduler.tick() == []
    assert _schedules(shop) == {}
    audited = _system_audit(shop)
    assert [(a, c) for a, r, c in audited if r == "product:orders_csv"] == [
        ("schedule.set", "0 3 * * *"),
        ("schedule.set", "30 4 * * *"),
        ("schedule.remove", "30 4 * * *"),
    ]
    assert len(audited) == 9


def test_a_schedule_set_by_hand_wins_and_removing_it_brings_the_derived_one_back(
    shop: Shop,
) -> None:
    _set(shop, "check", "orders_parquet", cron="0 5 * * *")
    _default(shop, "0 3 * * *")
    scheduler = Scheduler(shop.env.hub, SETTINGS)
    scheduler.tick()
    made = _set(shop, "check", "orders_csv", cron="0 6 * * *")  # was derived: now explicit
    assert (made["derived"], made["created_by"]) == (False, SHOP_ADMIN)
    scheduler.tick()
    found = _schedules(shop)
    assert found["orders_parquet"][:2] == ("0 5 * * *", False)
    assert found["orders_csv"][:2] == ("0 6 * * *", False)
    assert found["orders_parts"][:2] == ("0 3 * * *", True)
    with shop.env.hub.transaction() as session:
        remove_schedule(session, actor=shop.actor(SHOP_ADMIN), kind="check", target="orders_csv")
    assert "orders_csv" not in _schedules(shop)
    scheduler.tick()
    assert _schedules(shop)["orders_csv"] == (
        "0 3 * * *",
        True,
        "2026-01-01T03:00:00+00:00",
        SYSTEM.ref,
    )


def test_deprecating_a_product_removes_its_derived_schedule(shop: Shop) -> None:
    _contract_cron(shop, "orders_parts", "15 4 * * 1")
    scheduler = Scheduler(shop.env.hub, SETTINGS)
    scheduler.tick()
    assert _schedules(shop)["orders_parts"][:3] == (
        "15 4 * * 1",
        True,
        "2026-01-05T04:15:00+00:00",
    )
    with shop.env.hub.transaction() as session:
        products.deprecate_product(
            session, actor=shop.actor(SHOP_ADMIN), name="orders_parts", message="gone"
        )
    scheduler.tick()
    assert _schedules(shop) == {}
    assert _system_audit(shop) == [
        ("schedule.set", "product:orders_parts", "15 4 * * 1"),
        ("schedule.remove", "product:orders_parts", "15 4 * * 1"),
    ]


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at once; their results, or raise the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]
    return results


def test_two_schedulers_ticking_together_make_and_run_each_derived_schedule_once(
    shop: Shop, frozen_clock: FrozenClock
) -> None:
    first, second = Scheduler(shop.env.hub, SETTINGS), Scheduler(shop.env.hub, SETTINGS)
    for cron in ("0 3 * * *", "0 2 * * *", "0 3 * * *"):  # created, moved, moved back
        _default(shop, cron)
        made = _together(first.sync_derived, second.sync_derived)
        assert sum(made) == 3, made
    assert {v[:3] for v in _schedules(shop).values()} == {
        ("0 3 * * *", True, "2026-01-01T03:00:00+00:00")
    }
    assert len(_system_audit(shop)) == 9
    frozen_clock.current = DUE
    done = _together(first.tick, second.tick)
    assert len(done[0] + done[1]) == 3
    assert first.tick() + second.tick() == []
    for target in ("orders_csv", "orders_parquet", "orders_parts"):
        assert [r["status"] for r in _runs(shop, target=target)] == ["succeeded"]
    assert len(_system_audit(shop)) == 9


def test_derived_schedules_through_the_cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cli_environment(monkeypatch)
    base = ["--home", str(shop.env.home), "--token", shop.env.token]
    runner = CliRunner()
    _contract_cron(shop, "orders_parts", "0 3 * * *")
    ran = runner.invoke(app, [*base, "schedule", "run-due"])
    assert ran.exit_code == 0, ran.stderr
    listed = json.loads(runner.invoke(app, [*base, "--json", "schedule", "list"]).stdout)
    assert [(s["target"], s["derived"], s["created_by"]) for s in listed] == [
        ("orders_parts", True, SYSTEM.ref)
    ]
    shown = runner.invoke(app, [*base, "schedule", "list"]).stdout
    assert "derived" in shown
    removed = runner.invoke(app, [*base, "schedule", "remove", "check", "orders_parts"])
    assert removed.exit_code == 0, removed.stderr
    assert "comes back, derived, at the scheduler's next tick" in removed.stdout
