"""The gateway's tables for the query tests: real Parquet, CSV and JSON-lines files and what
a principal may read of them (``TableAccess``), queried through the gateway without a hub."""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from lakemesh.errors import AccessDeniedError, NotFoundError
from lakemesh.model.access import CellPair, ColumnAccess
from lakemesh.query import QueryLimits, QueryResult, TableAccess, run_query

PRINCIPAL = "user:bob@marketing"
SALT = "pepper"

# The customers table: (name, DuckDB type, Arrow type); ``region`` is the partition column.
CUSTOMER_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("id", "BIGINT", pa.int64()),
    ("name", "VARCHAR", pa.string()),
    ("email", "VARCHAR", pa.string()),
    ("phone", "VARCHAR", pa.string()),
    ("amount", "DECIMAL(10,2)", pa.decimal128(10, 2)),
    ("signup", "DATE", pa.date32()),
    ("secret", "VARCHAR", pa.string()),
    (
        "profile",
        "STRUCT(age INTEGER, city VARCHAR)",
        pa.struct([("age", pa.int32()), ("city", pa.string())]),
    ),
    ("tags", "MAP(VARCHAR, VARCHAR)", pa.map_(pa.string(), pa.string())),
    ("region", "VARCHAR", pa.string()),
]
FLAT_COLUMNS = [c for c in CUSTOMER_COLUMNS if c[0] not in ("profile", "tags")]


def _customer(i: int, region: str) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"name{i}" if region == "EU" else f"hidden-name-{i}",
        "email": f"person{i}@{region.lower()}.example.com",
        "phone": f"+1-555-{1000 + i}",
        "amount": decimal.Decimal(f"{i * 37 % 250}.{i % 100:02d}"),
        "signup": datetime.date(2024, 1, 1) + datetime.timedelta(days=i * 11),
        "secret": f"s3cr3t-{region}-{i}",
        "profile": {"age": 20 + i, "city": f"city{i}"},
        "tags": [("tier", "gold" if i % 3 == 0 else "silver")],
        "region": region,
    }


CUSTOMER_ROWS = [
    _customer(i, region)
    for i, region in enumerate(
        ["EU", "US", "EU", "APAC", "US", "EU", "US", "APAC", "EU", "US"], start=1
    )
]


@dataclass
class Lake:
    """Tables written under ``root`` and what each grants; ``resolve`` is the gateway resolver."""

    root: Path
    tables: dict[str, TableAccess] = field(default_factory=dict)
    domain: str = "sales"

    def add(
        self,
        name: str,
        rows: list[dict[str, Any]],
        columns: list[tuple[str, str, pa.DataType]],
        *,
        format: str = "parquet",
        partition_by: tuple[str, ...] = (),
        access: ColumnAccess | None = None,
    ) -> TableAccess:
        """Write ``rows`` as a table ``name`` ('domain.db.table'), one file per partition."""
        folder = self.root / name.replace(".", "/")
        data_columns = [c for c in columns if c[0] not in partition_by]
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row[p] for p in partition_by), []).append(row)
        files = []
        for key, members in sorted(groups.items()):
            directory = folder.joinpath(
                *(f"{p}={v}" for p, v in zip(partition_by, key, strict=True))
            )
            directory.mkdir(parents=True, exist_ok=True)
            files.append(
                _write(directory / f"part-0.{_EXTENSIONS[format]}", members, data_columns, format)
            )
        table = TableAccess(
            name=name,
            format=format,
            location=str(folder),
            files=tuple(str(f) for f in files),
            columns=tuple((c[0], c[1]) for c in columns),
            partition_columns=partition_by,
            access=access or full_access(columns),
        )
        self.tables[name] = table
        return table

    def grant(
        self, name: str, *pairs: CellPair, masks: dict[str, str] | None = None
    ) -> TableAccess:
        """Replace what the principal may read of ``name``."""
        table = replace(self.tables[name], access=ColumnAccess(pairs=pairs, masks=masks or {}))
        self.tables[name] = table
        return table

    def resolve(self, parts: tuple[str, ...]) -> TableAccess:
        """3-part names, or 2-part names in :attr:`domain`; as the service layer will."""
        if len(parts) == 2:
            parts = (self.domain, *parts)
        name = ".".join(parts)
        if len(parts) != 3 or name not in self.tables:
            raise NotFoundError(f"Table does not exist: {name}")
        table = self.tables[name]
        if not table.access.pairs:
            raise AccessDeniedError(f"{PRINCIPAL} lacks SELECT on {name}")
        return table

    def query(self, sql: str, **options: Any) -> QueryResult:
        """Run ``sql`` as :data:`PRINCIPAL` through the gateway."""
        options.setdefault(
            "limits", QueryLimits(timeout_seconds=30, threads=2, memory_limit="512MB")
        )
        options.setdefault("hash_salt", SALT)
        return run_query(sql, principal=PRINCIPAL, resolve=self.resolve, **options)

    def rows(self, sql: str, **options: Any) -> list[dict[str, Any]]:
        """The governed rows of ``sql`` as dictionaries."""
        return self.query(sql, **options).table.to_pylist()


_EXTENSIONS = {"parquet": "parquet", "csv": "csv", "json": "jsonl"}


def _write(
    path: Path, rows: list[dict[str, Any]], columns: list[tuple[str, str, pa.DataType]], format: str
) -> Path:
    schema = pa.schema([(name, arrow_type) for name, _, arrow_type in columns])
    data = pa.Table.from_pylist([{c: row[c] for c, _, _ in columns} for row in rows], schema=schema)
    if format == "parquet":
        pq.write_table(data, path)
    elif format == "csv":
        pa_csv.write_csv(data, path)
    else:
        with path.open("w") as out:
            for row in data.to_pylist():
                out.write(json.dumps(row, default=str) + "\n")
    return path


def full_access(columns: Iterable[tuple[str, str, pa.DataType]] | Iterable[str]) -> ColumnAccess:
    """Every row of every column."""
    names = frozenset(c if isinstance(c, str) else c[0] for c in columns)
    return ColumnAccess(pairs=(CellPair(None, names),))


def pair(predicate: str | None, *columns: str) -> CellPair:
    """Shorthand for a cell pair."""
    return CellPair(predicate, frozenset(columns))


def raw_rows(table: TableAccess) -> list[dict[str, Any]]:
    """The table's rows read straight from its files with pyarrow (partition values from paths)."""
    result = []
    for path in table.files:
        if table.format == "parquet":
            data = pq.read_table(path).to_pylist()
        elif table.format == "csv":
            data = pa_csv.read_csv(path).to_pylist()
        else:
            data = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
        partitions = dict(part.split("=", 1) for part in Path(path).parts if "=" in part)
        result.extend({**row, **partitions} for row in data)
    return result


ACCOUNTS = "sales.crm.accounts"
ACCOUNT_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("id", "BIGINT", pa.int64()),
    ("region", "VARCHAR", pa.string()),
    ("code", "VARCHAR", pa.string()),
    ("opened", "DATE", pa.date32()),
    ("pattern", "VARCHAR", pa.string()),
    ("balance", "BIGINT", pa.int64()),
    ("divisor", "BIGINT", pa.int64()),
]
# Two columns: the engine cannot apply this row filter in the scan (see tests/query/test_guards).
ACCOUNTS_ROW_FILTER = "region = 'EU' OR id < 0"
VISIBLE_ACCOUNTS = {1, 3}


def _account(i: int, visible: bool) -> dict[str, Any]:
    if visible:
        return {
            "id": i,
            "region": "EU",
            "code": str(10 + i),
            "opened": datetime.date(2024, 1, i),
            "pattern": "x+",
            "balance": 100 * i,
            "divisor": i,
        }
    return {
        "id": i,
        "region": "US",
        "code": f"hidden-code-{i}",
        "opened": datetime.date(2024, 1, 1),  # replaced below (beyond Python's dates)
        "pattern": "(hidden",
        "balance": 9223372036854775000,
        "divisor": 0,
    }


def accounts_table() -> pa.Table:
    rows = [_account(i, i in VISIBLE_ACCOUNTS) for i in range(1, 5)]
    schema = pa.schema([(name, arrow) for name, _, arrow in ACCOUNT_COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    # About the year 1,097,000: a DATE DuckDB holds, and no TIMESTAMP can (casting it fails).
    far = 400_000_000
    days = [
        (row["opened"] - datetime.date(1970, 1, 1)).days if row["id"] in VISIBLE_ACCOUNTS else far
        for row in rows
    ]
    return table.set_column(3, "opened", pa.array(days, pa.int32()).cast(pa.date32()))
