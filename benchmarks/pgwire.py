"""Governed SQL over the PostgreSQL wire protocol against the SDK (Arrow over HTTP) and raw DuckDB.

A hub on a SQLite file serves one Parquet table of ``--rows`` rows (id BIGINT, amount DOUBLE,
name VARCHAR, day DATE) to its domain admin, over the REST API (``Client.connect``) and over the
PostgreSQL protocol (psycopg 3, text and binary). Two figures, each the median of ``--runs``:

- time to first row of a one-row query (a new cursor, execute, fetchone; the connection open);
- rows per second of the whole table (every row fetched into the client).

Raw DuckDB reads the same file with no governance, no process hop and no network: the floor.
Ratios are printed against it and against the SDK.

    .venv/bin/python benchmarks/pgwire.py [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import make_hub_env

from lakemesh import Client
from lakemesh.api.server import serve_in_background as serve_api
from lakemesh.catalog import crawler, domains, locations
from lakemesh.identity import tokens
from lakemesh.pgwire.server import serve_in_background as serve_pgwire
from lakemesh.query.workgroups import create_workgroup

ADMIN = "user:sam@sales"
TABLE = "sales.bench.rows"


def write_table(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True)
    ids = pa.array(range(rows), pa.int64())
    data = pa.table(
        {
            "id": ids,
            "amount": pa.array([i * 0.25 for i in range(rows)], pa.float64()),
            "name": pa.array([f"name-{i % 1000}" for i in range(rows)], pa.string()),
            "day": pa.array([i % 3650 for i in range(rows)], pa.int32()).cast(pa.date32()),
        }
    )
    path = folder / "part-0.parquet"
    pq.write_table(data, path)
    return path


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lakemesh-pgwire-") as scratch:
        root = Path(scratch)
        path = write_table(root / "lake" / "sales" / "bench" / "rows", args.rows)
        env = make_hub_env(root / "home")
        with env.hub.transaction() as session:
            domains.create_domain(session, actor=env.admin, name="sales", admins=[ADMIN])
            locations.register_location(
                session, actor=env.admin, uri=str(root / "lake" / "sales"), domain="sales"
            )
            create_workgroup(
                session,
                actor=env.admin,
                name="bench",
                max_rows=None,
                max_result_bytes=None,
                timeout_seconds=600,
            )
            token = tokens.create_token(session, actor=env.admin, principal=ADMIN).token
        crawler.crawl(
            env.hub,
            actor=env.admin,
            uri=str(root / "lake" / "sales" / "bench"),
            domain="sales",
            database="bench",
        )
        small = f"SELECT id, amount, name, day FROM {TABLE} WHERE id = 42"
        large = f"SELECT id, amount, name, day FROM {TABLE}"
        raw = duckdb.connect()
        raw_small = small.replace(TABLE, f"read_parquet('{path}')")
        raw_large = large.replace(TABLE, f"read_parquet('{path}')")
        with serve_api(env.hub) as url, serve_pgwire(env.hub) as pg:
            client = Client.connect(url, token=token)
            dsn = (
                f"host={pg.host} port={pg.port} user=sam@sales password={token} dbname=sales "
                "sslmode=disable options='-c workgroup=bench'"
            )
            with psycopg.connect(dsn, autocommit=True) as connection:

                def psycopg_fetch(sql: str, binary: bool, one: bool) -> object:
                    cursor = connection.cursor(binary=binary)
                    cursor.execute(sql)
                    return cursor.fetchone() if one else cursor.fetchall()

                figures: dict[str, tuple[float, float]] = {}
                ways: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
                    "raw DuckDB (Arrow)": (
                        lambda: raw.execute(raw_small).fetchone(),
                        lambda: raw.execute(raw_large).to_arrow_table(),
                    ),
                    "SDK (Arrow over HTTP)": (
                        lambda: client.query(small, workgroup="bench"),
                        lambda: client.query(large, workgroup="bench"),
                    ),
                    "psycopg, text": (
                        lambda: psycopg_fetch(small, False, True),
                        lambda: psycopg_fetch(large, False, False),
                    ),
                    "psycopg, binary": (
                        lambda: psycopg_fetch(small, True, True),
                        lambda: psycopg_fetch(large, True, False),
                    ),
                }
                firsts: dict[str, float] = {}
                for name, (first_row, _) in ways.items():
                    first_row()  # warm: worker processes, caches, the connection
                    firsts[name] = median_seconds(first_row, args.runs)
                for name, (_, everything) in ways.items():
                    rate = args.rows / median_seconds(everything, max(1, args.runs // 2))
                    figures[name] = (firsts[name], rate)
            client.close()
        env.hub.close()

    floor_first, floor_rate = figures["raw DuckDB (Arrow)"]
    sdk_first, sdk_rate = figures["SDK (Arrow over HTTP)"]
    print(f"{args.rows:,} rows; medians of {args.runs} runs")
    print(f"{'':24} {'first row':>10} {'x DuckDB':>9} {'x SDK':>6}   {'rows/s':>11} "
          f"{'DuckDB/':>8} {'SDK/':>6}")  # fmt: skip
    for name, (first, rate) in figures.items():
        print(
            f"{name:24} {first * 1000:8.1f}ms {first / floor_first:8.1f}x "
            f"{first / sdk_first:5.1f}x   {rate:11,.0f} {floor_rate / rate:7.1f}x "
            f"{sdk_rate / rate:5.1f}x"
        )
    print("x DuckDB, x SDK: times the first row takes; DuckDB/, SDK/: times fewer rows per second")


if __name__ == "__main__":
    main()
