"""The NimbusCart demo data: layout, determinism, consistency, reuse and atomic writes."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from lakemesh.demo.data import (
    CONSUMER_DOMAINS,
    LAYOUT,
    MANIFEST_NAME,
    PRODUCER_DOMAINS,
    REGIONS,
    generate_nimbuscart,
)
from lakemesh.demo.reference import COUNTRIES
from lakemesh.errors import ConflictError, InvalidInputError, StorageError

SMALL = 3_000
TABLES = [
    (domain, database, table)
    for domain, databases in LAYOUT.items()
    for database, tables in databases.items()
    for table in tables
]


@dataclass
class Generation:
    root: Path
    layout: dict[str, dict[str, Path]]
    messages: list[str]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Generation:
    """One small generation shared by the read-only tests."""
    root = tmp_path_factory.mktemp("small") / "nimbuscart"
    messages: list[str] = []
    layout = generate_nimbuscart(root, seed=7, orders=SMALL, progress=messages.append)
    return Generation(root, layout, messages)


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB with one view per table, named after the table."""
    connection = duckdb.connect()
    for domain, database, table in TABLES:
        folder = root / domain / database / table
        pattern = f"{folder}/*/*.parquet" if table == "orders" else f"{folder}/*.parquet"
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * FROM "
            f"read_parquet('{pattern}', hive_partitioning = {table == 'orders'})"
        )
    return connection


def count(connection: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single integer a ``SELECT count(...)`` returns."""
    row = connection.execute(sql).fetchone()
    assert row is not None
    assert isinstance(row[0], int)
    return row[0]


def test_layout_is_one_folder_per_table_under_each_database(small: Generation) -> None:
    assert set(small.layout) == set(PRODUCER_DOMAINS)
    assert not set(CONSUMER_DOMAINS) & {path.name for path in small.root.iterdir()}
    for domain, databases in LAYOUT.items():
        assert set(small.layout[domain]) == set(databases)
        for database, tables in databases.items():
            folder = small.layout[domain][database]
            assert folder == small.root / domain / database
            assert sorted(path.name for path in folder.iterdir()) == sorted(tables)
    manifest = json.loads((small.root / MANIFEST_NAME).read_text())
    assert MANIFEST_NAME.startswith("_")
    assert manifest["seed"] == 7
    assert manifest["orders"] == SMALL
    assert manifest["tables"]["sales.crm.orders"] == SMALL


def test_progress_reports_one_message_per_table(small: Generation) -> None:
    assert len(small.messages) == len(TABLES)
    reported = {message.split(":")[0] for message in small.messages}
    assert reported == {".".join(name) for name in TABLES}
    assert f"sales.crm.orders: {SMALL:,} rows" in small.messages


def test_row_counts_are_the_documented_sizes(small: Generation) -> None:
    connection = connect(small.root)
    counts = {table: count(connection, f"SELECT count(*) FROM {table}") for _, _, table in TABLES}
    assert counts["customers"] == 50_000
    assert counts["stores"] == 200
    assert counts["orders"] == SMALL
    assert counts["leads"] == 100_000
    assert counts["salaries"] == 2_000
    manifest = json.loads((small.root / MANIFEST_NAME).read_text())
    assert manifest["tables"] == {".".join(name): counts[name[2]] for name in TABLES}


def test_same_seed_gives_byte_identical_files(small: Generation, tmp_path: Path) -> None:
    again = generate_nimbuscart(tmp_path / "again", seed=7, orders=SMALL)
    assert again["sales"]["crm"] == tmp_path / "again" / "sales" / "crm"
    assert file_hashes(tmp_path / "again") == file_hashes(small.root)

    generate_nimbuscart(tmp_path / "other", seed=8, orders=SMALL)
    seven, eight = file_hashes(small.root), file_hashes(tmp_path / "other")
    common = [path for path in set(seven) & set(eight) if path.endswith(".parquet")]
    assert len(common) > 300
    assert all(seven[path] != eight[path] for path in common)


def test_orders_reference_existing_customers_stores_and_products(small: Generation) -> None:
    connection = connect(small.root)
    orphans = {
        "customer": "SELECT count(*) FROM orders ANTI JOIN customers USING (customer_id)",
        "store": "SELECT count(*) FROM orders ANTI JOIN stores USING (store_id)",
        "product": "SELECT count(*) FROM orders ANTI JOIN products USING (product_id)",
        "shipment": "SELECT count(*) FROM shipments ANTI JOIN orders USING (order_id)",
        "invoice": "SELECT count(*) FROM invoices ANTI JOIN orders USING (order_id)",
        "lead": "SELECT count(*) FROM leads ANTI JOIN campaigns USING (campaign_id)",
        "stock store": "SELECT count(*) FROM inventory ANTI JOIN stores USING (store_id)",
        "stock product": "SELECT count(*) FROM inventory ANTI JOIN products USING (product_id)",
    }
    assert {name: count(connection, sql) for name, sql in orphans.items()} == dict.fromkeys(
        orphans, 0
    )
    assert count(connection, "SELECT count(DISTINCT order_id) FROM orders") == SMALL


def test_orders_agree_with_their_customer_store_invoice_and_shipment(small: Generation) -> None:
    connection = connect(small.root)
    mismatches = {
        "ordered before sign-up": """SELECT count(*) FROM orders o JOIN customers c
            USING (customer_id) WHERE o.order_date < c.signup_date""",
        "region differs from customer": """SELECT count(*) FROM orders o JOIN customers c
            USING (customer_id) WHERE o.region <> c.region""",
        "store in another country": """SELECT count(*) FROM orders o JOIN customers c
            USING (customer_id) JOIN stores s USING (store_id) WHERE s.country <> c.country""",
        "amount is not quantity x price": """SELECT count(*) FROM orders
            WHERE amount <> quantity * unit_price""",
        "invoice differs from order": """SELECT count(*) FROM invoices i JOIN orders o
            USING (order_id) WHERE i.amount <> o.amount OR i.customer_id <> o.customer_id
            OR i.currency <> o.currency OR i.issued_on <> o.order_date""",
        "cancelled order invoiced": """SELECT count(*) FROM invoices JOIN orders
            USING (order_id) WHERE status = 'cancelled'""",
        "shipment of an in-store order": """SELECT count(*) FROM shipments JOIN orders
            USING (order_id) WHERE channel = 'store'""",
        "delivered before shipped": """SELECT count(*) FROM shipments
            WHERE delivered_at <= shipped_at""",
        "lead outside its campaign": """SELECT count(*) FROM leads l JOIN campaigns c
            USING (campaign_id) WHERE CAST(l.created_at AS DATE) NOT BETWEEN c.start_date
            AND c.end_date OR l.region <> c.region""",
    }
    assert {name: count(connection, sql) for name, sql in mismatches.items()} == dict.fromkeys(
        mismatches, 0
    )
    invoiced = count(connection, "SELECT count(*) FROM orders WHERE status <> 'cancelled'")
    assert count(connection, "SELECT count(*) FROM invoices") == invoiced


def test_partition_folders_are_days_of_one_year(small: Generation) -> None:
    folder = small.root / "sales" / "crm" / "orders"
    partitions = sorted(folder.iterdir())
    assert len(partitions) > 300  # 3,000 orders leave few of the 365 days empty
    days = set()
    for partition in partitions:
        match = re.fullmatch(r"order_date=(\d{4}-\d{2}-\d{2})", partition.name)
        assert match, partition.name
        day = date.fromisoformat(match.group(1))
        assert day.year == 2025
        days.add(day)
        files = list(partition.iterdir())
        assert [file.name for file in files] == ["part-00000.parquet"]
        assert "order_date" not in pq.read_schema(files[0]).names
    assert len(days) == len(partitions)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("sales/crm/customers", ["customer_id", "first_name", "last_name", "email", "phone",
                                 "country", "region", "segment", "signup_date"]),
        ("sales/crm/stores", ["store_id", "name", "city", "country", "region", "opened_on"]),
        ("sales/crm/orders", ["order_id", "customer_id", "store_id", "product_id", "quantity",
                              "unit_price", "amount", "currency", "region", "status",
                              "channel"]),
        ("marketing/campaigns/campaigns", ["campaign_id", "name", "channel", "region",
                                           "start_date", "end_date", "budget"]),
        ("marketing/campaigns/leads", ["lead_id", "campaign_id", "email", "phone", "score",
                                       "region", "created_at"]),
        ("supply_chain/logistics/products", ["product_id", "sku", "name", "category",
                                             "unit_cost"]),
        ("supply_chain/logistics/inventory", ["store_id", "product_id", "snapshot_date",
                                              "quantity_on_hand", "region"]),
        ("supply_chain/logistics/shipments", ["shipment_id", "order_id", "carrier",
                                              "shipped_at", "delivered_at", "status",
                                              "region"]),
        ("finance/ledger/invoices", ["invoice_id", "order_id", "customer_id", "amount", "tax",
                                     "currency", "issued_on", "paid", "region"]),
        ("finance/hr/salaries", ["employee_id", "full_name", "department", "region", "salary",
                                 "currency", "hired_on"]),
    ],
)  # fmt: skip
def test_tables_have_the_documented_columns(
    small: Generation, table: str, columns: list[str]
) -> None:
    file = next((small.root / table).rglob("*.parquet"))
    names = pq.read_schema(file).names
    assert [name for name in names if name in columns] == columns


def test_column_types(small: Generation) -> None:
    def types(table: str) -> dict[str, str]:
        file = next((small.root / table).rglob("*.parquet"))
        return {field.name: str(field.type) for field in pq.read_schema(file)}

    customers = types("sales/crm/customers")
    assert customers["customer_id"] == "int64"
    assert customers["signup_date"] == "date32[day]"
    orders = types("sales/crm/orders")
    assert orders["unit_price"] == orders["amount"] == "decimal128(18, 2)"
    assert types("marketing/campaigns/leads")["created_at"] == "timestamp[us]"
    assert types("finance/ledger/invoices")["paid"] == "bool"
    assert types("finance/hr/salaries")["salary"] == "decimal128(18, 2)"


def test_pii_looks_like_contact_details(small: Generation) -> None:
    connection = connect(small.root)
    emails = [row[0] for row in connection.execute("SELECT email FROM customers").fetchall()]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9._]+@example\.(com|org|net)", email) for email in emails)
    phones = connection.execute(
        "SELECT country, phone FROM customers UNION ALL SELECT 'lead', phone FROM leads"
    ).fetchall()
    assert all(re.fullmatch(r"\+\d{1,3}( [0-9-]+)+", phone) for _, phone in phones)
    assert all(phone.startswith("+44 ") for country, phone in phones if country == "GB")
    known = count(
        connection,
        "SELECT count(*) FROM leads l JOIN customers c USING (email) WHERE l.phone = c.phone",
    )
    assert 20_000 < known < 30_000  # about a quarter of leads are customers
    new_emails = connection.execute(
        "SELECT count(*), count(DISTINCT email) FROM leads ANTI JOIN customers USING (email)"
    ).fetchone()
    assert new_emails is not None
    assert new_emails[0] == new_emails[1]


def test_regions_come_from_regions_and_countries_match(small: Generation) -> None:
    connection = connect(small.root)
    for _, _, table in TABLES:
        if table != "products":
            found = {
                row[0]
                for row in connection.execute(f"SELECT DISTINCT region FROM {table}").fetchall()
            }
            assert found <= set(REGIONS), table
    assert {
        row[0] for row in connection.execute("SELECT DISTINCT region FROM customers").fetchall()
    } == set(REGIONS)
    region_of = {country.code: country.region for country in COUNTRIES}
    for table in ("customers", "stores", "salaries"):
        pairs = connection.execute(f"SELECT DISTINCT country, region FROM {table}").fetchall()
        assert all(region_of[country] == region for country, region in pairs), table


def test_reuses_a_complete_generation(small: Generation) -> None:
    before = {path: path.stat().st_mtime_ns for path in small.root.rglob("*.parquet")}
    messages: list[str] = []
    layout = generate_nimbuscart(small.root, seed=7, orders=SMALL, progress=messages.append)
    assert layout == small.layout
    assert len(messages) == 1
    assert messages[0].startswith("reusing NimbusCart demo data")
    assert {path: path.stat().st_mtime_ns for path in small.root.rglob("*.parquet")} == before


def test_replaces_an_earlier_generation_with_other_arguments(tmp_path: Path) -> None:
    root = tmp_path / "nimbuscart"
    generate_nimbuscart(root, orders=500)
    generate_nimbuscart(root, orders=800)
    assert json.loads((root / MANIFEST_NAME).read_text())["orders"] == 800
    orders = count(connect(root), "SELECT count(*) FROM orders")
    assert orders == 800
    assert [path.name for path in tmp_path.iterdir()] == ["nimbuscart"]


def test_refuses_to_replace_a_folder_of_other_content(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(ConflictError, match="Refusing to replace .*holds no NimbusCart demo data"):
        generate_nimbuscart(root, orders=100)
    assert [path.name for path in root.iterdir()] == ["notes.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


class Interrupted(Exception):
    """Stands for a failure half-way through (a full disk, a killed process, Ctrl-C)."""


def interrupt_after(tables: int) -> tuple[list[str], Callable[[str], None]]:
    """A progress callback that fails once ``tables`` tables have been written."""
    messages: list[str] = []

    def progress(message: str) -> None:
        messages.append(message)
        if len(messages) == tables:
            raise Interrupted(message)

    return messages, progress


def test_failure_half_way_leaves_nothing_behind(tmp_path: Path) -> None:
    root = tmp_path / "nimbuscart"
    messages, progress = interrupt_after(4)
    with pytest.raises(Interrupted):
        generate_nimbuscart(root, orders=SMALL, progress=progress)
    assert len(messages) == 4  # four tables were written before the failure
    assert list(tmp_path.iterdir()) == []


def test_failure_half_way_keeps_the_earlier_generation(tmp_path: Path) -> None:
    root = tmp_path / "nimbuscart"
    generate_nimbuscart(root, orders=500)
    before = file_hashes(root)
    _, progress = interrupt_after(6)
    with pytest.raises(Interrupted):
        generate_nimbuscart(root, orders=900, progress=progress)
    assert file_hashes(root) == before
    assert [path.name for path in tmp_path.iterdir()] == ["nimbuscart"]


def test_unwritable_location_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StorageError, match="Cannot write the NimbusCart demo data to"):
        generate_nimbuscart(blocker / "nimbuscart", orders=100)
    assert [path.name for path in tmp_path.iterdir()] == ["not-a-folder"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"orders": 0}, "Invalid orders .*: 0"),
        ({"orders": -5}, "Invalid orders"),
        ({"orders": 1.5}, "Invalid orders"),
        ({"orders": True}, "Invalid orders"),
        ({"seed": -1}, "Invalid seed .*: -1 \\(expected an integer >= 0\\)"),
        ({"seed": "7"}, "Invalid seed"),
    ],
)
def test_invalid_arguments_are_rejected_before_writing(
    tmp_path: Path, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        generate_nimbuscart(tmp_path / "nimbuscart", **arguments)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_default_size_is_a_million_orders(tmp_path: Path) -> None:
    started = time.perf_counter()
    generate_nimbuscart(tmp_path / "nimbuscart")
    elapsed = time.perf_counter() - started
    connection = connect(tmp_path / "nimbuscart")
    orders = count(connection, "SELECT count(*) FROM orders")
    days = count(connection, "SELECT count(DISTINCT order_date) FROM orders")
    print(f"\nNimbusCart default generation: {elapsed:.1f} s for {orders:,} orders")
    assert orders >= 1_000_000
    assert days == 365
