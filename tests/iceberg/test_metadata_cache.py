"""The hub's cache of Iceberg metadata: documents by URI (never stale: Iceberg writes each
version to a new file), bounded; the current file of a crawled table found by listing, trusted
for a few seconds only; a commit through the hub seen at once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from lakemesh.catalog import crawler, locations, tables
from lakemesh.iceberg import metadata
from lakemesh.iceberg.metadata import CACHE, MetadataCache, current_metadata
from lakemesh.model.names import parse_resource
from tests.conftest import make_hub_env

ROWS = pa.table({"id": pa.array([1], pa.int64())})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(metadata.time, "monotonic", fake)
    return fake


def test_documents_are_bounded_least_recently_used_first() -> None:
    cache = MetadataCache(entries=2)
    cache.keep_document("a", {"v": "a"})
    cache.keep_document("b", {"v": "b"})
    assert cache.document("a") == {"v": "a"}  # a is now the most recently used
    cache.keep_document("c", {"v": "c"})
    assert (cache.document("a"), cache.document("b"), cache.document("c")) == (
        {"v": "a"},
        None,
        {"v": "c"},
    )
    assert len(cache) == 2


def test_listings_expire_and_are_forgotten(clock: Clock) -> None:
    cache = MetadataCache(entries=2, listing_seconds=5)
    cache.keep_listed("s3://b/t", "s3://b/t/metadata/1.metadata.json")
    clock.now += 4
    assert cache.listed("s3://b/t") == "s3://b/t/metadata/1.metadata.json"
    clock.now += 2
    assert cache.listed("s3://b/t") is None
    cache.keep_listed("s3://b/t", "s3://b/t/metadata/1.metadata.json")
    cache.forget("s3://b/t")
    assert cache.listed("s3://b/t") is None


def test_an_outside_commit_to_a_crawled_table_shows_within_seconds(
    tmp_path: Path, clock: Clock
) -> None:
    warehouse = tmp_path / "lake"
    writer = SqlCatalog("w", uri=f"sqlite:///{tmp_path / 'c.db'}", warehouse=f"file://{warehouse}")
    writer.create_namespace("shop")
    table = writer.create_table("shop.orders", schema=ROWS.schema)
    table.append(ROWS)
    env = make_hub_env(tmp_path / "home")
    with env.hub.transaction() as session:
        locations.register_location(
            session, actor=env.admin, uri=str(warehouse), domain="governance"
        )
    crawler.crawl(
        env.hub, actor=env.admin, uri=str(warehouse / "shop"), domain="governance", database="shop"
    )

    def current() -> str:
        with env.hub.read() as session:
            row = tables.get_table_row(session, parse_resource("governance.shop.orders"))
            uri, document = current_metadata(session, row)
            assert document["current-snapshot-id"] == table.metadata.current_snapshot_id
            return uri

    try:
        first = current()
        assert CACHE.document(first) is not None
        assert first.endswith(Path(table.metadata_location).name)
        before = table.metadata.current_snapshot_id
        table.append(ROWS)
        table = writer.load_table("shop.orders")
        clock.now += 1
        with env.hub.read() as session:
            row = tables.get_table_row(session, parse_resource("governance.shop.orders"))
            assert current_metadata(session, row)[1]["current-snapshot-id"] == before
        clock.now += metadata.LISTING_SECONDS
        assert current().endswith(Path(table.metadata_location).name)
    finally:
        env.hub.close()
