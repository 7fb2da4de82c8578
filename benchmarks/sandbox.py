"""Query sandbox overhead: what running each query in a worker process costs, next to raw DuckDB.

In one run, taking turns, each statement runs:

- (a) raw DuckDB, in this process, on one open connection;
- (s) the in-process sandbox (a fresh sandboxed database per query, as before worker processes);
- (w) the DuckDB engine: the same sandbox in a warm worker process, rows back as an Arrow file;
- (h) through the query service on a new hub home (SQLite): workgroup, parse, admission,
  worker, history row and audit event (``SELECT 1`` only: it reads no table).

Statements: ``SELECT 1`` (the fixed cost) and ``SELECT * FROM range(N)`` with a text column (the
cost per row of bringing a result back). Prints p50 and p99 per path and the difference to (a).

    .venv/bin/python benchmarks/sandbox.py [--runs 200] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from lakemesh.catalog.domains import bootstrap
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.query import QueryLimits, service
from lakemesh.query.engines.duckdb import DuckDBEngine
from lakemesh.query.engines.duckdb_pool import settle
from lakemesh.query.engines.duckdb_process import worker_pool
from lakemesh.query.engines.duckdb_sandbox import DuckDBSandbox

LIMITS = QueryLimits(threads=2, memory_limit="2GiB", timeout_seconds=600)


def timings(run: Callable[[], object], runs: int, *, pause: Callable[[], object]) -> list[float]:
    """Milliseconds of ``runs`` calls, ``pause`` (not timed) after each."""
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        found.append((time.perf_counter() - started) * 1000)
        pause()
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs of SELECT 1 per path")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large result")
    arguments = parser.parse_args()

    raw = duckdb.connect(config={"threads": 2, "memory_limit": "2GiB"})
    sandbox, engine = DuckDBSandbox(), DuckDBEngine()
    folder = Path(tempfile.mkdtemp(prefix="lakemesh-bench-"))
    home = folder / "home"
    home.mkdir()
    (home / "config.toml").write_text("")
    hub = Hub(home=home)
    with hub.transaction() as session:
        token = bootstrap(session, admin="user:admin@governance").token
    with hub.transaction() as session:
        actor = authenticate(session, token)

    worker_pool().warm_up()

    def quiet() -> None:
        settle()
        worker_pool().wait_ready()
        time.sleep(0.005)

    def in_sandbox(sql: str) -> Callable[[], object]:
        def run() -> object:
            path = str(folder / "result.arrows")
            return sandbox.run(sql=sql, files=[], parameters={}, limits=LIMITS, result_path=path)

        return run

    def on(sql: str) -> dict[str, Callable[[], object]]:
        return {
            "(a) raw DuckDB": lambda: raw.execute(sql).to_arrow_table(),
            "(s) sandbox in process": in_sandbox(sql),
            "(w) worker process": lambda: engine.execute(
                sql=sql, files=[], parameters={}, limits=LIMITS
            ),
        }

    large = f"SELECT range AS n, 'row ' || range AS label FROM range({arguments.rows})"
    cases = {
        "SELECT 1": {
            **on("SELECT 1"),
            "(h) query service (hub)": lambda: service.run(hub, actor=actor, sql="SELECT 1"),
        },
        f"{arguments.rows:,} rows (bigint, text)": on(large),
    }
    quiet()
    for path in cases["SELECT 1"].values():  # warm every path once
        path()
    load = os.getloadavg()[0]
    print(f"load average at the start: {load:.1f}; {os.cpu_count()} cores")
    for title, paths in cases.items():
        runs = arguments.runs if title == "SELECT 1" else max(5, arguments.runs // 20)
        results: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(runs):  # take turns, one run each
            for name, run in paths.items():
                results[name] += timings(run, 1, pause=quiet)
        base = statistics.median(results["(a) raw DuckDB"])
        print(f"\n{title} ({runs} runs each)")
        print("| path | p50 ms | p99 ms | p50 - (a) ms |\n|---|---:|---:|---:|")
        for name, values in results.items():
            p50 = statistics.median(values)
            print(f"| {name} | {p50:.2f} | {percentile(values, 0.99):.2f} | {p50 - base:+.2f} |")
    hub.close()


if __name__ == "__main__":
    main()
