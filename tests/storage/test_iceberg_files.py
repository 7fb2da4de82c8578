"""The current metadata file of an Iceberg table folder (``storage.iceberg.current_metadata``):
the version hint when it names a file of the folder, else the highest version."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from lakemesh.errors import StorageError
from lakemesh.storage.iceberg import current_metadata


def current(folder: Path) -> str:
    files = {str(path): 0 for path in folder.rglob("*") if path.is_file()}
    return Path(current_metadata(str(folder), files, fsspec.filesystem("file"))).name


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (None, "v3.metadata.json"),
        ("2\n", "v2.metadata.json"),
        ("7", "v3.metadata.json"),  # a hint naming no file of the folder is passed over
        ("soon", "v3.metadata.json"),
    ],
)
def test_the_version_hint_then_the_highest_version(
    tmp_path: Path, hint: str | None, expected: str
) -> None:
    metadata = tmp_path / "orders" / "metadata"
    metadata.mkdir(parents=True)
    for name in ("v1.metadata.json", "v2.metadata.json", "v3.metadata.json", "snap-1.avro"):
        (metadata / name).write_text("{}")
    if hint is not None:
        (metadata / "version-hint.text").write_text(hint)
    assert current(tmp_path / "orders") == expected


def test_a_folder_without_metadata(tmp_path: Path) -> None:
    (tmp_path / "orders" / "data").mkdir(parents=True)
    with pytest.raises(StorageError, match="No Iceberg metadata file in"):
        current(tmp_path / "orders")
