"""CLI startup benchmark: commands on the demo mesh, next to Python's and DuckDB's own startup.

A script that prints figures (not a test). It builds the NimbusCart demo (``--orders`` rows, in
``benchmarks/.data/cli-demo`` unless ``--home`` names one), then runs each command ``--runs``
times as a new process and prints the median and best wall time and the median CPU time (user +
system of the child). The lakemesh commands run twice: on the home alone (the hub loaded in the
CLI's process) and while ``lakemesh serve`` serves the home (the CLI asks that server, as it does
during ``make demo``). Targets (issue 10): ``lakemesh --profile marketing-analyst query
"SELECT 1"`` <= 0.6 s and ``lakemesh table list`` <= 0.4 s.

    .venv/bin/python benchmarks/cli_startup.py
    .venv/bin/python benchmarks/cli_startup.py --runs 5 --home .lakemesh-demo
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).parent / ".data"
BIN = Path(sys.executable).parent
TARGETS = {"table list": 0.4, "query SELECT 1": 0.6}


def _baselines() -> list[tuple[str, list[str]]]:
    duckdb = shutil.which("duckdb")
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python: import duckdb, SELECT 1", [sys.executable, "-c", _DUCKDB]),
        *([("duckdb CLI -c 'SELECT 1'", [duckdb, "-c", "SELECT 1"])] if duckdb else []),
    ]


def _lakemesh(home: Path) -> list[tuple[str, list[str]]]:
    lakemesh = [str(BIN / "lakemesh"), "--home", str(home)]
    return [
        ("lakemesh --version", [*lakemesh, "--version"]),
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
    print(f"{'command':<44} {'median':>8} {'best':>8} {'cpu':>8} {'target':>8}")
    _report(_baselines(), args.runs, "")
    _report(_lakemesh(home), args.runs, " (in process)")
    with _served(home):
        _report(_lakemesh(home)[1:], args.runs, " (served)")


def _report(commands: list[tuple[str, list[str]]], runs: int, mode: str) -> None:
    for name, command in commands:
        _time(command)  # warm the file cache
        timed = [_time(command) for _ in range(runs)]
        walls = [wall for wall, _ in timed]
        cpu = statistics.median(cpu for _, cpu in timed)
        target = f"{TARGETS[name]:.1f} s" if name in TARGETS else ""
        print(
            f"{name + mode:<44} {statistics.median(walls):>7.3f}s {min(walls):>7.3f}s "
            f"{cpu:>7.3f}s {target:>8}",
            flush=True,
        )


@contextlib.contextmanager
def _served(home: Path) -> Iterator[None]:
    """``lakemesh serve`` on ``home`` (a free port) until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(BIN / "lakemesh"), "--home", str(home), "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("lakemesh serve did not start") from None
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
