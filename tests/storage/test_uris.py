"""URI normalization, containment and the backend registry, on real local folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from lakemesh.errors import InvalidInputError
from lakemesh.storage import (
    backend_for,
    filesystem_for,
    is_within,
    join_uri,
    normalize_uri,
    overlaps,
    scheme_of,
)

HOME = os.path.expanduser("~")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/data/sales", "file:///data/sales"),
        ("/data/sales/", "file:///data/sales"),
        ("/data//sales/./orders/..", "file:///data/sales"),
        ("file:///data/sales/", "file:///data/sales"),
        ("FILE:///data/sales", "file:///data/sales"),
        ("file://localhost/data/sales", "file:///data/sales"),
        ("file:/data/sales", "file:///data/sales"),
        ("  /data/sales  ", "file:///data/sales"),
        ("/", "file:///"),
        ("file:///", "file:///"),
        ("//data", "file:///data"),
        ("~/lake", f"file://{HOME}/lake"),
        ("s3://bucket/sales/", "s3://bucket/sales"),
        ("S3://bucket//sales///orders", "s3://bucket/sales/orders"),
        ("s3a://bucket/sales", "s3://bucket/sales"),
        ("s3n://bucket", "s3://bucket"),
        ("s3://bucket/", "s3://bucket"),
    ],
)
def test_normalize_uri(uri: str, expected: str) -> None:
    assert normalize_uri(uri) == expected
    assert normalize_uri(expected) == expected  # idempotent


def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_uri("lake/sales") == f"file://{tmp_path}/lake/sales"
    assert normalize_uri("./lake/") == f"file://{tmp_path}/lake"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "Invalid local storage URI: ''"),
        ("file://otherhost/data", "Invalid local storage URI: 'file://otherhost/data'"),
        ("file:relative", "expected file:///absolute/path"),
        ("s3://", r"Invalid S3 URI: 's3://' \(no bucket name\)"),
        ("s3://bucket/a/../b", r"'\.' and '\.\.' segments are not allowed"),
        ("gs://bucket/x", r"Unsupported storage URI: 'gs://bucket/x' \(scheme gs:// is not one of"),
        ("hdfs://nn/x", "file://, s3://"),
    ],
)
def test_invalid_uris_are_refused_naming_the_uri(uri: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        normalize_uri(uri)


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [("/x", "file"), ("x/y", "file"), ("file:///x", "file"), ("S3://b", "s3"), ("a:b", "file")],
)
def test_scheme_of(uri: str, scheme: str) -> None:
    assert scheme_of(uri) == scheme


@pytest.mark.parametrize(
    ("child", "parent", "within"),
    [
        ("file:///a/b/c", "file:///a/b", True),
        ("file:///a/b", "file:///a/b", True),
        ("file:///a/b/", "/a/b", True),
        ("/a/b/c/d.parquet", "file:///a/b/", True),
        ("file:///a/bc", "file:///a/b", False),
        ("file:///a/b", "file:///a/bc", False),
        ("file:///a", "file:///a/b", False),
        ("file:///a/b/../c", "file:///a/b", False),
        ("file:///anything", "file:///", True),
        ("s3://bucket/a/b", "s3://bucket/a", True),
        ("s3://bucket/a", "s3://bucket", True),
        ("s3://bucket/ab", "s3://bucket/a", False),
        ("s3://bucket2/a", "s3://bucket", False),
        ("s3a://bucket/a/b", "s3://bucket/a/", True),
        ("s3://bucket/a", "file:///bucket", False),
        ("file:///bucket/a", "s3://bucket", False),
    ],
)
def test_is_within_compares_whole_segments(child: str, parent: str, within: bool) -> None:
    assert is_within(child, parent) is within


def test_overlaps_is_symmetric() -> None:
    assert overlaps("file:///a/b", "file:///a/b/c")
    assert overlaps("file:///a/b/c", "file:///a/b")
    assert not overlaps("file:///a/b", "file:///a/bc")
    assert not overlaps("s3://bucket/a", "s3://bucket/b")


@pytest.mark.parametrize(
    ("base", "parts", "expected"),
    [
        ("file:///a", ("b", "c.parquet"), "file:///a/b/c.parquet"),
        ("/a/", ("b/",), "file:///a/b"),
        ("file:///", ("a",), "file:///a"),
        (
            "s3://bucket/sales/",
            ("orders", "day=2024-01-01"),
            "s3://bucket/sales/orders/day=2024-01-01",
        ),
        ("s3://bucket", (), "s3://bucket"),
    ],
)
def test_join_uri(base: str, parts: tuple[str, ...], expected: str) -> None:
    assert join_uri(base, *parts) == expected


def test_filesystem_for_a_local_folder_reads_and_writes_it(tmp_path: Path) -> None:
    (tmp_path / "sales").mkdir()
    (tmp_path / "sales" / "a.csv").write_text("id\n1\n")
    filesystem, path = filesystem_for(f"file://{tmp_path}/sales/")
    assert isinstance(filesystem, LocalFileSystem)
    assert path == f"{tmp_path}/sales"
    assert filesystem.ls(path, detail=False) == [f"{tmp_path}/sales/a.csv"]
    with filesystem.open(f"{path}/b.csv", "w") as handle:
        handle.write("id\n2\n")
    assert (tmp_path / "sales" / "b.csv").read_text() == "id\n2\n"


def test_plain_paths_and_file_uris_reach_the_same_folder(tmp_path: Path) -> None:
    assert filesystem_for(str(tmp_path))[1] == filesystem_for(f"file://{tmp_path}/")[1]


def test_backend_round_trips_paths_and_uris(tmp_path: Path) -> None:
    local = backend_for(str(tmp_path))
    assert local.to_uri(local.to_path(str(tmp_path))) == f"file://{tmp_path}"
    assert local.segments(f"file://{tmp_path}") == tuple(tmp_path.parts[1:])
    s3 = backend_for("s3://bucket/a/b")
    assert s3.to_path("s3://bucket/a/b/") == "bucket/a/b"
    assert s3.to_uri("bucket/a/b") == "s3://bucket/a/b"
    assert s3.segments("s3://bucket/a/b") == ("bucket", "a", "b")
