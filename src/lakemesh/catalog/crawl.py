"""Discovery: the tables under a storage folder, their columns and partitions. No database access.

A crawl lists the folder once (one recursive listing), groups files into table folders and parses
hive partition folders (``key=value``) (:mod:`lakemesh.catalog.table_folders`), describes Iceberg
and Delta tables from their metadata, and reads every other data file's schema: Parquet footers,
CSV and JSON-lines through DuckDB's sniffer. Any error aborts the whole crawl, so callers register
nothing from a folder that is not entirely readable. Symbolic links are never followed: each one
is reported as a warning (naming where it leads, and whether that is outside the location).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace

from fsspec import AbstractFileSystem

from lakemesh.catalog.table_folders import (
    DataFile,
    Listing,
    TableFolder,
    folder_table_name,
    list_files,
    table_folders,
)
from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.storage import Link, Properties, StorageBackend, backend_for, is_within
from lakemesh.storage.formats import Schema, SchemaReader
from lakemesh.storage.open_tables import (
    describe_open_table,
    open_table_roots,
)
from lakemesh.storage.partitions import partition_type
from lakemesh.storage.table_metadata import OpenTable
from lakemesh.storage.type_names import widen_type

ProgressCallback = Callable[[int, int], None]
"""Called with ``(files examined, files in total)`` as the crawl reads data files."""


@dataclass(frozen=True)
class DiscoveredColumn:
    """A column found in data files or partition folders, typed with a DuckDB type name;
    ``nullable`` is False only where the format declares the column NOT NULL."""

    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class DiscoveredTable:
    """One table folder: its files, merged data columns and typed partition columns."""

    name: str  # the folder name, lower-cased, '-' turned into '_'
    location: str  # normalized URI of the table folder
    format: str  # parquet | csv | json (JSON-lines)
    columns: tuple[DiscoveredColumn, ...]  # data columns, in file order
    partition_columns: tuple[DiscoveredColumn, ...]  # hive key=value levels, in path order
    file_count: int
    total_bytes: int
    warnings: tuple[str, ...] = ()  # symbolic links skipped inside the table folder
    open_table: OpenTable | None = None  # an Iceberg or Delta table's own metadata


@dataclass
class Discovery:
    """The tables found under a folder, and the folders that were only symbolic links."""

    tables: list[DiscoveredTable]
    skipped: dict[str, list[str]] = field(default_factory=dict)  # folder name -> warnings


def discover_tables(
    uri: str,
    *,
    progress: ProgressCallback | None = None,
    properties: Properties | None = None,
) -> list[DiscoveredTable]:
    """The tables in the folder ``uri``, sorted by name (see :func:`discover`)."""
    return discover(uri, progress=progress, properties=properties).tables


def discover(
    uri: str,
    *,
    boundary: str | None = None,
    progress: ProgressCallback | None = None,
    properties: Properties | None = None,
) -> Discovery:
    """The tables in the folder ``uri``, sorted by name, and the symbolic links skipped.

    Each visible sub-folder of ``uri`` is a table; ``uri`` itself is the table when it holds data
    files (or only ``key=value`` partition folders). Names starting with ``.`` or ``_`` are
    skipped. Every data file's schema is read, so a corrupt file fails the crawl; rows are not
    scanned. Symbolic links are skipped with a warning that says whether they lead outside
    ``boundary`` (the location the crawl reads).

    Raises:
        StorageError: the folder cannot be listed, or a data file cannot be read (named).
        InvalidInputError: the layout or schemas cannot form tables (the folder, file or column
            at fault is named).
    """
    backend = backend_for(uri, properties=properties)
    root_uri = backend.normalize(uri)
    listing, links = list_files(backend, backend.to_path(root_uri), root_uri)
    root_name = (backend.segments(root_uri) or ("",))[-1]
    listing, open_tables = _open_tables(backend, root_uri, root_name, listing)
    folders = table_folders(root_uri, root_name, listing)
    files = [file for folder in folders for file in folder.files]
    schemas = _read_schemas(backend.filesystem(), files, progress)
    tables = [_describe(folder, schemas) for folder in folders]
    names = {table.name: table.location for table in tables}
    for table in open_tables:
        if table.name in names:
            raise InvalidInputError(
                f"Table folders {names[table.name]} and {table.location} both make "
                f"table name {table.name!r}",
                details={"uris": [names[table.name], table.location]},
            )
    tables = sorted([*tables, *open_tables], key=lambda table: table.name)
    return _with_warnings(tables, links, backend, boundary, root_uri)


def _open_tables(
    backend: StorageBackend, root_uri: str, root_name: str, listing: Listing
) -> tuple[Listing, list[DiscoveredTable]]:
    """The Iceberg and Delta tables in the listing (the crawled folder itself, or a folder right
    under it), described from their metadata, and the rest of the listing."""
    found_roots = open_table_roots(parts for parts, _, _ in listing)
    if () in found_roots:
        roots: dict[tuple[str, ...], str] = {(): found_roots[()]}
    else:
        deeper = sorted(parts for parts in found_roots if len(parts) > 1)
        if deeper:
            title = "Iceberg" if found_roots[deeper[0]] == "iceberg" else "Delta"
            base = root_uri.rstrip("/")
            raise InvalidInputError(
                f"{title} table {base}/{'/'.join(deeper[0])} lies more than one folder below "
                f"{root_uri}: crawl {base}/{'/'.join(deeper[0][:-1])} (one table per folder)",
                details={"uri": root_uri, "table": f"{base}/{'/'.join(deeper[0])}"},
            )
        roots = found_roots
    if not roots:
        return listing, []
    found: list[DiscoveredTable] = []
    base = root_uri.rstrip("/")
    for parts, table_format in sorted(roots.items()):
        uri = f"{base}/{parts[0]}" if parts else root_uri
        inside = {
            path: size for file_parts, path, size in listing if file_parts[: len(parts)] == parts
        }
        table = describe_open_table(
            backend.filesystem(),
            table_format=table_format,
            root=backend.to_path(uri),
            files=inside,
            uri=uri,
        )
        partitions = {name.lower() for name in table.partition_columns}
        found.append(
            DiscoveredTable(
                name=folder_table_name(parts[0] if parts else root_name, uri),
                location=uri,
                format=table_format,
                columns=tuple(
                    DiscoveredColumn(*column)
                    for column in table.columns
                    if column[0].lower() not in partitions
                ),
                partition_columns=tuple(
                    DiscoveredColumn(*column)
                    for column in table.columns
                    if column[0].lower() in partitions
                ),
                file_count=len(inside),
                total_bytes=sum(inside.values()),
                open_table=table,
            )
        )
    rest = [entry for entry in listing if not any(entry[0][: len(p)] == p for p in roots)]
    return rest, found


def _uri(backend: StorageBackend, path: str) -> str:
    try:
        return backend.to_uri(path)
    except InvalidInputError:
        return repr(path)  # a name lakemesh refuses as a location (it is only being reported)


def _link_warning(link: Link, backend: StorageBackend, boundary: str | None) -> str:
    name, target = _uri(backend, link.path), _uri(backend, link.target)
    if boundary is not None and not (target.startswith("file:") and is_within(target, boundary)):
        return f"Skipped symbolic link {name}: it leads to {target}, outside location {boundary}"
    return f"Skipped symbolic link {name} (it leads to {target}; links are not followed)"


def _with_warnings(
    tables: list[DiscoveredTable],
    links: list[tuple[tuple[str, ...], Link]],
    backend: StorageBackend,
    boundary: str | None,
    root_uri: str,
) -> Discovery:
    """Attach each link's warning to the table folder it lies in (or report its folder)."""
    by_location = {table.location: table for table in tables}
    warnings: dict[str, list[str]] = {}
    skipped: dict[str, list[str]] = {}
    for parts, link in links:
        message = _link_warning(link, backend, boundary)
        # The folder itself is a table, or each sub-folder is one.
        owner = root_uri if root_uri in by_location else f"{root_uri.rstrip('/')}/{parts[0]}"
        if owner in by_location:
            warnings.setdefault(owner, []).append(message)
        else:
            skipped.setdefault(parts[0], []).append(message)
    return Discovery(
        [
            replace(table, warnings=tuple(warnings[table.location]))
            if table.location in warnings
            else table
            for table in tables
        ],
        skipped,
    )


def _read_schemas(
    filesystem: AbstractFileSystem,
    files: list[DataFile],
    progress: ProgressCallback | None,
) -> dict[str, Schema]:
    """Every file's schema, read in a thread pool; the first failing file (by path) is raised."""
    total = len(files)
    if progress is not None:
        progress(0, total)
    schemas: dict[str, Schema] = {}
    workers = min(32, 4 * (os.cpu_count() or 1))
    with SchemaReader(filesystem) as reader, ThreadPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future[Schema], DataFile] = {
            pool.submit(
                reader.read, file.path, file_format=file.format, size=file.size, uri=file.uri
            ): file
            for file in files
        }
        try:
            for future in as_completed(futures):
                schemas[futures[future].path] = future.result()
                if progress is not None:
                    progress(len(schemas), total)
        except StorageError:
            pool.shutdown(wait=True, cancel_futures=True)
            failures = [
                (futures[f].path, error)
                for f in futures
                if not f.cancelled() and (error := f.exception()) is not None
            ]
            raise min(failures, key=lambda failure: failure[0])[1] from None
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return schemas


def _describe(folder: TableFolder, schemas: dict[str, Schema]) -> DiscoveredTable:
    keys = [key for key, _ in folder.files[0].partition]
    partition_columns = tuple(
        DiscoveredColumn(key, partition_type(file.partition[i][1] for file in folder.files))
        for i, key in enumerate(keys)
    )
    # DuckDB reads a partition key from the path even when files also hold that column.
    shadowed = {key.lower() for key in keys}
    columns = tuple(
        column for column in _merge_schemas(folder, schemas) if column.name.lower() not in shadowed
    )
    if not columns and not partition_columns:
        raise InvalidInputError(
            f"Table folder has no columns: {folder.uri} (its data files are empty)",
            details={"uri": folder.uri},
        )
    return DiscoveredTable(
        name=folder.name,
        location=folder.uri,
        format=folder.files[0].format,
        columns=columns,
        partition_columns=partition_columns,
        file_count=len(folder.files),
        total_bytes=sum(file.size for file in folder.files),
    )


def _merge_schemas(folder: TableFolder, schemas: dict[str, Schema]) -> list[DiscoveredColumn]:
    """Union of the files' columns by name (case-insensitive, first spelling kept), widened.

    Columns keep the order of the first file that has them, later ones follow. A column is NOT
    NULL only when every file has it and declares it so (a file without it reads as NULL there).
    """
    merged: dict[str, tuple[str, str, str]] = {}  # lower name -> (name, type, file that set it)
    nullable: dict[str, bool] = {}
    for file in folder.files:
        present = set()
        for name, column_type, may_be_null in schemas[file.path]:
            key = name.lower()
            present.add(key)
            nullable[key] = nullable.get(key, file is not folder.files[0]) or may_be_null
            if key not in merged:
                merged[key] = (name, column_type, file.uri)
                continue
            first_name, known_type, known_uri = merged[key]
            widened = widen_type(known_type, column_type)
            if widened is None:
                raise InvalidInputError(
                    f"Incompatible types for column {first_name!r} in table folder {folder.uri}: "
                    f"{known_type} in {known_uri}, {column_type} in {file.uri}",
                    details={"column": first_name, "files": [known_uri, file.uri]},
                )
            if widened != known_type:
                merged[key] = (first_name, widened, file.uri)
        for key in nullable.keys() - present:
            nullable[key] = True
    return [
        DiscoveredColumn(name, column_type, nullable[key])
        for key, (name, column_type, _) in merged.items()
    ]
