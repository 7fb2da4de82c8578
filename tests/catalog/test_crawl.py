"""Discovery on real files: formats, hive partitions, schema merging, layout and file errors."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake
from pyiceberg.catalog.sql import SqlCatalog

from lakemesh.catalog.crawl import DiscoveredColumn, DiscoveredTable, discover_tables
from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.storage import AVAILABLE_BACKENDS, StorageBackend
from tests.factories.lake import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An empty folder to write tables into."""
    return Lake(tmp_path / "lake")


def columns(*pairs: tuple[str, str]) -> tuple[DiscoveredColumn, ...]:
    return tuple(DiscoveredColumn(name, type_name) for name, type_name in pairs)


def only_table(uri: str) -> DiscoveredTable:
    tables = discover_tables(uri)
    assert len(tables) == 1, tables
    return tables[0]


# Formats


def test_parquet_table(lake: Lake) -> None:
    data = {
        "id": pa.array([1, 2], pa.int64()),
        "quantity": pa.array([3, 4], pa.int32()),
        "amount": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(12, 2)),
        "price": [0.5, 1.5],
        "name": ["a", "b"],
        "paid": [True, False],
        "day": [datetime.date(2024, 1, 1), None],
        "at": pa.array([1, 2], pa.timestamp("us")),
    }
    first = lake.parquet("orders/part-0.parquet", data)
    second = lake.parquet("orders/part-1.parquet", data)
    assert discover_tables(lake.uri) == [
        DiscoveredTable(
            name="orders",
            location=lake.uri_of("orders"),
            format="parquet",
            columns=columns(
                ("id", "BIGINT"),
                ("quantity", "INTEGER"),
                ("amount", "DECIMAL(12,2)"),
                ("price", "DOUBLE"),
                ("name", "VARCHAR"),
                ("paid", "BOOLEAN"),
                ("day", "DATE"),
                ("at", "TIMESTAMP"),
            ),
            partition_columns=(),
            file_count=2,
            total_bytes=first.stat().st_size + second.stat().st_size,
        )
    ]


def test_csv_table(lake: Lake) -> None:
    lake.csv("customers/a.csv", "id,email,since,score\n1,a@x.io,2024-01-01,0.5\n")
    lake.csv("customers/b.csv.gz", {"id": [2], "email": ["b@x.io"], "score": [1.0]})
    table = only_table(lake.uri)
    assert (table.name, table.format, table.file_count) == ("customers", "csv", 2)
    assert table.columns == columns(
        ("id", "BIGINT"), ("email", "VARCHAR"), ("since", "DATE"), ("score", "DOUBLE")
    )


@pytest.mark.parametrize("extension", [".json", ".jsonl", ".ndjson"])
def test_json_lines_table(lake: Lake, extension: str) -> None:
    lake.jsonl(
        f"events/a{extension}",
        [{"id": 1, "kind": "click", "tags": ["x"], "device": {"os": "linux", "version": 2}}],
    )
    table = only_table(lake.uri)
    assert (table.name, table.format) == ("events", "json")
    assert table.columns == columns(
        ("id", "BIGINT"),
        ("kind", "VARCHAR"),
        ("tags", "VARCHAR[]"),
        ("device", 'STRUCT(os VARCHAR, "version" BIGINT)'),
    )


def test_empty_text_files_add_no_columns(lake: Lake) -> None:
    lake.raw("orders/empty.csv", b"")
    lake.csv("orders/a.csv", {"id": [1]})
    assert only_table(lake.uri).columns == columns(("id", "BIGINT"))


def test_a_table_of_only_empty_files_is_refused(lake: Lake) -> None:
    lake.raw("orders/empty.csv", b"")
    with pytest.raises(
        InvalidInputError, match=f"Table folder has no columns: {lake.uri_of('orders')}"
    ):
        discover_tables(lake.uri)


# Hive partitions


def test_hive_partitions_are_typed_in_path_order(lake: Lake) -> None:
    for day in ("2024-01-01", "2024-01-02"):
        for region in ("eu", "us"):
            for hour in (0, 13):
                lake.parquet(f"sales/day={day}/region={region}/hour={hour}/p.parquet", {"v": [1]})
    table = only_table(lake.uri)
    assert table.partition_columns == columns(
        ("day", "DATE"), ("region", "VARCHAR"), ("hour", "BIGINT")
    )
    assert table.columns == columns(("v", "BIGINT"))
    assert table.file_count == 8


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2", "10"], "BIGINT"),
        (["1", "2.5"], "DOUBLE"),
        (["2024-01-01", "2024-02-29"], "DATE"),
        (["2024-01-01", "2024-01-01 10%3A00%3A00"], "TIMESTAMP"),
        (["1", "__HIVE_DEFAULT_PARTITION__"], "BIGINT"),
        (["__HIVE_DEFAULT_PARTITION__"], "VARCHAR"),
        (["1", "one"], "VARCHAR"),
        (["2024-01-01", "7"], "VARCHAR"),
    ],
)
def test_partition_type_is_the_narrowest_over_all_values(
    lake: Lake, values: list[str], expected: str
) -> None:
    for i, value in enumerate(values):
        lake.parquet(f"t/k={value}/part-{i}.parquet", {"v": [i]})
    assert only_table(lake.uri).partition_columns == columns(("k", expected))


def test_a_partition_key_replaces_a_file_column_of_the_same_name(lake: Lake) -> None:
    lake.parquet("t/k=1/a.parquet", {"k": ["stale"], "v": [1]})
    table = only_table(lake.uri)
    assert table.columns == columns(("v", "BIGINT"))
    assert table.partition_columns == columns(("k", "BIGINT"))


def test_a_folder_of_partitions_is_itself_a_table(lake: Lake) -> None:
    lake.parquet("day=2024-01-01/a.parquet", {"v": [1]})
    lake.parquet("day=2024-01-02/a.parquet", {"v": [2]})
    table = only_table(lake.uri)
    assert (table.name, table.location) == ("lake", lake.uri)
    assert table.partition_columns == columns(("day", "DATE"))


def test_inconsistent_partition_keys_name_the_files(lake: Lake) -> None:
    lake.parquet("t/day=1/a.parquet", {"v": [1]})
    lake.parquet("t/day=2/hour=3/b.parquet", {"v": [1]})
    first, second = lake.uri_of("t/day=1/a.parquet"), lake.uri_of("t/day=2/hour=3/b.parquet")
    with pytest.raises(
        InvalidInputError,
        match=rf"Inconsistent partition keys in table folder .*: {first} has \(day\), "
        rf"{second} has \(day, hour\)",
    ):
        discover_tables(lake.uri)


def test_files_beside_partition_folders_are_inconsistent(lake: Lake) -> None:
    lake.parquet("t/a.parquet", {"v": [1]})
    lake.parquet("t/day=2/b.parquet", {"v": [1]})
    with pytest.raises(InvalidInputError, match=r"t/a.parquet has \(\), .* has \(day\)"):
        discover_tables(lake.uri)


def test_a_folder_that_is_not_a_partition_is_named(lake: Lake) -> None:
    lake.parquet("t/2024/01/a.parquet", {"v": [1]})
    with pytest.raises(
        InvalidInputError,
        match=f"Folder is not a hive partition \\(expected KEY=VALUE\\): {lake.uri_of('t/2024')}$",
    ):
        discover_tables(lake.uri)


def test_a_repeated_partition_key_is_refused(lake: Lake) -> None:
    lake.parquet("t/k=1/k=2/a.parquet", {"v": [1]})
    with pytest.raises(InvalidInputError, match="Partition key repeated in path: .*k=1/k=2/a"):
        discover_tables(lake.uri)


# Several tables, names, layout


def test_each_sub_folder_is_a_table_sorted_by_name(lake: Lake) -> None:
    lake.parquet("Orders/a.parquet", {"id": [1]})
    lake.csv("order-items/a.csv", {"order_id": [1], "sku": ["x"]})
    lake.jsonl("events/a.jsonl", [{"kind": "click"}])
    tables = discover_tables(lake.uri + "/")
    assert [(t.name, t.format, t.location) for t in tables] == [
        ("events", "json", lake.uri_of("events")),
        ("order_items", "csv", lake.uri_of("order-items")),
        ("orders", "parquet", lake.uri_of("Orders")),
    ]


def test_a_folder_of_files_is_one_table_named_after_it(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": [1]})
    table = only_table(str(lake.root / "orders"))
    assert (table.name, table.location) == ("orders", lake.uri_of("orders"))


@pytest.mark.parametrize("folder", ["my table", "1orders", "orders.v2", "état"])
def test_bad_folder_names_are_named(lake: Lake, folder: str) -> None:
    lake.parquet(f"{folder}/a.parquet", {"id": [1]})
    lake.parquet("good/a.parquet", {"id": [1]})
    with pytest.raises(
        InvalidInputError, match=f"Invalid table folder name: '{folder}' at {lake.uri_of(folder)}"
    ):
        discover_tables(lake.uri)


def test_two_folders_making_one_table_name_are_refused(lake: Lake) -> None:
    lake.parquet("order-items/a.parquet", {"id": [1]})
    lake.parquet("order_items/a.parquet", {"id": [1]})
    with pytest.raises(InvalidInputError, match="both make table name 'order_items'"):
        discover_tables(lake.uri)


def test_files_beside_table_folders_are_refused(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": [1]})
    lake.parquet("stray.parquet", {"id": [1]})
    with pytest.raises(
        InvalidInputError, match=f"Folder mixes data files and table folders: {lake.uri} "
    ):
        discover_tables(lake.uri)


def test_partition_folders_beside_table_folders_are_refused(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": [1]})
    lake.parquet("day=1/a.parquet", {"id": [1]})
    with pytest.raises(InvalidInputError, match=r"mixes partition folders and table folders"):
        discover_tables(lake.uri)


def test_a_table_folder_mixing_formats_is_named(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": [1]})
    lake.csv("orders/b.csv", {"id": [1]})
    with pytest.raises(
        InvalidInputError,
        match=rf"Table folder mixes file formats \(csv, parquet\): {lake.uri_of('orders')}$",
    ):
        discover_tables(lake.uri)


def test_an_unknown_file_is_named(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": [1]})
    lake.raw("orders/README.md", b"# orders")
    with pytest.raises(
        InvalidInputError, match=f"Not a data file: {lake.uri_of('orders/README.md')} "
    ):
        discover_tables(lake.uri)


def test_hidden_files_and_folders_are_skipped(lake: Lake) -> None:
    lake.parquet("orders/day=1/part-0.parquet", {"id": [1]})
    lake.raw("orders/_SUCCESS", b"")
    lake.raw("orders/day=1/.part-0.parquet.crc", b"\x00garbage")
    lake.raw("orders/_temporary/0/part-9.parquet", b"garbage")
    lake.raw("orders/.day=2/part-0.parquet", b"garbage")
    lake.raw("orders/_day=3/part-0.csv", b"x")
    lake.raw("_staging/a.parquet", b"garbage")
    lake.raw(".git/config", b"[core]")
    lake.raw(".DS_Store", b"\x00")
    table = only_table(lake.uri)
    assert (table.name, table.file_count) == ("orders", 1)
    assert table.partition_columns == columns(("day", "BIGINT"))


def test_an_empty_folder_has_no_tables(lake: Lake) -> None:
    assert discover_tables(lake.uri) == []


def test_empty_and_hidden_only_sub_folders_are_not_tables(lake: Lake) -> None:
    lake.folder("empty")
    lake.raw("hidden_only/_SUCCESS", b"")
    lake.parquet("orders/a.parquet", {"id": [1]})
    assert [table.name for table in discover_tables(lake.uri)] == ["orders"]


def test_a_missing_folder_is_a_storage_error(lake: Lake) -> None:
    with pytest.raises(
        StorageError, match=f"Storage location does not exist: {lake.uri_of('nowhere')}$"
    ):
        discover_tables(lake.uri_of("nowhere"))


def test_a_file_is_not_a_folder(lake: Lake) -> None:
    lake.parquet("a.parquet", {"id": [1]})
    with pytest.raises(StorageError, match=f"Not a folder: {lake.uri_of('a.parquet')}$"):
        discover_tables(lake.uri_of("a.parquet"))


# Corrupt files


@pytest.mark.parametrize(
    ("relative", "content", "kind"),
    [
        ("orders/day=2/part-1.parquet", b"PAR1 this is garbage, not parquet", "Parquet"),
        ("orders/day=2/part-1.parquet", b"", "Parquet"),
    ],
)
def test_a_corrupt_file_fails_the_crawl_naming_it(
    lake: Lake, relative: str, content: bytes, kind: str
) -> None:
    lake.parquet("customers/a.parquet", {"id": [1]})
    lake.parquet("orders/day=1/part-0.parquet", {"id": [1]})
    lake.raw(relative, content)
    with pytest.raises(StorageError, match=f"Cannot read {kind} file {lake.uri_of(relative)}: "):
        discover_tables(lake.uri)


def test_a_truncated_parquet_file_fails_the_crawl_naming_it(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": list(range(100))})
    lake.truncated_parquet("orders/b.parquet", {"id": list(range(1000))})
    with pytest.raises(
        StorageError, match=f"Cannot read Parquet file {lake.uri_of('orders/b.parquet')}: "
    ):
        discover_tables(lake.uri)


def test_corrupt_csv_and_json_lines_are_named(lake: Lake) -> None:
    lake.jsonl("events/a.jsonl", [{"id": 1}])
    lake.raw("events/b.jsonl", b'{"id": 2}\n{"id": \n')
    with pytest.raises(
        StorageError, match=f"Cannot read JSON-lines file {lake.uri_of('events/b.jsonl')}: "
    ):
        discover_tables(lake.uri)


def test_with_many_corrupt_files_the_first_by_path_is_named(lake: Lake) -> None:
    for i in range(40):
        lake.parquet(f"t/k={i:02d}/a.parquet", {"v": [i]})
    for i in (7, 23, 31):
        lake.raw(f"t/k={i:02d}/a.parquet", b"garbage")
    for _ in range(3):
        with pytest.raises(StorageError, match="k=07/a.parquet"):
            discover_tables(lake.uri)


# Schema merging


def test_compatible_schemas_merge_by_name_with_widened_types(lake: Lake) -> None:
    lake.parquet(
        "orders/a.parquet",
        {"id": pa.array([1], pa.int32()), "day": pa.array([datetime.date(2024, 1, 1)])},
    )
    lake.parquet(
        "orders/b.parquet",
        {
            "ID": pa.array([2], pa.int64()),
            "note": ["late"],
            "day": pa.array([1], pa.timestamp("us")),
        },
    )
    lake.parquet("orders/c.parquet", {"amount": pa.array([1.5], pa.float32()), "id": [3]})
    assert only_table(lake.uri).columns == columns(
        ("id", "BIGINT"), ("day", "TIMESTAMP"), ("note", "VARCHAR"), ("amount", "FLOAT")
    )


def test_json_lines_values_of_mixed_types_merge_into_json(lake: Lake) -> None:
    lake.jsonl("events/a.jsonl", [{"id": 1, "payload": "text"}])
    lake.jsonl("events/b.jsonl", [{"id": 2, "payload": None}])
    assert only_table(lake.uri).columns == columns(("id", "BIGINT"), ("payload", "JSON"))


def test_incompatible_types_name_the_column_and_two_files(lake: Lake) -> None:
    lake.parquet("orders/a.parquet", {"id": [1], "amount": [1.5]})
    lake.parquet("orders/b.parquet", {"id": [2], "amount": [2.5]})
    lake.parquet("orders/c.parquet", {"id": [3], "amount": ["3.5"]})
    with pytest.raises(
        InvalidInputError,
        match=(
            f"Incompatible types for column 'amount' in table folder {lake.uri_of('orders')}: "
            f"DOUBLE in {lake.uri_of('orders/a.parquet')}, "
            f"VARCHAR in {lake.uri_of('orders/c.parquet')}$"
        ),
    ):
        discover_tables(lake.uri)


# Progress and scale


def test_progress_counts_every_data_file(lake: Lake) -> None:
    for i in range(25):
        lake.parquet(f"a/k={i}/p.parquet", {"v": [i]})
    lake.csv("b/x.csv", {"v": [1]})
    calls: list[tuple[int, int]] = []
    discover_tables(lake.uri, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 26)
    assert calls[-1] == (26, 26)
    assert [done for done, _ in calls] == list(range(27))


# A non-local filesystem (the code path S3 takes), on fsspec's in-memory filesystem


class MemoryStorage(StorageBackend):
    """``memory://folder/...`` on fsspec's in-memory filesystem, for tests only."""

    scheme = "memory"

    def normalize(self, uri: str) -> str:
        return "memory://" + "/".join(self.segments(uri))

    def segments(self, uri: str) -> tuple[str, ...]:
        return tuple(part for part in uri.partition("://")[2].split("/") if part)

    def to_path(self, uri: str) -> str:
        return "/" + "/".join(self.segments(uri))

    def to_uri(self, path: str) -> str:
        return self.normalize("memory://" + path)

    def filesystem(self) -> fsspec.AbstractFileSystem:
        return fsspec.filesystem("memory")


@pytest.fixture
def memory_lake(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A ``memory://`` folder, removed afterwards."""
    monkeypatch.setitem(AVAILABLE_BACKENDS, "memory", MemoryStorage)
    root = f"/lake-{uuid.uuid4().hex}"
    filesystem = fsspec.filesystem("memory")
    filesystem.mkdir(root)
    yield f"memory:/{root}"
    filesystem.rm(root, recursive=True)


def test_discovery_through_fsspec(memory_lake: str) -> None:
    filesystem = fsspec.filesystem("memory")
    root = memory_lake.removeprefix("memory:/")
    for day in ("2024-01-01", "2024-01-02"):
        with filesystem.open(f"{root}/orders/day={day}/part-0.parquet", "wb") as handle:
            pq.write_table(pa.table({"id": [1], "amount": [2.5]}), handle)
    filesystem.pipe(f"{root}/customers/a.csv", b"id,email\n1,a@x.io\n")
    filesystem.pipe(f"{root}/customers/_SUCCESS", b"")
    orders, customers = sorted(discover_tables(memory_lake), key=lambda t: t.name, reverse=True)
    assert (orders.location, orders.file_count) == (f"{memory_lake}/orders", 2)
    assert orders.columns == columns(("id", "BIGINT"), ("amount", "DOUBLE"))
    assert orders.partition_columns == columns(("day", "DATE"))
    assert customers.columns == columns(("id", "BIGINT"), ("email", "VARCHAR"))


def test_a_corrupt_file_through_fsspec_is_named(memory_lake: str) -> None:
    filesystem = fsspec.filesystem("memory")
    root = memory_lake.removeprefix("memory:/")
    filesystem.pipe(f"{root}/orders/a.parquet", b"garbage")
    with pytest.raises(
        StorageError, match=f"Cannot read Parquet file {memory_lake}/orders/a.parquet: "
    ):
        discover_tables(memory_lake)


# Nullability


def _not_null(**arrays: pa.Array) -> pa.Table:
    """A table whose fields named with a trailing ``_`` are NOT NULL (the ``_`` dropped)."""
    fields = [
        pa.field(k.rstrip("_"), v.type, nullable=not k.endswith("_")) for k, v in arrays.items()
    ]
    return pa.Table.from_arrays(list(arrays.values()), schema=pa.schema(fields))


def test_a_parquet_field_declared_required_is_not_nullable(lake: Lake) -> None:
    path = lake.parquet(
        "orders/part-0.parquet",
        _not_null(id_=pa.array([1, 2]), note=pa.array(["a", None])),
    )
    assert pq.ParquetFile(path).schema.column(0).max_definition_level == 0  # really required
    table = only_table(lake.uri)
    assert [(c.name, c.nullable) for c in table.columns] == [("id", False), ("note", True)]


def test_a_column_is_not_null_only_where_every_file_says_so(lake: Lake) -> None:
    lake.parquet("t/a.parquet", _not_null(id_=pa.array([1]), qty_=pa.array([1]), x_=pa.array([1])))
    lake.parquet("t/b.parquet", _not_null(id_=pa.array([2]), qty=pa.array([2])))
    lake.parquet("t/c.parquet", _not_null(id_=pa.array([3]), qty_=pa.array([3]), y_=pa.array([3])))
    table = only_table(lake.uri)
    # qty is nullable in b; x is missing from b and c, y from a and b (read as NULL there).
    assert [(c.name, c.nullable) for c in table.columns] == [
        ("id", False),
        ("qty", True),
        ("x", True),
        ("y", True),
    ]


def test_csv_columns_and_hive_partitions_are_nullable(lake: Lake) -> None:
    lake.csv("t/day=2024-01-01/a.csv", "id,name\n1,a\n")
    table = only_table(lake.uri)
    assert all(c.nullable for c in (*table.columns, *table.partition_columns))


def test_delta_and_iceberg_nullability_come_from_their_schemas(lake: Lake, tmp_path: Path) -> None:
    events = _not_null(id_=pa.array([1, 2]), value=pa.array([1.5, None]), day_=pa.array(["a", "b"]))
    write_deltalake(str(lake.root / "delta" / "events"), events, partition_by=["day"])
    catalog = SqlCatalog(
        "test", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=lake.uri_of("warehouse")
    )
    catalog.create_namespace("shop")
    catalog.create_table("shop.orders", schema=events.schema).append(events)
    delta = only_table(lake.uri_of("delta"))
    assert [(c.name, c.nullable) for c in delta.columns] == [("id", False), ("value", True)]
    assert [(c.name, c.nullable) for c in delta.partition_columns] == [("day", False)]
    [iceberg_folder] = [p for p in (lake.root / "warehouse").rglob("orders") if p.is_dir()]
    iceberg = only_table(f"file://{iceberg_folder}")
    assert [(c.name, c.nullable) for c in iceberg.columns] == [
        ("id", False),
        ("value", True),
        ("day", False),
    ]
