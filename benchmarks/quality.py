"""The five library metrics of a data contract on the demo's orders, governed vs raw DuckDB.

The NimbusCart demo (1,000,000 orders by default, partitioned by day; built once and cached
under ``benchmarks/.data/quality/``) gets a contract on ``sales_orders`` with the five ODCS
library metrics (rowCount, nullValues, missingValues, invalidValues, duplicateValues). Timed:

- (a) the one statement lakemesh generates for them, run through the governed gateway
  (``query.service.run``) as ``service:quality@sales``: planning, authorization, the sandboxed
  engine, the history row;
- (b) the same metrics written by hand in raw DuckDB SQL over the same Parquet files, in an
  in-process DuckDB connection with no governance at all;
- ``product check``: the whole ``run_checks`` (the statement above, the results stored, audited).

The ratio (a)/(b) of the medians is printed; target ≤ 1.3.

    .venv/bin/python benchmarks/quality.py [--orders 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lakemesh.contracts import parse_contract
from lakemesh.contracts.metrics import metrics_sql
from lakemesh.demo.mesh import build_demo
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
from lakemesh.identity.tokens import authenticate
from lakemesh.model.permissions import parse_permissions
from lakemesh.quality import quality_principal, run_checks
from lakemesh.query import service
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec

DATA = Path(__file__).resolve().parent / ".data" / "quality"
TABLE = "sales.crm.orders"
CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: urn:nimbuscart:sales:orders:bench
version: 1.2.0
status: active
schema:
  - name: orders
    quality:
      - {metric: rowCount, mustBeGreaterThan: 0}
    properties:
      - name: order_id
        logicalType: integer
        quality:
          - {metric: duplicateValues, mustBe: 0}
      - name: customer_id
        logicalType: integer
        quality:
          - {metric: nullValues, mustBe: 0}
      - name: currency
        logicalType: string
        quality:
          - {metric: missingValues, arguments: {missingValues: [null, '', N/A]}, mustBe: 0}
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [placed, shipped, delivered, returned, cancelled]}
            mustBe: 0
"""
RAW = """
SELECT count(*) AS rows,
       count(order_id) - count(DISTINCT order_id) AS duplicate_order_ids,
       count(*) FILTER (WHERE customer_id IS NULL) AS null_customers,
       count(*) FILTER (WHERE currency IS NULL OR currency IN ('', 'N/A')) AS missing_currency,
       count(*) FILTER (WHERE status IS NOT NULL
                        AND status NOT IN ('placed', 'shipped', 'delivered', 'returned',
                                           'cancelled')) AS invalid_status
FROM read_parquet('{files}', hive_partitioning = true)
"""


def _median(run: Callable[[], object], runs: int) -> tuple[float, object]:
    result = run()  # warm: engine loaded, caches filled, files in the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _prepare(orders: int) -> Hub:
    home = DATA / f"home-{orders}"
    built = build_demo(home, orders=orders, progress=lambda message: print(f"  {message}"))
    hub = Hub.open(home)
    with hub.transaction() as session:
        steward = authenticate(session, built.tokens["steward"])
        principals.create_principal(session, actor=steward, principal=quality_principal("sales"))
        grants.grant(
            session,
            actor=steward,
            grantee=quality_principal("sales"),
            request=GrantRequest(permissions=parse_permissions("SELECT"), on=TABLE),
        )
        products.publish_product(
            session,
            actor=steward,
            spec=ProductSpec(name="sales_orders", domain="sales", contract=CONTRACT),
        )
    hub.caches["steward"] = steward
    return hub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    print(f"building the demo mesh ({arguments.orders:,} orders)")
    hub = _prepare(arguments.orders)
    steward = hub.caches["steward"]
    with hub.read() as session:
        runner = load_actor(session, principals.get_principal(session, quality_principal("sales")))
        row = products.get_product(session, "sales_orders")
        location = row.tables[0].table.location
        types = {c.name: c.type for c in row.tables[0].table.columns}
    rules = [rule for rule in parse_contract(CONTRACT).rules if rule.runnable]
    governed_sql = metrics_sql(TABLE, rules, types)
    files = location.removeprefix("file://") + "/**/*.parquet"
    raw_sql = RAW.format(files=files)
    connection = duckdb.connect()

    governed, governed_result = _median(
        lambda: service.run(hub, actor=runner, sql=governed_sql).result.table.to_pylist(),
        arguments.runs,
    )
    raw, raw_result = _median(lambda: connection.execute(raw_sql).fetchall(), arguments.runs)
    check, run = _median(
        lambda: run_checks(hub, actor=steward, product="sales_orders"), arguments.runs
    )
    hub.close()
    print(f"\nlakemesh statement: {governed_sql}")
    print(f"governed result: {governed_result}")
    print(f"raw result:      {raw_result}")
    assert isinstance(run, dict)
    print(f"product check: {run['status']} ({run['rules_passed']}/{run['rules_total']} passed)")
    print(f"\n(a) governed one-pass metrics, median of {arguments.runs}: {governed * 1000:.0f} ms")
    print(f"(b) raw DuckDB, same metrics by hand:          {raw * 1000:.0f} ms")
    print(f"whole product check (stored, audited):         {check * 1000:.0f} ms")
    print(f"ratio (a)/(b): {governed / raw:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
