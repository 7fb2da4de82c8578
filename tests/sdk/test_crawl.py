"""Crawling through the SDK: NDJSON progress fed to a callback, results, re-crawls, errors."""

from __future__ import annotations

import pytest

from lakemesh.api.schemas.crawls import CrawledTable
from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.sdk import Client
from tests.factories.lake import Lake

DAYS = ("2026-01-01", "2026-01-02", "2026-01-03")


def _orders(lake: Lake, *, with_discount: bool = False) -> None:
    for day in DAYS:
        data: dict[str, list[object]] = {"id": [1, 2], "amount": [9.5, 3.0]}
        if with_discount:
            data["discount"] = [0.1, 0.0]
        lake.parquet(f"orders/day={day}/part-0.parquet", data)


@pytest.fixture
def sales(client: Client, lake: Lake) -> Client:
    """A ``sales`` domain owning the lake's folder."""
    client.create_domain("sales", producer=True)
    client.register_location(lake.uri, domain="sales")
    return client


def test_crawl_reports_progress_and_registers_tables(sales: Client, lake: Lake) -> None:
    _orders(lake)
    lake.parquet("customers/part-0.parquet", {"id": [1], "email": ["a@example.com"]})
    progress: list[tuple[int, int]] = []

    tables = sales.crawl(
        lake.uri, domain="sales", database="shop", progress=lambda d, t: progress.append((d, t))
    )

    assert progress
    assert progress[-1] == (4, 4)
    assert all(total == 4 for _, total in progress)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert all(isinstance(table, CrawledTable) for table in tables)
    by_name = {t.name: t for t in tables}
    assert set(by_name) == {"sales.shop.customers", "sales.shop.orders"}
    assert by_name["sales.shop.orders"].status == "created"
    assert by_name["sales.shop.orders"].files == 3

    orders = sales.get_table("sales.shop.orders")
    assert orders.partition_columns == ["day"]
    assert [(c.name, c.type) for c in orders.columns] == [
        ("id", "BIGINT"),
        ("amount", "DOUBLE"),
        ("day", "DATE"),
    ]
    listed = sales.list_tables(domain="sales", database="shop")
    assert [t.name for t in listed] == ["sales.shop.customers", "sales.shop.orders"]


def test_recrawl_is_idempotent_and_records_schema_changes(sales: Client, lake: Lake) -> None:
    _orders(lake)
    sales.crawl(lake.uri, domain="sales", database="shop")
    again = sales.crawl(lake.uri, domain="sales", database="shop")
    assert [(t.status, t.schema_version) for t in again] == [("unchanged", 1)]

    _orders(lake, with_discount=True)
    changed = sales.crawl(lake.uri, domain="sales", database="shop")
    assert [(t.status, t.schema_version) for t in changed] == [("updated", 2)]
    assert [c["name"] for c in changed[0].changes["added"]] == ["discount"]

    history = sales.table_history("sales.shop.orders")
    assert [v.version for v in history] == [1, 2]


def test_crawl_without_progress_callback(sales: Client, lake: Lake) -> None:
    _orders(lake)
    assert [t.name for t in sales.crawl(lake.uri, domain="sales", database="shop")] == [
        "sales.shop.orders"
    ]


def test_a_corrupt_file_fails_the_crawl_naming_it_and_registers_nothing(
    sales: Client, lake: Lake
) -> None:
    _orders(lake)
    broken = lake.truncated_parquet("orders/day=2026-01-04/part-0.parquet", {"id": [1]})
    with pytest.raises(StorageError, match=broken.name):
        sales.crawl(lake.uri, domain="sales", database="shop", progress=lambda d, t: None)
    assert sales.list_tables(domain="sales") == []


def test_crawl_outside_the_domains_locations_is_refused(client: Client, lake: Lake) -> None:
    client.create_domain("sales")
    _orders(lake)
    with pytest.raises(InvalidInputError, match="is not inside any location registered by"):
        client.crawl(lake.uri, domain="sales", database="shop")


def test_drop_table(sales: Client, lake: Lake) -> None:
    _orders(lake)
    sales.crawl(lake.uri, domain="sales", database="shop")
    sales.drop_table("sales.shop.orders")
    assert sales.list_tables(domain="sales") == []
