"""Discovery's layout: a folder listed once (symbolic links set apart, hidden names skipped but a
Delta log) and its files grouped into table folders, with names, formats and hive partition
levels checked. No file is opened here (:mod:`lakemesh.catalog.crawl` reads the schemas)."""

from __future__ import annotations

from dataclasses import dataclass

from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.model.names import check_identifier
from lakemesh.storage import Link, StorageBackend
from lakemesh.storage.formats import FILE_FORMATS, file_format
from lakemesh.storage.open_tables import DELTA_LOG_FOLDER
from lakemesh.storage.partitions import parse_partition
from lakemesh.storage.s3 import describe_s3_error, storage_error

_EXTENSIONS = ", ".join(ext for extensions in FILE_FORMATS.values() for ext in extensions)

Listing = list[tuple[tuple[str, ...], str, int]]
"""Files as (path parts relative to the listed folder, path, size)."""


@dataclass(frozen=True)
class DataFile:
    path: str  # inside the filesystem
    uri: str
    size: int
    format: str
    partition: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class TableFolder:
    name: str
    uri: str
    files: tuple[DataFile, ...]


def list_files(
    backend: StorageBackend, root: str, root_uri: str
) -> tuple[list[tuple[tuple[str, ...], str, int]], list[tuple[tuple[str, ...], Link]]]:
    """Visible files under ``root``: (path parts relative to root, path, size), sorted; and the
    visible symbolic links with their parts."""
    filesystem = backend.filesystem()
    try:
        if not filesystem.isdir(root):
            if filesystem.exists(root):
                raise StorageError(f"Not a folder: {root_uri}", details={"uri": root_uri})
            raise StorageError(
                f"Storage location does not exist: {root_uri}", details={"uri": root_uri}
            )
        filesystem.invalidate_cache(root)
        found = backend.list_files(root)
    except Exception as e:  # OSError, or the S3 client's own (no credentials, no endpoint)
        if not isinstance(e, OSError) and describe_s3_error(e) is None:
            raise
        raise storage_error(e, message=f"Cannot list {root_uri}", details={"uri": root_uri}) from e
    prefix = root.rstrip("/") + "/"

    def visible(path: str) -> tuple[str, ...] | None:
        if not path.startswith(prefix):
            return None
        parts = tuple(path[len(prefix) :].split("/"))
        hidden = [i for i, part in enumerate(parts) if part.startswith((".", "_"))]
        if not hidden:
            return parts
        # A Delta table's log is the one hidden folder read (of the folder or a table in it).
        (first, *others) = hidden
        in_log = parts[first] == DELTA_LOG_FOLDER and first <= 1 and first < len(parts) - 1
        return parts if in_log and not others else None

    listing = [
        (parts, path, size)
        for path, size in found.files.items()
        if (parts := visible(path)) is not None
    ]
    links = [(parts, link) for link in found.links if (parts := visible(link.path)) is not None]
    return sorted(listing), sorted(links, key=lambda pair: pair[0])


def table_folders(
    root_uri: str, root_name: str, listing: list[tuple[tuple[str, ...], str, int]]
) -> list[TableFolder]:
    """Group the listing into table folders, checking names, formats and partition layout."""
    if not listing:
        return []
    base = root_uri.rstrip("/")
    top_files = [parts for parts, _, _ in listing if len(parts) == 1]
    top_folders = sorted({parts[0] for parts, _, _ in listing if len(parts) > 1})
    partition_folders = [name for name in top_folders if parse_partition(name) is not None]
    if not top_folders or len(partition_folders) == len(top_folders):
        return [table_folder(root_name, root_uri, listing)]
    if top_files:
        raise InvalidInputError(
            f"Folder mixes data files and table folders: {root_uri} (file {base}/{top_files[0][0]}"
            f" next to folder {top_folders[0]}/); put each table's files in its own folder",
            details={"uri": root_uri},
        )
    if partition_folders:
        other = next(name for name in top_folders if name not in partition_folders)
        raise InvalidInputError(
            f"Folder mixes partition folders and table folders: {root_uri} "
            f"({partition_folders[0]}/ next to {other}/)",
            details={"uri": root_uri},
        )
    folders = []
    for folder in top_folders:
        inside = [(parts[1:], path, size) for parts, path, size in listing if parts[0] == folder]
        folders.append(table_folder(folder, f"{base}/{folder}", inside))
    by_name: dict[str, TableFolder] = {}
    for table in folders:
        if table.name in by_name:
            raise InvalidInputError(
                f"Table folders {by_name[table.name].uri} and {table.uri} both make "
                f"table name {table.name!r}",
                details={"uris": [by_name[table.name].uri, table.uri]},
            )
        by_name[table.name] = table
    return sorted(folders, key=lambda table: table.name)


def folder_table_name(folder: str, uri: str) -> str:
    name = folder.lower().replace("-", "_")
    try:
        return check_identifier(name, "table name")
    except InvalidInputError as e:
        raise InvalidInputError(
            f"Invalid table folder name: {folder!r} at {uri} (a table name must be letters, "
            "digits and _ after lower-casing and turning '-' into '_')",
            details={"uri": uri, "folder": folder},
        ) from e


def table_folder(
    folder: str, uri: str, listing: list[tuple[tuple[str, ...], str, int]]
) -> TableFolder:
    """One table: every file must be a data file under ``key=value`` folders, one format."""
    name = folder_table_name(folder, uri)
    files = []
    for parts, path, size in listing:
        file_uri = f"{uri.rstrip('/')}/{'/'.join(parts)}"
        partition = []
        for depth, part in enumerate(parts[:-1]):
            parsed = parse_partition(part)
            if parsed is None:
                folder_uri = f"{uri.rstrip('/')}/{'/'.join(parts[: depth + 1])}"
                raise InvalidInputError(
                    f"Folder is not a hive partition (expected KEY=VALUE): {folder_uri}",
                    details={"uri": folder_uri},
                )
            partition.append(parsed)
        format_name = file_format(parts[-1])
        if format_name is None:
            raise InvalidInputError(
                f"Not a data file: {file_uri} (expected {_EXTENSIONS}; "
                "prefix other files with '_' or '.' to skip them)",
                details={"uri": file_uri},
            )
        files.append(DataFile(path, file_uri, size, format_name, tuple(partition)))
    formats = sorted({file.format for file in files})
    if len(formats) > 1:
        raise InvalidInputError(
            f"Table folder mixes file formats ({', '.join(formats)}): {uri}",
            details={"uri": uri, "formats": formats},
        )
    _check_partition_keys(uri, files)
    return TableFolder(name, uri, tuple(files))


def _check_partition_keys(uri: str, files: list[DataFile]) -> None:
    first = files[0]
    expected = [key for key, _ in first.partition]
    for file in files:
        keys = [key for key, _ in file.partition]
        if len(set(keys)) != len(keys):
            raise InvalidInputError(
                f"Partition key repeated in path: {file.uri}", details={"uri": file.uri}
            )
        if keys != expected:
            raise InvalidInputError(
                f"Inconsistent partition keys in table folder {uri}: {first.uri} has "
                f"({', '.join(expected)}), {file.uri} has ({', '.join(keys)})",
                details={"uri": uri, "files": [first.uri, file.uri]},
            )
