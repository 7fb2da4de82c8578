"""The live data files of a Delta table, from its log (``storage.delta.live_files``), checked
against deltalake's own reading of the same table: every version, after a checkpoint whose
earlier commits were cleaned up, and the reader features a plain Parquet reader cannot apply."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.storage.delta import describe, live_files


def listing(folder: Path) -> dict[str, int]:
    return {str(path): 0 for path in folder.rglob("*") if path.is_file()}


def files_of(folder: Path, version: int | None = None) -> list[str]:
    return sorted(
        live_files(
            fsspec.filesystem("file"), root=str(folder), files=listing(folder), version=version
        )
    )


def expected(folder: Path, version: int | None = None) -> list[str]:
    table = DeltaTable(str(folder), version=version)
    return sorted(uri.removeprefix("file://") for uri in table.file_uris())


def test_every_version_and_after_a_checkpoint(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    write_deltalake(str(folder), pa.table({"id": [1], "day": ["a b"]}), partition_by=["day"])
    write_deltalake(str(folder), pa.table({"id": [2], "day": ["c"]}), mode="append")
    write_deltalake(str(folder), pa.table({"id": [3], "day": ["d"]}), mode="overwrite")
    for version in (0, 1, 2, None):
        assert files_of(folder, version) == expected(folder, version)
    DeltaTable(str(folder)).create_checkpoint()
    write_deltalake(str(folder), pa.table({"id": [4], "day": ["e"]}), mode="append")
    latest = expected(folder)
    for commit in ("0", "1"):
        (folder / "_delta_log" / f"{int(commit):020d}.json").unlink()
    assert files_of(folder) == latest
    described = describe(fsspec.filesystem("file"), root=str(folder), files=listing(folder))
    assert described.columns == (("id", "BIGINT", True), ("day", "VARCHAR", True))
    assert (described.partition_columns, described.current_snapshot) == (("day",), "3")
    assert [snapshot.id for snapshot in described.snapshots] == ["2", "3"]
    with pytest.raises(StorageError, match="Delta version 0 cannot be read"):
        files_of(folder, 0)


@pytest.mark.parametrize(
    ("action", "feature"),
    [
        ({"protocol": {"minReaderVersion": 3, "readerFeatures": ["deletionVectors"]}}, "deletion"),
        (
            {"metaData": {"configuration": {"delta.columnMapping.mode": "name"}}},
            "columnMapping",
        ),
    ],
)
def test_features_a_parquet_reader_cannot_apply_are_named(
    tmp_path: Path, action: dict[str, object], feature: str
) -> None:
    folder = tmp_path / "t"
    write_deltalake(str(folder), pa.table({"id": [1]}))
    (folder / "_delta_log" / f"{1:020d}.json").write_text(json.dumps(action) + "\n")
    with pytest.raises(InvalidInputError, match=f"Delta table {folder} uses {feature}"):
        files_of(folder)
