"""Fixtures of the query tests over the gateway's tables (:mod:`tests.factories.gateway`)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakemesh.model.access import ColumnAccess
from lakemesh.query import TableAccess
from tests.factories.gateway import (
    ACCOUNT_COLUMNS,
    ACCOUNTS,
    ACCOUNTS_ROW_FILTER,
    CUSTOMER_COLUMNS,
    CUSTOMER_ROWS,
    Lake,
    accounts_table,
    pair,
)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A lake with ``sales.crm.customers`` (Parquet, partitioned by region), readable in full."""
    result = Lake(root=tmp_path / "lake")
    result.add("sales.crm.customers", CUSTOMER_ROWS, CUSTOMER_COLUMNS, partition_by=("region",))
    result.add(
        "sales.crm.orders",
        [
            {"order_id": 100 + i, "customer_id": 1 + i % 10, "total": float(i * 3)}
            for i in range(20)
        ],
        [
            ("order_id", "BIGINT", pa.int64()),
            ("customer_id", "BIGINT", pa.int64()),
            ("total", "DOUBLE", pa.float64()),
        ],
    )
    return result


@pytest.fixture
def restricted(lake: Lake) -> Lake:
    """Bob reads EU customers' id, name, region, amount, signup, profile, tags; US rows' id only.

    Hidden columns: email, phone, secret. Cells of name etc. in US rows are NULL; APAC rows hidden.
    """
    lake.grant(
        "sales.crm.customers",
        pair("region = 'EU'", "id", "name", "region", "amount", "signup", "profile", "tags"),
        pair("region = 'US'", "id", "region"),
    )
    return lake


@pytest.fixture
def accounts(lake: Lake) -> Lake:
    """``sales.crm.accounts``, one Parquet file: rows 1 and 3 visible (EU), 2 and 4 hidden, every
    column granted; hidden rows hold values that make casts, regexps and arithmetic fail."""
    folder = lake.root / "sales" / "crm" / "accounts"
    folder.mkdir(parents=True)
    pq.write_table(accounts_table(), folder / "part-0.parquet")
    lake.tables[ACCOUNTS] = TableAccess(
        name=ACCOUNTS,
        format="parquet",
        location=str(folder),
        files=(str(folder / "part-0.parquet"),),
        columns=tuple((c[0], c[1]) for c in ACCOUNT_COLUMNS),
        partition_columns=(),
        access=ColumnAccess(pairs=(pair(ACCOUNTS_ROW_FILTER, *(c[0] for c in ACCOUNT_COLUMNS)),)),
    )
    return lake
