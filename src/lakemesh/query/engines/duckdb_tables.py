"""Iceberg and Delta tables in the DuckDB sandbox: their scans and the extensions that read them.

The extensions come from the ``duckdb-extension-iceberg`` (with ``duckdb-extension-avro``, which
it reads manifests with) and ``duckdb-extension-delta`` packages (the ``tables`` extra) and are
loaded by file path when a sandbox database is opened; nothing is installed or downloaded. A
scan names the table's current metadata file (Iceberg) or folder (Delta), and the snapshot or
version a query travels to; the sandbox may open only the table's own objects.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import duckdb
from sqlglot import exp

from lakemesh.errors import InvalidInputError
from lakemesh.query.table import TableAccess

# scan function -> the extensions it needs, in load order: (package, extension file name).
_EXTENSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "iceberg_scan": (
        ("duckdb_extension_avro", "avro"),
        ("duckdb_extension_iceberg", "iceberg"),
    ),
    "delta_scan": (("duckdb_extension_delta", "delta"),),
}
SCAN_FUNCTIONS = frozenset(_EXTENSIONS)
_CALLS = re.compile(r"\b(iceberg_scan|delta_scan)\s*\(", re.IGNORECASE)


def extension_path(package_name: str, extension: str, *, extra: str, purpose: str) -> str:
    """Path of ``extension`` shipped by the PyPI package ``package_name`` for this DuckDB.

    Raises:
        InvalidInputError: the package is missing, or built for another DuckDB version (naming
            the extra that installs it).
    """
    install = f"pip install 'lakemesh[{extra}]'"
    try:
        package = importlib.import_module(package_name)
    except ImportError as e:
        raise InvalidInputError(
            f"{purpose} needs DuckDB's {extension} extension: {install}", details={"extra": extra}
        ) from e
    folder = Path(str(package.__file__)).parent / "extensions" / f"v{duckdb.__version__}"
    path = folder / f"{extension}.duckdb_extension"
    if not path.is_file():
        raise InvalidInputError(
            f"The installed {package_name.replace('_', '-')} does not match DuckDB "
            f"{duckdb.__version__}: {install}",
            details={"extra": extra, "duckdb": duckdb.__version__},
        )
    return str(path)


def table_extensions(sql: str) -> tuple[str, ...]:
    """The extension files a rewritten statement's Iceberg and Delta scans need."""
    needed = {match.group(1).lower() for match in _CALLS.finditer(sql)}
    paths: list[str] = []
    for function in sorted(needed):
        for package_name, extension in _EXTENSIONS[function]:
            path = extension_path(
                package_name, extension, extra="tables", purpose="Querying Iceberg and Delta tables"
            )
            if path not in paths:
                paths.append(path)
    return tuple(paths)


def open_table_scan(table: TableAccess) -> exp.Expr:
    """``iceberg_scan(metadata file[, snapshot_from_id => id])`` or ``delta_scan(folder[,
    version => n])``.

    Raises:
        InvalidInputError: an Iceberg table without a metadata file, or a snapshot that is not a
            number.
    """
    options: list[exp.Expr] = []
    if table.format == "iceberg":
        if table.metadata is None:
            raise InvalidInputError(
                f"Iceberg table has no metadata file: {table.name}", details={"table": table.name}
            )
        function, source, option = "iceberg_scan", table.metadata, "snapshot_from_id"
    else:
        function, source, option = "delta_scan", _folder(table.location), "version"
    if table.snapshot is not None:
        if not table.snapshot.isdigit():
            raise InvalidInputError(
                f"Invalid snapshot for {table.name}: {table.snapshot!r} (expected a number)",
                details={"table": table.name},
            )
        options.append(
            exp.Kwarg(this=exp.var(option), expression=exp.Literal.number(table.snapshot))
        )
    return exp.Anonymous(this=function, expressions=[exp.Literal.string(source), *options])


def _folder(location: str) -> str:
    """The table folder as the Delta extension opens it: a local path or an ``s3://`` URI."""
    return location.removeprefix("file://") if location.startswith("file://") else location
