"""Data file formats: recognised by name; schemas read from real files, errors name the file."""

from __future__ import annotations

import fsspec
import pyarrow as pa
import pytest

from lakemesh.errors import StorageError
from lakemesh.storage.formats import SchemaReader, file_format
from lakemesh.storage.partitions import parse_partition, partition_type
from tests.factories.lake import Lake


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("part-00000-1b2c.c000.snappy.parquet", "parquet"),
        ("data.PARQUET", "parquet"),
        ("data.parq", "parquet"),
        ("orders.csv", "csv"),
        ("orders.tsv", "csv"),
        ("orders.csv.gz", "csv"),
        ("events.json", "json"),
        ("events.jsonl", "json"),
        ("events.ndjson.zst", "json"),
        ("data.parquet.gz", None),
        ("README.md", None),
        ("000000_0", None),
    ],
)
def test_file_format(name: str, expected: str | None) -> None:
    assert file_format(name) == expected


def _read(lake: Lake, relative: str, file_format: str) -> tuple[tuple[str, str], ...]:
    """(name, type) of each column; CSV and JSON-lines declare no column NOT NULL."""
    path = lake.root / relative
    with SchemaReader(fsspec.filesystem("file")) as reader:
        schema = reader.read(
            str(path), file_format=file_format, size=path.stat().st_size, uri=lake.uri_of(relative)
        )
    assert all(nullable for _, _, nullable in schema)
    return tuple((name, column_type) for name, column_type, _ in schema)


def test_parquet_required_fields_are_not_nullable(lake: Lake) -> None:
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("note", pa.string())])
    lake.parquet("a.parquet", pa.table({"id": [1], "note": [None]}, schema=schema))
    path = lake.root / "a.parquet"
    with SchemaReader(fsspec.filesystem("file")) as reader:
        found = reader.read(str(path), file_format="parquet", size=1, uri=lake.uri_of("a.parquet"))
    assert found == (("id", "BIGINT", False), ("note", "VARCHAR", True))


def test_csv_schema_is_duckdbs(lake: Lake) -> None:
    lake.csv(
        "a.csv",
        "id,amount,day,name,flag,at\n1,1.50,2024-01-01,x,true,2024-01-01 10:00:00\n",
    )
    assert _read(lake, "a.csv", "csv") == (
        ("id", "BIGINT"),
        ("amount", "DOUBLE"),
        ("day", "DATE"),
        ("name", "VARCHAR"),
        ("flag", "BOOLEAN"),
        ("at", "TIMESTAMP"),
    )


def test_gzipped_csv_is_read(lake: Lake) -> None:
    lake.csv("a.csv.gz", {"id": [1, 2], "name": ["a", "b"]})
    assert _read(lake, "a.csv.gz", "csv") == (("id", "BIGINT"), ("name", "VARCHAR"))


def test_json_lines_schema_is_duckdbs(lake: Lake) -> None:
    lake.jsonl("a.jsonl", [{"id": 1, "tags": ["x"], "address": {"city": "Lyon"}}])
    assert _read(lake, "a.jsonl", "json") == (
        ("id", "BIGINT"),
        ("tags", "VARCHAR[]"),
        ("address", "STRUCT(city VARCHAR)"),
    )


def test_hive_folders_do_not_leak_into_a_file_schema(lake: Lake) -> None:
    lake.csv("t/day=2024-01-01/a.csv", {"id": [1]})
    assert _read(lake, "t/day=2024-01-01/a.csv", "csv") == (("id", "BIGINT"),)


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_an_empty_text_file_has_no_columns(lake: Lake, file_format: str) -> None:
    lake.raw("empty.txt", b"")
    assert _read(lake, "empty.txt", file_format) == ()


@pytest.mark.parametrize(
    ("relative", "content", "file_format", "message"),
    [
        ("bad.parquet", b"this is not parquet at all", "parquet", "Cannot read Parquet file"),
        ("empty.parquet", b"", "parquet", "Cannot read Parquet file"),
        ("bad.jsonl", b'{"a": 1}\nnot json\n', "json", "Cannot read JSON-lines file"),
        ("array.json", b'[{"a": 1},\n {"a": 2}]\n', "json", "Cannot read JSON-lines file"),
        ("bad.csv.gz", b"not gzip", "csv", "Cannot read CSV file"),
    ],
)
def test_unreadable_files_raise_storage_error_naming_the_file(
    lake: Lake, relative: str, content: bytes, file_format: str, message: str
) -> None:
    lake.raw(relative, content)
    with pytest.raises(StorageError, match=f"{message} {lake.uri_of(relative)}: ") as caught:
        _read(lake, relative, file_format)
    assert caught.value.details["file"] == lake.uri_of(relative)


def test_truncated_parquet_raises_storage_error_naming_the_file(lake: Lake) -> None:
    lake.truncated_parquet("cut.parquet", {"id": list(range(1000))})
    with pytest.raises(
        StorageError, match=f"Cannot read Parquet file {lake.uri_of('cut.parquet')}"
    ):
        _read(lake, "cut.parquet", "parquet")


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("day=2024-01-01", ("day", "2024-01-01")),
        ("city=S%C3%A3o%20Paulo", ("city", "São Paulo")),
        ("k=", ("k", "")),
        ("k=a=b", ("k", "a=b")),
        ("k=__HIVE_DEFAULT_PARTITION__", ("k", None)),
        ("=x", None),
        ("2024", None),
    ],
)
def test_parse_partition(folder: str, expected: tuple[str, str | None] | None) -> None:
    assert parse_partition(folder) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "22", "-3"], "BIGINT"),
        (["1", None], "BIGINT"),
        (["1", "2.5"], "DOUBLE"),
        (["1e3", "0.5"], "DOUBLE"),
        (["2024-01-01", "2024-12-31"], "DATE"),
        (["2024-01-01", "2024-01-01 10:00:00"], "TIMESTAMP"),
        (["2024-01-01T10:00:00.123456789"], "TIMESTAMP"),
        (["2024-02-30"], "VARCHAR"),
        (["2024-01-01", "1"], "VARCHAR"),
        (["1", "x"], "VARCHAR"),
        (["99999999999999999999"], "DOUBLE"),
        (["eu", "us"], "VARCHAR"),
        ([None], "VARCHAR"),
        ([], "VARCHAR"),
    ],
)
def test_partition_type(values: list[str | None], expected: str) -> None:
    assert partition_type(values) == expected
