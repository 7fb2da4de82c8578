"""Result serialisers: Arrow IPC stream, JSON rows, CSV."""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json

import pyarrow as pa

from lakemesh.query import to_arrow_ipc, to_csv, to_json
from tests.factories.gateway import Lake

TABLE = pa.table(
    {
        "id": pa.array([1, None], pa.int64()),
        "amount": pa.array([decimal.Decimal("12345678901234.56"), None], pa.decimal128(16, 2)),
        "day": pa.array([datetime.date(2024, 2, 29), None], pa.date32()),
        "at": pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("us")),
        "ratio": pa.array([float("nan"), float("inf")], pa.float64()),
        "raw": pa.array([b"\x00\x01", None], pa.binary()),
        "tags": pa.array([[("k", "v")], None], pa.map_(pa.string(), pa.string())),
        "profile": pa.array(
            [{"age": 3, "city": "x"}, None], pa.struct([("age", pa.int32()), ("city", pa.string())])
        ),
        "items": pa.array([[1, 2], []], pa.list_(pa.int64())),
    }
)


def test_arrow_ipc_round_trip() -> None:
    table = TABLE.drop_columns(["ratio"])  # NaN never equals itself
    assert pa.ipc.open_stream(to_arrow_ipc(table)).read_all().equals(table)


def test_json_renders_every_type_safely() -> None:
    rows = json.loads(to_json(TABLE))
    assert rows[0] == {
        "id": 1,
        "amount": "12345678901234.56",
        "day": "2024-02-29",
        "at": "2024-01-02T03:04:05",
        "ratio": "NaN",
        "raw": "AAE=",
        "tags": {"k": "v"},
        "profile": {"age": 3, "city": "x"},
        "items": [1, 2],
    }
    assert rows[1]["ratio"] == "Infinity"
    assert rows[1]["amount"] is None


def test_csv_has_a_header_and_json_for_nested_values() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(TABLE))))
    assert rows[0]["id"] == "1"
    assert rows[0]["amount"] == "12345678901234.56"
    assert json.loads(rows[0]["tags"]) == {"k": "v"}
    assert json.loads(rows[0]["items"]) == [1, 2]
    assert rows[1]["id"] == ""


def test_gateway_results_serialise(lake: Lake) -> None:
    table = lake.query("SELECT * FROM sales.crm.customers ORDER BY id").table
    assert len(json.loads(to_json(table))) == table.num_rows
    assert len(list(csv.DictReader(io.StringIO(to_csv(table))))) == table.num_rows
    assert pa.ipc.open_stream(to_arrow_ipc(table)).read_all().num_rows == table.num_rows
