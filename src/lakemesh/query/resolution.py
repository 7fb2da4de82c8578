"""Resolve a statement's table names to authorized tables for one actor (DESIGN §5).

Names are ``domain.database.table``, or ``database.table`` inside the actor's own domain; a name
that is a resource link stands for the shared table it points to. Each table is authorized for
SELECT through the policy engine; its files are listed from its location. A table the actor may
not read and a table that does not exist answer alike (the same denial) unless the actor may see
the whole domain's catalog, so existence does not leak.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import fsspec
from sqlalchemy.orm import Session

from lakemesh.authz import decide, visible
from lakemesh.catalog.location_rules import shown
from lakemesh.catalog.locations import list_locations
from lakemesh.catalog.tables import get_table_row, table_name
from lakemesh.errors import AccessDeniedError, InvalidInputError, NotFoundError, StorageError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import IDENTIFIER, ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.query.table import FORMATS, TableAccess
from lakemesh.sharing.link_access import follow_link
from lakemesh.storage import Properties, S3Options, StorageBackend, backend_for, iceberg, is_within
from lakemesh.storage.formats import file_format
from lakemesh.storage.open_tables import OPEN_FORMATS
from lakemesh.storage.registry import scheme_of
from lakemesh.storage.s3 import S3_SCHEMES, storage_error
from lakemesh.store.schema import Table

QUERY_ACTION = Action.QUERY

Parts = tuple[str, ...]


def follow_resource_link(session: Session, *, actor: Actor, name: ResourceName) -> ResourceName:
    """The table a name in the actor's catalog stands for: itself, or the shared table a
    resource link of that name points to (followed by
    :func:`lakemesh.sharing.link_access.follow_link` for actors who may DESCRIBE the link, while
    its share holds).

    Raises:
        AccessDeniedError: the actor may not see the link, or the link is broken.
    """
    return follow_link(session, actor=actor, name=name)


def table_name_of(parts: Parts, *, actor: Actor) -> ResourceName:
    """``(domain, database, table)``, or ``(database, table)`` in the actor's own domain.

    Raises:
        NotFoundError: the name has another number of parts.
    """
    lowered = tuple(part.lower() for part in parts)
    if len(lowered) == 2:
        return ResourceName(actor.domain, lowered[0], lowered[1])
    if len(lowered) == 3:
        return ResourceName(*lowered)
    written = ".".join(parts)
    raise NotFoundError(
        f"Table does not exist: {written} (name tables DOMAIN.DATABASE.TABLE, or DATABASE.TABLE "
        "in your own domain)",
        details={"table": written},
    )


def denial(actor: Actor, name: ResourceName) -> AccessDeniedError:
    """The one denial for a table that is hidden from ``actor`` or does not exist."""
    return AccessDeniedError(
        f"{actor.ref} lacks SELECT on {name}",
        details={
            "principal": actor.ref,
            "action": QUERY_ACTION,
            "resource": str(name),
            "permission": str(Permission.SELECT),
        },
    )


def _missing(session: Session, actor: Actor, name: ResourceName, error: NotFoundError) -> Exception:
    """NotFoundError for those who could see the table if it existed, the denial for others."""
    if visible(session, actor, ResourceName(name.domain)):
        return error
    return denial(actor, name)


def resolve_table(session: Session, *, actor: Actor, parts: Parts) -> TableAccess:
    """The table ``parts`` names, with what ``actor`` may read of it and its files.

    Raises:
        AccessDeniedError: ``user:x lacks SELECT on d.db.t`` (also for a table that does not exist,
            unless the actor may DESCRIBE the domain).
        NotFoundError: the table does not exist and the actor may see that.
        StorageError: the table's files cannot be listed.
    """
    name = table_name_of(parts, actor=actor)
    if not all(IDENTIFIER.match(part or "") for part in (name.domain, name.database, name.table)):
        error = NotFoundError(f"Table does not exist: {name}", details={"table": str(name)})
        raise _missing(session, actor, name, error)
    try:
        row = get_table_row(session, name)  # a catalog table of the name wins over a link
    except NotFoundError as error:
        target = follow_resource_link(session, actor=actor, name=name)
        if target == name:
            raise _missing(session, actor, name, error) from None
        name = target
        try:
            row = get_table_row(session, name)
        except NotFoundError as target_error:
            raise _missing(session, actor, name, target_error) from None
    try:
        decision = decide(session, actor=actor, permission=Permission.SELECT, resource=name)
    except NotFoundError:
        raise denial(actor, name) from None
    if not decision.allowed or decision.access is None or not decision.access.columns:
        raise denial(actor, name)
    # The decision's predicates are bound already: each principal_attribute('x') was replaced by
    # the actor's value when the policy engine collected the pairs (policy/table_access.py).
    data = [column for column in row.columns if not column.is_partition]
    partitions = [column for column in row.columns if column.is_partition]
    hub = session.info.get("hub")
    properties = hub.storage_properties() if hub is not None else {}
    files = data_files(
        row,
        locations=[r.uri for r in list_locations(session, domain=name.domain)],
        properties=properties,
    )
    return TableAccess(
        name=str(table_name(row)),
        format=row.format,
        location=row.location,
        files=files.paths,
        columns=tuple((column.name, column.type) for column in [*data, *partitions]),
        partition_columns=tuple(column.name for column in partitions),
        access=decision.access,
        sizes=files.sizes,
        s3=S3Options.resolve(properties) if is_s3(row.location) else None,
        metadata=files.metadata,
        file_columns=(
            tuple((c["name"], c["type"], bool(c.get("partition"))) for c in row.file_columns)
            if row.file_columns is not None
            else None
        ),
    )


def resolve_in_path(
    session: Session, *, actor: Actor, parts: Parts, search_path: Sequence[str] = ()
) -> TableAccess:
    """The table ``parts`` names, trying the ``search_path`` (as PostgreSQL clients set it) for
    names shorter than three parts: a ``DOMAIN`` entry completes ``database.table``, a
    ``DOMAIN.DATABASE`` entry completes ``table``; the first entry that resolves wins, then the
    name as written (``database.table`` in the actor's own domain).

    Raises:
        AccessDeniedError, NotFoundError, StorageError: as :func:`resolve_table`, for the first
            candidate when none resolves.
    """
    candidates: list[Parts] = []
    if len(parts) < 3:
        for entry in search_path:
            prefix = tuple(entry.lower().split("."))
            if len(prefix) + len(parts) == 3:
                candidates.append((*prefix, *parts))
    candidates.append(parts)
    first: AccessDeniedError | NotFoundError | None = None
    for candidate in dict.fromkeys(candidates):
        try:
            return resolve_table(session, actor=actor, parts=candidate)
        except (AccessDeniedError, NotFoundError) as error:
            first = first or error
    assert first is not None
    raise first


@dataclass(frozen=True)
class DataFiles:
    """A table's data files and their sizes from the listing (same order)."""

    paths: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()
    metadata: str | None = None  # an Iceberg table's current metadata file


def data_files(
    row: Table, *, locations: Sequence[str], properties: Properties | None = None
) -> DataFiles:
    """Every data file of a table: real local paths or ``s3://`` objects under its location.

    ``locations`` are the registered locations of the table's domain: the table's location, on
    its real path, must lie in one of them, or nothing is read. Files and folders whose names
    start with ``_`` or ``.`` are skipped (as the crawler does), as are files of another format,
    symbolic links, and anything whose real path is not inside that location. A location that
    does not exist yet holds no files.

    Raises:
        InvalidInputError: the table's format or storage cannot be read by the query engines.
        StorageError: the location cannot be listed, or lies outside its domain's locations.
    """
    name = str(table_name(row))
    if row.format not in FORMATS:
        raise InvalidInputError(
            f"Tables in {row.format} format cannot be queried through the hub yet: {name}",
            details={"table": name, "format": row.format},
        )
    backend = backend_for(row.location, properties=properties)
    if backend.scheme not in ("s3", "file"):
        raise InvalidInputError(
            f"Tables on {backend.scheme}:// storage cannot be queried through the hub yet: {name}",
            details={"table": name, "location": row.location},
        )
    real = backend.real_uri(row.location)
    inside = [uri for uri in locations if is_within(real, uri)]
    if not inside:
        raise StorageError(
            f"Table {name} is not read: its location {shown(row.location, real)} is outside "
            "every location of its domain",
            details={"table": name, "location": row.location},
        )
    if backend.scheme == "s3":
        return _object_files(row, name, backend)
    boundary = max(inside, key=len)
    filesystem = backend.filesystem()
    root = backend.to_path(real)
    try:
        if not filesystem.isdir(root):
            if not (filesystem.isfile(root) and _readable(root, row.format)):
                return DataFiles()
            return DataFiles((root,), (int(filesystem.size(root) or 0),))
        files = backend.list_files(root).files
    except OSError as e:
        raise _unlisted(name, row, e) from e
    real_prefix = backend.to_path(boundary).rstrip("/") + "/"
    prefix = root.rstrip("/") + "/"
    paths = tuple(
        path
        for path in sorted(files)
        if path.startswith(prefix)
        and _keeps(path[len(prefix) :], row.format)
        and os.path.realpath(path).startswith(real_prefix)
    )
    metadata = _iceberg_metadata(row, root, paths, filesystem)
    return DataFiles(paths, tuple(files[path] for path in paths), metadata)


# Characters DuckDB reads as a glob pattern (or the start of a URL's query or fragment) in a
# path: an object whose key holds one would be read as a pattern, not as itself.
_PATTERN_CHARACTERS = frozenset("*?[]{}#")


def _object_files(row: Table, name: str, backend: StorageBackend) -> DataFiles:
    """The objects under an ``s3://`` location (one listing), as ``s3://bucket/key`` URIs.

    Keys the engine could not name literally (pattern characters, empty, ``.`` or ``..``
    segments) are skipped like hidden files.
    """
    filesystem = backend.filesystem()
    root = backend.to_path(row.location)
    try:
        entries = filesystem.find(root, detail=True)
    except Exception as e:  # s3fs raises OSError, botocore its own (no credentials, bad endpoint)
        raise _unlisted(name, row, e) from e
    prefix = root + "/"
    paths: list[str] = []
    sizes: list[int] = []
    for path in sorted(entries):
        info = entries[path]
        if info.get("type") != "file":
            continue
        if path == root:
            if not _readable(path, row.format):
                continue
        elif not (path.startswith(prefix) and _keeps(path[len(prefix) :], row.format)):
            continue
        if _PATTERN_CHARACTERS.intersection(path) or any(
            part in ("", ".", "..") for part in path.split("/")
        ):
            continue
        paths.append(f"s3://{path}")
        sizes.append(int(info.get("size") or 0))
    keys = [path.removeprefix("s3://") for path in paths]
    metadata = _iceberg_metadata(row, root, keys, filesystem)
    return DataFiles(tuple(paths), tuple(sizes), f"s3://{metadata}" if metadata else None)


def _keeps(relative: str, table_format: str) -> bool:
    """Whether a file under a table's folder belongs to the table: for Iceberg and Delta every
    file does (the table's own metadata names those the engine opens), else the visible data
    files of its format."""
    if table_format in OPEN_FORMATS:
        return True
    return _visible(relative) and _readable(relative, table_format)


def _iceberg_metadata(
    row: Table, root: str, paths: Sequence[str], filesystem: fsspec.AbstractFileSystem
) -> str | None:
    """The current metadata file of an Iceberg table (None for other formats or no files)."""
    if row.format != "iceberg" or not paths:
        return None
    pointer = row.properties.get(iceberg.METADATA_POINTER)
    if pointer:  # a table the hub commits to: its catalog pointer decides
        path = pointer.removeprefix("file://") if pointer.startswith("file://") else pointer
        listed = path.removeprefix("s3://")
        if listed not in paths and path not in paths:
            raise StorageError(
                f"The current metadata file of table {table_name(row)} is missing: {pointer}",
                details={"table": str(table_name(row)), "metadata": pointer},
            )
        return listed
    try:
        return iceberg.current_metadata(root, dict.fromkeys(paths, 0), filesystem)
    except OSError as e:
        raise _unlisted(str(table_name(row)), row, e) from e


def is_s3(uri: str) -> bool:
    """Whether ``uri`` lies on S3-compatible storage."""
    return scheme_of(uri) in S3_SCHEMES


def _visible(relative: str) -> bool:
    return not any(part.startswith((".", "_")) for part in relative.split("/"))


def _unlisted(name: str, row: Table, error: Exception) -> StorageError:
    return storage_error(
        error,
        message=f"Cannot list the files of table {name}",
        details={"table": name, "location": row.location},
    )


def _readable(path: str, table_format: str) -> bool:
    return file_format(path.rsplit("/", 1)[-1]) == table_format
