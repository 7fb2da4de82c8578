"""Planning cost of a governed query through the service: from ``service.run`` to the engine.

A hub on a SQLite file with the query tests' governed mesh (``tests/factories/query.py``: Parquet
and CSV tables, tag grants, a row filter on a principal attribute, masks). Each statement below
runs as a *new* statement (a comment makes its text unique, so neither the statement cache nor
the plan cache knows it) and then again as a repeated one. The figure is the time from calling
``service.run`` until the engine starts executing: parsing, validation, the read transaction that
resolves and authorizes every table and lists its files, admission, the rewrite. The engine's
own work and the history write after it are not counted. Wall-clock and CPU time (of the hub
process: steadier when other programs load the machine) are both printed.

    .venv/bin/python benchmarks/planning.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import make_hub_env
from tests.factories.query import (
    CUSTOMERS,
    EMMA,
    MIA,
    ORDERS,
    STORES,
    build_governed_mesh,
)

from lakemesh.query import runtime, service

STATEMENTS = [
    (MIA, f"SELECT name, segment FROM {CUSTOMERS} WHERE lifetime_value > 20"),
    (
        MIA,
        f"SELECT c.name, o.order_id, s.city FROM {ORDERS} o"
        f" JOIN {CUSTOMERS} c ON o.customer_id = c.customer_id"
        f" JOIN {STORES} s ON s.region = o.region WHERE o.amount > 10",
    ),
    (
        EMMA,
        f"WITH big AS (SELECT customer_id, sum(amount) AS total FROM {ORDERS} GROUP BY 1)"
        f" SELECT * FROM big WHERE total > (SELECT avg(amount) FROM {ORDERS})",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="new statements per statement shape")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        mesh = build_governed_mesh(make_hub_env(root / "home"), root / "lake")
        for principal, sql in STATEMENTS:  # warm: engine loaded, policy index built
            service.run(mesh.hub, actor=mesh.actor(principal), sql=sql)
        entered: list[tuple[float, float]] = []
        _time_engine_entry(mesh.hub.caches, entered)
        times: dict[str, list[float]] = {"new": [], "repeated": []}
        cpu: dict[str, list[float]] = {"new": [], "repeated": []}
        for run in range(arguments.runs):
            for principal, template in STATEMENTS:
                actor = mesh.actor(principal)
                sql = f"{template} /* run {run} */"
                for kind in ("new", "repeated"):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    service.run(mesh.hub, actor=actor, sql=sql)
                    times[kind].append(entered[-1][0] - started)
                    cpu[kind].append(entered[-1][1] - cpu_started)
        mesh.hub.close()
    print(
        f"planning through the service, {len(times['new'])} statements, load average "
        f"{os.getloadavg()[0]:.1f}:"
    )
    for kind in ("new", "repeated"):
        print(f"  {kind} statement: wall {_ms(times[kind])}; CPU {_ms(cpu[kind])}")


def _time_engine_entry(caches: dict[str, Any], entered: list[tuple[float, float]]) -> None:
    """Record when each engine the service made starts executing (instrumentation only)."""
    for engine in caches[runtime.ENGINES_CACHE].values():
        execute: Callable[..., Any] = engine.execute

        def timed(*args: Any, _execute: Callable[..., Any] = execute, **kwargs: Any) -> Any:
            entered.append((time.perf_counter(), time.process_time()))
            return _execute(*args, **kwargs)

        engine.execute = timed


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(len(ordered) * 0.9)]
    return f"median {statistics.median(values) * 1000:.2f} ms (p90 {p90 * 1000:.2f} ms)"


if __name__ == "__main__":
    main()
