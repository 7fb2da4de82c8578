"""Delta tables: the versions in a table's ``_delta_log`` and its current schema.

Each commit ``_delta_log/<version>.json`` holds one action per line; the latest ``metaData``
action gives the schema and partition columns. When older commits were cleaned up after a
checkpoint, the newest checkpoint (``<version>.checkpoint.parquet``) supplies the metadata.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.storage.table_metadata import OpenTable, Snapshot, TypeSpelling, read_text

if TYPE_CHECKING:
    import fsspec

_SPELLING = TypeSpelling(
    "Delta",
    {
        "string": "VARCHAR",
        "long": "BIGINT",
        "integer": "INTEGER",
        "short": "SMALLINT",
        "byte": "TINYINT",
        "float": "FLOAT",
        "double": "DOUBLE",
        "boolean": "BOOLEAN",
        "binary": "BLOB",
        "date": "DATE",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "timestamp_ntz": "TIMESTAMP",
    },
    list_kind="array",
    element="elementType",
    key="keyType",
    value="valueType",
)
_COMMIT = re.compile(r"^(\d{20})\.json$")
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.\d+\.\d+)?\.parquet$")


def duckdb_type(delta_type: Any) -> str:
    """The DuckDB type name of a Delta type (as a table's schema string writes it).

    >>> duckdb_type("long"), duckdb_type("decimal(10,2)")
    ('BIGINT', 'DECIMAL(10,2)')
    >>> duckdb_type({"type": "array", "elementType": "integer", "containsNull": True})
    'INTEGER[]'

    Raises:
        ValueError: a type this reader does not know.
    """
    return _SPELLING.duckdb_type(delta_type)


def describe(
    filesystem: fsspec.AbstractFileSystem, *, root: str, files: Mapping[str, int]
) -> OpenTable:
    """Read the log of the Delta table in folder ``root``.

    Raises:
        StorageError: the log holds no commit.
    """
    log = f"{root.rstrip('/')}/_delta_log"
    commits, checkpoints = _log_files(log, files)
    if not commits and not checkpoints:
        raise StorageError(f"No Delta commit in {log}", details={"folder": log})
    metadata: dict[str, Any] | None = None
    first = min(commits) if commits else max(checkpoints)
    if first > 0 or not commits:
        start = max((v for v in checkpoints if v <= first), default=None)
        if start is not None:
            metadata = _checkpoint_metadata(filesystem, checkpoints[start])
    snapshots: list[Snapshot] = []
    for version in sorted(commits):
        actions = _actions(filesystem, commits[version])
        info: dict[str, Any] = {}
        for action in actions:
            if "metaData" in action:
                metadata = action["metaData"]
            if "commitInfo" in action:
                info = action["commitInfo"]
        snapshots.append(
            Snapshot(
                id=str(version),
                parent_id=str(version - 1) if version > 0 else None,
                sequence=version,
                timestamp_ms=int(info.get("timestamp") or 0),
                operation=str(info.get("operation", "")),
                summary={
                    str(k): v if isinstance(v, str) else json.dumps(v)
                    for k, v in (info.get("operationParameters") or {}).items()
                },
            )
        )
    if metadata is None:
        raise StorageError(f"No Delta table metadata in {log}", details={"folder": log})
    schema = json.loads(metadata["schemaString"])
    partitions = tuple(str(column) for column in metadata.get("partitionColumns") or [])
    columns = tuple(
        (field["name"], duckdb_type(field["type"]), bool(field.get("nullable", True)))
        for field in schema["fields"]
    )
    current = max([*commits, *checkpoints])
    return OpenTable(
        format="delta",
        metadata_path=log,
        columns=columns,
        partition_columns=partitions,
        partition_spec=", ".join(partitions),
        current_snapshot=str(current),
        snapshots=tuple(snapshots),
        properties={"delta.table-id": str(metadata.get("id", ""))},
    )


def _log_files(log: str, files: Mapping[str, int]) -> tuple[dict[int, str], dict[int, str]]:
    """The commits and the checkpoints (one file of each) among ``files`` directly in the folder
    ``log``, by version."""
    commits: dict[int, str] = {}
    checkpoints: dict[int, str] = {}
    for path in files:
        name = path[len(log) + 1 :] if path.startswith(log + "/") else ""
        if match := _COMMIT.match(name):
            commits[int(match.group(1))] = path
        elif match := _CHECKPOINT.match(name):
            checkpoints.setdefault(int(match.group(1)), path)
    return commits, checkpoints


def _actions(filesystem: fsspec.AbstractFileSystem, path: str) -> list[dict[str, Any]]:
    """The actions of one commit file, one JSON document a line."""
    text = read_text(filesystem, path)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _checkpoint_rows(
    filesystem: fsspec.AbstractFileSystem, path: str, columns: list[str] | None = None
) -> list[dict[str, Any]]:
    """The rows of one checkpoint file (of ``columns`` only, when given)."""
    import pyarrow.parquet as pq  # only a checkpoint needs it; a table list reaches this module

    with filesystem.open(path, "rb") as handle:
        rows: list[dict[str, Any]] = pq.read_table(handle, columns=columns).to_pylist()
    return rows


def _checkpoint_metadata(filesystem: fsspec.AbstractFileSystem, path: str) -> dict[str, Any] | None:
    for row in _checkpoint_rows(filesystem, path, columns=["metaData"]):
        if row["metaData"]:
            return dict(row["metaData"])
    return None


UNSUPPORTED_READER_FEATURES = frozenset({"deletionVectors", "columnMapping"})
"""Reader features a reader of plain Parquet files would get wrong (rows deleted in a vector,
columns whose Parquet names are not the table's)."""


def live_files(
    filesystem: fsspec.AbstractFileSystem,
    *,
    root: str,
    files: Mapping[str, int],
    version: int | None = None,
) -> list[str]:
    """The data files of the Delta table in folder ``root`` as of ``version`` (the latest when
    None): the log replayed, ``add`` minus ``remove``, from the newest checkpoint the commits
    before it need. Paths are ``root``-relative paths joined to ``root``.

    Raises:
        StorageError: the version is not in the log, or a file lies outside the table's folder.
        InvalidInputError: the table uses a reader feature plain Parquet reads would get wrong.
    """
    log = f"{root.rstrip('/')}/_delta_log"
    commits, checkpoints = _log_files(log, files)
    target = max([*commits, *checkpoints], default=-1) if version is None else version
    start = 0
    if any(v not in commits for v in range(target + 1)):
        start = max((v for v in checkpoints if v <= target), default=-1) + 1
    if target < 0 or any(v not in commits for v in range(start, target + 1)):
        raise StorageError(
            f"Delta version {target} cannot be read from {log}", details={"folder": log}
        )
    live: dict[str, None] = {}
    actions = _checkpoint_actions(filesystem, checkpoints[start - 1]) if start else []
    for v in range(start, target + 1):
        actions.extend(_actions(filesystem, commits[v]))
    for action in actions:
        _check_readable(action, log)
        if add := action.get("add"):
            live[_member(root, add["path"], log)] = None
        elif remove := action.get("remove"):
            live.pop(_member(root, remove["path"], log), None)
    return list(live)


def _check_readable(action: dict[str, Any], log: str) -> None:
    features = set((action.get("protocol") or {}).get("readerFeatures") or ())
    mode = ((action.get("metaData") or {}).get("configuration") or {}).get(
        "delta.columnMapping.mode", "none"
    )
    if mode != "none":
        features.add("columnMapping")
    if (action.get("add") or {}).get("deletionVector"):
        features.add("deletionVectors")
    unsupported = sorted(features & UNSUPPORTED_READER_FEATURES)
    if unsupported:
        raise InvalidInputError(
            f"Delta table {log.removesuffix('/_delta_log')} uses {', '.join(unsupported)}, "
            "which only a Delta reader applies",
            details={"folder": log, "features": unsupported},
        )


def _member(root: str, relative: str, log: str) -> str:
    """A data file's path in the table's folder (the log's paths are URL-encoded and relative)."""
    path = unquote(relative)
    if "://" in path or path.startswith("/") or ".." in path.split("/"):
        raise StorageError(
            f"Delta log {log} names a data file outside its table: {relative}",
            details={"folder": log, "path": relative},
        )
    return f"{root.rstrip('/')}/{path}"


def _checkpoint_actions(filesystem: fsspec.AbstractFileSystem, path: str) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    for row in _checkpoint_rows(filesystem, path):
        actions.extend({key: value} for key, value in row.items() if value)
    return actions
