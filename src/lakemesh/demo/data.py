"""Generate the NimbusCart demo data: seeded Parquet tables for the retailer's producer domains.

The layout is ``root/<domain>/<database>/<table>/part-00000.parquet``; orders are partitioned as
``orders/order_date=YYYY-MM-DD/``. A crawl of each database folder registers its tables. The same
seed and size always give byte-identical files, and a finished generation is reused.

>>> from pathlib import Path
>>> layout = generate_nimbuscart(Path("/tmp/nimbuscart"), orders=10_000)  # doctest: +SKIP
>>> sorted(layout["sales"])  # doctest: +SKIP
['crm']
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lakemesh.demo import finance, marketing, sales, supply_chain
from lakemesh.demo.reference import REGIONS
from lakemesh.demo.synth import IntArray, table_rng, write_parquet
from lakemesh.errors import ConflictError, InvalidInputError, StorageError

__all__ = [
    "CONSUMER_DOMAINS",
    "DATA_VERSION",
    "LAYOUT",
    "MANIFEST_NAME",
    "PRODUCER_DOMAINS",
    "REGIONS",
    "generate_nimbuscart",
    "read_manifest",
]

PRODUCER_DOMAINS = ("sales", "marketing", "supply_chain", "finance")
CONSUMER_DOMAINS = ("analytics", "data_science")
LAYOUT: dict[str, dict[str, tuple[str, ...]]] = {
    "sales": {"crm": ("customers", "stores", "orders")},
    "marketing": {"campaigns": ("campaigns", "leads")},
    "supply_chain": {"logistics": ("products", "inventory", "shipments")},
    "finance": {"ledger": ("invoices",), "hr": ("salaries",)},
}
"""Which tables each producer domain's databases hold."""

MANIFEST_NAME = "_nimbuscart.json"
GENERATOR = "lakemesh.demo.nimbuscart"
DATA_VERSION = 1
"""Bump whenever the generated data changes, so older generations are not reused."""

YEAR = 2025
CUSTOMERS = 50_000
STORES = 200
PRODUCTS = 600
LEADS = 100_000
EMPLOYEES = 2_000

Progress = Callable[[str], None]


def generate_nimbuscart(
    root: Path,
    *,
    seed: int = 7,
    orders: int = 1_000_000,
    progress: Progress | None = None,
) -> dict[str, dict[str, Path]]:
    """Write the NimbusCart tables under ``root`` (or reuse them) and return the database folders.

    The data is generated in a hidden folder beside ``root`` and renamed into place only when
    complete, so a failure leaves ``root`` as it was. An older generation in ``root`` (another seed,
    size or data version) is replaced; any other content is left alone.

    Args:
        root: Folder to hold ``<domain>/<database>/<table>/``; created if missing.
        seed: Seed of every random draw; the same seed gives byte-identical files.
        orders: Number of order rows, spread over the days of 2025.
        progress: Called with one message per table written (or one when reusing).

    Returns:
        ``{domain: {database: folder}}`` for the producer domains.

    Raises:
        InvalidInputError: ``seed`` or ``orders`` is not a valid number.
        ConflictError: ``root`` holds something other than NimbusCart demo data.
        StorageError: The data could not be written.
    """
    seed, orders = _checked(seed=seed, orders=orders)
    root = Path(root).absolute()
    report = progress or (lambda message: None)
    layout = {
        domain: {database: root / domain / database for database in databases}
        for domain, databases in LAYOUT.items()
    }
    if _is_complete(root, seed=seed, orders=orders):
        report(f"reusing NimbusCart demo data in {root} (seed {seed}, {orders:,} orders)")
        return layout
    _check_replaceable(root)
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".partial", dir=root.parent)
        )
    except OSError as error:
        raise StorageError(
            f"Cannot write the NimbusCart demo data to {root}: {error}", details={"root": str(root)}
        ) from error
    try:
        row_counts = _generate_into(staging, seed=seed, orders=orders, report=report)
        manifest = {
            "generator": GENERATOR,
            "data_version": DATA_VERSION,
            "seed": seed,
            "orders": orders,
            "year": YEAR,
            "tables": row_counts,
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        _move_into_place(staging, root, seed=seed, orders=orders)
    except OSError as error:
        raise StorageError(
            f"Cannot write the NimbusCart demo data to {root}: {error}", details={"root": str(root)}
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return layout


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the generation in ``root``, or None when there is no readable one."""
    try:
        manifest = json.loads((root / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
        return None
    return manifest


def _checked(*, seed: int, orders: int) -> tuple[int, int]:
    """``seed`` and ``orders`` as plain ints, or an error naming the bad one."""
    for name, value, minimum in (("seed", seed, 0), ("orders", orders, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise InvalidInputError(
                f"Invalid {name} for the NimbusCart demo data: {value!r} "
                f"(expected an integer >= {minimum})",
                details={"field": name, "value": repr(value)},
            )
    return int(seed), int(orders)


def _is_complete(root: Path, *, seed: int, orders: int) -> bool:
    manifest = read_manifest(root)
    if manifest is None:
        return False
    same = (
        manifest.get("data_version") == DATA_VERSION
        and manifest.get("seed") == seed
        and manifest.get("orders") == orders
    )
    tables = [
        root / domain / database / table
        for domain, databases in LAYOUT.items()
        for database, names in databases.items()
        for table in names
    ]
    return same and all(folder.is_dir() for folder in tables)


def _check_replaceable(root: Path) -> None:
    """Refuse to replace anything but a missing or empty folder or an earlier generation."""
    if not root.exists() and not root.is_symlink():
        return
    is_folder = root.is_dir() and not root.is_symlink()
    if is_folder and (read_manifest(root) is not None or not any(root.iterdir())):
        return
    raise ConflictError(
        f"Refusing to replace {root}: it exists and holds no NimbusCart demo data",
        details={"root": str(root)},
    )


def _move_into_place(staging: Path, root: Path, *, seed: int, orders: int) -> None:
    """Rename the finished generation to ``root``, retiring an earlier one only once it can."""
    _check_replaceable(root)
    if not root.exists():
        try:
            staging.rename(root)
            return
        except OSError:
            # Someone else finished the same work first; theirs is as good as ours.
            if _is_complete(root, seed=seed, orders=orders):
                return
            raise
    retired = staging.with_name(staging.name + ".old")
    root.rename(retired)
    try:
        staging.rename(root)
    except OSError:
        retired.rename(root)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _generate_into(staging: Path, *, seed: int, orders: int, report: Progress) -> dict[str, int]:
    """Build and write every table into ``staging``; returns rows per ``domain.database.table``."""
    row_counts: dict[str, int] = {}

    def written(
        domain: str, database: str, name: str, table: pa.Table, *, days: IntArray | None = None
    ) -> None:
        folder = staging / domain / database / name
        if days is None:
            write_parquet(table, folder)
        else:
            _write_daily(table, days, folder)
        row_counts[f"{domain}.{database}.{name}"] = table.num_rows
        report(f"{domain}.{database}.{name}: {table.num_rows:,} rows")

    def rng(name: str) -> np.random.Generator:
        return table_rng(seed, name)

    customers = sales.customers(rng("sales.crm.customers"), count=CUSTOMERS, year=YEAR)
    written("sales", "crm", "customers", customers.table)
    stores = sales.stores(rng("sales.crm.stores"), count=STORES, year=YEAR)
    written("sales", "crm", "stores", stores.table)
    products = supply_chain.products(rng("supply_chain.logistics.products"), count=PRODUCTS)
    order_rows = sales.orders(
        rng("sales.crm.orders"),
        count=orders,
        year=YEAR,
        customers=customers,
        stores=stores,
        products=products,
    )
    written("sales", "crm", "orders", order_rows.table, days=order_rows.day)

    campaigns = marketing.campaigns(rng("marketing.campaigns.campaigns"), year=YEAR)
    written("marketing", "campaigns", "campaigns", campaigns.table)
    leads = marketing.leads(
        rng("marketing.campaigns.leads"), count=LEADS, campaigns=campaigns, customers=customers
    )
    written("marketing", "campaigns", "leads", leads)

    written("supply_chain", "logistics", "products", products.table)
    inventory = supply_chain.inventory(
        rng("supply_chain.logistics.inventory"), stores=stores, products=products, year=YEAR
    )
    written("supply_chain", "logistics", "inventory", inventory)
    shipments = supply_chain.shipments(rng("supply_chain.logistics.shipments"), orders=order_rows)
    written("supply_chain", "logistics", "shipments", shipments)

    invoices = finance.invoices(rng("finance.ledger.invoices"), orders=order_rows, year=YEAR)
    written("finance", "ledger", "invoices", invoices)
    salaries = finance.salaries(rng("finance.hr.salaries"), count=EMPLOYEES, year=YEAR)
    written("finance", "hr", "salaries", salaries)
    return row_counts


def _write_daily(table: pa.Table, day: IntArray, folder: Path) -> None:
    """Write rows (sorted by ``day``) as hive partitions ``order_date=YYYY-MM-DD/``."""
    days, starts = np.unique(day, return_index=True)
    ends = np.r_[starts[1:], day.size]
    for value, start, end in zip(days, starts, ends, strict=True):
        label = np.datetime64(int(value), "D")
        write_parquet(table.slice(start, end - start), folder / f"order_date={label}")
