"""Two real hub processes (``lakemesh serve``) on one store, SQLite and PostgreSQL: a scheduled
check runs exactly once, and a process killed mid-run leaves the run marked failed and retried by
the other. Each process's clock starts at a time the test gives (the one thing faked)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from lakemesh.store.schema import QualityRun, ScheduledRun
from tests.cli.test_serve_and_demo import _free_port
from tests.conftest import FrozenClock, HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import SHOP_ADMIN, Shop, build_shop
from tests.scheduling.test_schedules import START, _set

ROOT = Path(__file__).resolve().parents[2]
DUE = datetime(2026, 1, 1, 3, 0, 1, tzinfo=UTC)
SLOW = """
apiVersion: v3.1.0
kind: DataContract
id: urn:shop:slow
version: 2.0.0
status: active
schema:
  - name: orders_csv
    quality:
      - type: sql
        query: SELECT count(*) FROM {tables}
        mustBeGreaterThan: 0
"""


@pytest.fixture
def shop(env: HubEnv, tmp_path: Path, frozen_clock: FrozenClock) -> Shop:
    frozen_clock.current = START
    shop = build_shop(env, Lake(tmp_path / "lake"))
    config = shop.env.home / "config.toml"
    config.write_text(
        config.read_text() + "\n[scheduler]\ninterval_seconds = 0.2\nlease_seconds = 6\n"
    )
    return shop


def _healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    assert process.poll() is None, f"lakemesh serve exited early: {log.read_text()[-2000:]}"
    try:
        return httpx.get(f"{url}/api/v1/health").status_code == 200
    except httpx.TransportError:
        return False


def _start(stack: ExitStack, shop: Shop) -> list[subprocess.Popen[bytes]]:
    started = []
    urls = []
    now = str(time.time())
    for _ in range(2):
        port = _free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.scheduling.hub_process",
                str(shop.env.home),
                DUE.isoformat(),
                now,
                str(port),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=(shop.env.home.parent / f"{port}.log").open("wb"),
        )
        stack.callback(_stop, process)
        started.append(process)
        urls.append(f"http://127.0.0.1:{port}")
    for url, process in zip(urls, started, strict=True):
        log = shop.env.home.parent / f"{url.rsplit(':', 1)[1]}.log"
        _wait(lambda url=url, process=process, log=log: _healthy(url, process, log))  # type: ignore[misc]
    return started


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(what: Callable[[], Any], *, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not reached in {seconds}s")


def _runs(shop: Shop) -> list[ScheduledRun]:
    with shop.env.hub.read() as session:
        return list(session.execute(select(ScheduledRun).order_by(ScheduledRun.id)).scalars())


def _checks(shop: Shop) -> list[str]:
    with shop.env.hub.read() as session:
        return [r.trigger for r in session.execute(select(QualityRun)).scalars()]


def test_two_hub_processes_run_a_scheduled_check_exactly_once(shop: Shop) -> None:
    _set(shop, "check", "orders_parquet", cron="0 3 * * *")
    with ExitStack() as stack:
        _start(stack, shop)
        _wait(lambda: [r for r in _runs(shop) if r.status != "running"])
        time.sleep(2)  # ten more ticks of each process: nothing more is due
        runs = _runs(shop)
    assert [(r.status, r.reason, len(r.attempts)) for r in runs] == [("succeeded", "cron", 1)]
    assert _checks(shop) == ["schedule"]


def test_a_process_killed_mid_run_leaves_it_failed_and_retried(shop: Shop) -> None:
    tables = ", ".join(f"shop.sales.orders_csv t{n}" for n in range(10))
    with shop.env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=shop.actor(SHOP_ADMIN),
            spec=ProductSpec(
                name="orders_csv", domain="shop", contract=SLOW.replace("{tables}", tables)
            ),
        )
    _set(shop, "check", "orders_csv", cron="0 3 * * *")
    with ExitStack() as stack:
        processes = _start(stack, shop)
        (run,) = _wait(lambda: _runs(shop))
        holder = next(p for p in processes if run.holder and f":{p.pid}:" in run.holder)
        holder.kill()  # SIGKILL: no chance to say anything
        holder.wait()
        finished = _wait(lambda: [r for r in _runs(shop) if r.status != "running"], seconds=240)
    (run,) = finished
    assert run.status == "succeeded"
    assert len(run.attempts) == 2, (holder.pid, [json.dumps(a) for a in run.attempts])
    lost, retried = run.attempts
    assert (lost["status"], f":{holder.pid}:" in lost["holder"]) == ("failed", True)
    assert "stopped renewing its lease" in lost["message"]
    assert retried["status"] == "succeeded"
    assert f":{holder.pid}:" not in retried["holder"]
    assert _checks(shop) == ["schedule"]
