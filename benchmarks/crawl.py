"""Crawl benchmark: discover one table of N hive partitions holding one small Parquet file each.

The data is built once and cached under ``benchmarks/.data/`` (git-ignored). Prints the time to
list the folder, to read every file's schema, and the total (target: 10,000 partitions in 20 s).

    .venv/bin/python benchmarks/crawl.py [--partitions 10000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakemesh.catalog.crawl import discover_tables

DATA = Path(__file__).resolve().parent / ".data"
TARGET_SECONDS_PER_10K = 20.0


def build(partitions: int) -> Path:
    """``.data/partitions-N/events/k=i/part-0.parquet`` for i < N, built once."""
    root = DATA / f"partitions-{partitions}"
    if (root / "events").is_dir():
        return root
    staging = DATA / f".partitions-{partitions}.building"
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    for k in range(partitions):
        folder = staging / "events" / f"k={k}"
        folder.mkdir(parents=True)
        table = pa.table(
            {
                "id": pa.array([k * 10 + i for i in range(10)], pa.int64()),
                "amount": pa.array([float(i) / 4 for i in range(10)]),
                "label": pa.array([f"row-{i}" for i in range(10)]),
            }
        )
        pq.write_table(table, folder / "part-0.parquet")
    staging.rename(root)
    print(f"built {partitions:,} partitions in {time.perf_counter() - started:.1f} s: {root}")
    return root


def run(root: Path) -> None:
    """Discover the tables under ``root`` once and print the figures."""
    marks: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        marks.setdefault("listed", time.perf_counter())

    started = time.perf_counter()
    tables = discover_tables(str(root), progress=progress)
    finished = time.perf_counter()
    listed = marks.get("listed", finished)
    files = sum(table.file_count for table in tables)
    budget = TARGET_SECONDS_PER_10K * max(files, 1) / 10_000
    print(
        f"{len(tables)} table(s), {files:,} files, "
        f"{sum(len(t.partition_columns) for t in tables)} partition column(s): "
        f"list {listed - started:.2f} s + schemas {finished - listed:.2f} s "
        f"= {finished - started:.2f} s ({files / (finished - started):,.0f} files/s; "
        f"target {budget:.1f} s: {'ok' if finished - started <= budget else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=10_000, help="partitions to crawl")
    parser.add_argument("--repeat", type=int, default=1, help="crawl this many times")
    arguments = parser.parse_args()
    root = build(arguments.partitions)
    for _ in range(arguments.repeat):
        run(root)


if __name__ == "__main__":
    main()
