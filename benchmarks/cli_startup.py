"""CLI startup benchmark: embedded commands on the demo mesh, next to Python's and DuckDB's own.

A script that prints figures (not a test). It builds the NimbusCart demo (``--orders`` rows, in
``benchmarks/.data/cli-demo`` unless ``--home`` names one), then runs each command ``--runs``
times as a new process and prints the median and best wall time and the median CPU time (user +
system of the child). Targets (issue 10): ``lakemesh --profile marketing-analyst query "SELECT 1"``
<= 0.6 s and ``lakemesh table list`` <= 0.4 s.

    .venv/bin/python benchmarks/cli_startup.py
    .venv/bin/python benchmarks/cli_startup.py --runs 5 --home .lakemesh-demo
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / ".data"
BIN = Path(sys.executable).parent
TARGETS = {"table list": 0.4, "query SELECT 1": 0.6}


def _commands(home: Path) -> list[tuple[str, list[str]]]:
    lakemesh = [str(BIN / "lakemesh"), "--home", str(home)]
    duckdb = shutil.which("duckdb")
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import duckdb' + SELECT 1", [sys.executable, "-c", _DUCKDB]),
        *([("duckdb CLI SELECT 1", [duckdb, "-c", "SELECT 1"])] if duckdb else []),
        ("lakemesh --version", [*lakemesh, "--version"]),
        ("lakemesh --help", [*lakemesh, "--help"]),
        ("table list", [*lakemesh, "table", "list"]),
        ("query SELECT 1", [*lakemesh, "--profile", "marketing-analyst", "query", "SELECT 1"]),
    ]


_DUCKDB = "import duckdb; duckdb.sql('SELECT 1').fetchall()"


def _time(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` (its output thrown away)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _demo(home: Path, orders: int) -> None:
    if (home / "demo.json").exists():
        return
    print(f"building the demo mesh in {home} ({orders} orders)...", flush=True)
    subprocess.run(
        [str(BIN / "lakemesh"), "--home", str(home), "demo", "--no-serve", "--orders", str(orders)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=DATA / "cli-demo")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    home = args.home.absolute()
    _demo(home, args.orders)
    os.environ.pop("LAKEMESH_HUB", None)
    os.environ.pop("LAKEMESH_TOKEN", None)
    print(f"load average at start: {os.getloadavg()[0]:.1f}; {args.runs} runs each\n")
    print(f"{'command':<40} {'median':>8} {'best':>8} {'cpu':>8} {'target':>8}")
    for name, command in _commands(home):
        _time(command)  # warm the file cache
        runs = [_time(command) for _ in range(args.runs)]
        walls = [wall for wall, _ in runs]
        cpu = statistics.median(cpu for _, cpu in runs)
        target = f"{TARGETS[name]:.1f} s" if name in TARGETS else ""
        print(
            f"{name:<40} {statistics.median(walls):>7.3f}s {min(walls):>7.3f}s "
            f"{cpu:>7.3f}s {target:>8}",
            flush=True,
        )


if __name__ == "__main__":
    main()
