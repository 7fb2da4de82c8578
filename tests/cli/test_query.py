"""``lakemesh query`` and ``lakemesh workgroup`` through the real CLI on a governed hub home."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from tests.cli.conftest import Cli
from tests.conftest import HubEnv
from tests.factories.query import CUSTOMERS, EMMA, MIA, ORDERS, GovernedMesh, build_governed_mesh

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"
EU_ORDERS = f"SELECT order_id, amount FROM {ORDERS} ORDER BY order_id"


@dataclass
class Governed:
    cli: Cli
    tables: GovernedMesh
    tokens: dict[str, str]

    def run(self, principal: str, *args: str, code: int = 0) -> str:
        return self.cli.run("--token", self.tokens[principal], *args, code=code).stdout

    def json(self, principal: str, *args: str) -> object:
        return self.cli.json("--token", self.tokens[principal], *args)

    def expected_orders(self) -> pa.Table:
        raw = self.tables.raw(ORDERS)
        eu = raw.filter(pc.equal(raw["region"], "EU")).sort_by("order_id")
        return eu.select(["order_id", "amount"])


@pytest.fixture
def governed(admin_cli: Cli, tmp_path: Path) -> Iterator[Governed]:
    hub = Hub.open(admin_cli.home)
    token = hub.home.profile(None)["token"]
    with hub.transaction() as session:
        admin = authenticate(session, token)
    tables = build_governed_mesh(HubEnv(hub, admin, token), tmp_path / "data")
    tokens = {ref: tables.token(ref) for ref in (EMMA, MIA)}
    yield Governed(admin_cli, tables, tokens)
    hub.close()


def test_query_prints_a_table(governed: Governed) -> None:
    out = governed.run(MIA, "query", f"SELECT * FROM {CUSTOMERS} ORDER BY customer_id LIMIT 2")
    for text in ("customer_id", "segment", "customer-1", "customer-2"):
        assert text in out
    assert "email" not in out


def test_query_csv_json_and_arrow(governed: Governed, tmp_path: Path) -> None:
    expected = governed.expected_orders()
    types = pa_csv.ConvertOptions(column_types=expected.schema)
    csv = governed.run(EMMA, "query", EU_ORDERS, "--format", "csv")
    assert pa_csv.read_csv(io.BytesIO(csv.encode()), convert_options=types).equals(expected)
    result = governed.json(EMMA, "query", EU_ORDERS)
    assert isinstance(result, dict)
    assert result["rows"] == [list(row.values()) for row in expected.to_pylist()]
    as_format = json.loads(governed.run(EMMA, "query", EU_ORDERS, "--format", "json"))
    assert (as_format["columns"], as_format["rows"]) == (result["columns"], result["rows"])
    piped = governed.cli.run(
        "--token", governed.tokens[EMMA], "query", EU_ORDERS, "--format", "arrow"
    )
    assert pa.ipc.open_stream(piped.stdout_bytes).read_all().equals(expected)
    target = tmp_path / "orders.arrow"
    summary = governed.json(EMMA, "query", EU_ORDERS, "--output", str(target))
    assert isinstance(summary, dict)
    assert (summary["format"], summary["output"]) == ("arrow", str(target))
    assert pa.ipc.open_stream(target.read_bytes()).read_all().equals(expected)
    written = governed.run(EMMA, "query", EU_ORDERS, "-o", str(tmp_path / "orders.csv"))
    assert "Wrote csv to" in written
    assert pa_csv.read_csv(tmp_path / "orders.csv", convert_options=types).equals(expected)


def test_query_errors(governed: Governed, tmp_path: Path) -> None:
    token = governed.tokens[MIA]
    error = governed.cli.error("--token", token, "query", f"SELECT email FROM {CUSTOMERS}", code=4)
    assert error["message"] == f"{MIA} lacks SELECT on {CUSTOMERS}.email"
    error = governed.cli.error("--token", token, "query", "DROP TABLE x", code=6)
    assert error["message"] == "Statement not allowed: DROP"
    error = governed.cli.error(
        "--token",
        token,
        "query",
        "SELECT 1",
        "--format",
        "table",
        "-o",
        str(tmp_path / "x"),
        code=6,
    )
    assert error["message"].startswith("--format table prints to the terminal")
    error = governed.cli.error("--token", token, "query", "SELECT 1", "-o", "x.txt", code=6)
    assert error["message"].startswith("Cannot tell the format of x.txt")


def test_query_reads_sql_from_a_file_or_stdin(governed: Governed, tmp_path: Path) -> None:
    expected = governed.expected_orders().to_pylist()
    token = governed.tokens[EMMA]
    sql_file = tmp_path / "eu_orders.sql"
    sql_file.write_text(f"-- EU orders\n{EU_ORDERS}\n")
    for args, given in (
        (("-f", str(sql_file)), None),
        (("-",), EU_ORDERS),
        (("-f", "-"), EU_ORDERS),
    ):
        result = json.loads(
            governed.cli.run("--token", token, "--json", "query", *args, input=given).stdout
        )
        assert result["rows"] == [list(row.values()) for row in expected], args
    job = governed.json(EMMA, "query", "submit", "--file", str(sql_file))
    assert isinstance(job, dict)
    for args, message in (
        (
            ("-f", str(tmp_path / "missing.sql")),
            f"SQL file does not exist: {tmp_path / 'missing.sql'}",
        ),
        (("SELECT 1", "-f", str(sql_file)), "Give the SQL once: as an argument or with --file"),
        ((), "No SQL: give it as an argument, with --file FILE, or - to read it from stdin"),
    ):
        error = governed.cli.error("--token", token, "query", "run", *args, code=6)
        assert error["message"].startswith(message), args


def test_query_output_is_checked_before_the_query_runs(governed: Governed, tmp_path: Path) -> None:
    token = governed.tokens[EMMA]
    missing = tmp_path / "no" / "such" / "folder" / "orders.csv"
    error = governed.cli.error("--token", token, "query", EU_ORDERS, "-o", str(missing), code=6)
    assert error["message"] == f"Folder does not exist: {missing.parent} (for --output {missing})"
    error = governed.cli.error(
        "--token", token, "query", EU_ORDERS, "--format", "csv", "-o", str(tmp_path), code=6
    )
    assert error["message"] == f"--output names a folder: {tmp_path} (give a file name)"
    assert governed.json(EMMA, "query", "history") == []  # nothing ran


def test_query_writes_parquet(governed: Governed, tmp_path: Path) -> None:
    expected = governed.expected_orders()
    target = tmp_path / "orders.parquet"
    summary = governed.json(EMMA, "query", EU_ORDERS, "--output", str(target))
    assert isinstance(summary, dict)
    assert (summary["format"], summary["rows_returned"]) == ("parquet", expected.num_rows)
    assert pq.read_table(target).equals(expected)
    piped = governed.cli.run(
        "--token", governed.tokens[EMMA], "query", EU_ORDERS, "--format", "parquet"
    )
    assert pq.read_table(io.BytesIO(piped.stdout_bytes)).equals(expected)


def test_history(governed: Governed) -> None:
    governed.run(MIA, "query", "SELECT 1 AS one")
    governed.run(MIA, "query", f"SELECT phone FROM {CUSTOMERS}", code=4)
    history = governed.json(MIA, "query", "history", "--limit", "5")
    assert isinstance(history, list)
    assert [(q["status"], q["sql"]) for q in history] == [
        ("denied", f"SELECT phone FROM {CUSTOMERS}"),
        ("succeeded", "SELECT 1 AS one"),
    ]
    assert "denied" in governed.run(MIA, "query", "history")
    error = governed.cli.error(
        "--token", governed.tokens[MIA], "query", "history", "--principal", EMMA, code=4
    )
    assert error["message"] == f"{MIA} may not read the query history of {EMMA}"
    as_admin = governed.cli.json("query", "history", "--principal", MIA)
    assert [q["principal"] for q in as_admin] == [MIA, MIA]


def test_jobs(governed: Governed) -> None:
    job = governed.json(EMMA, "query", "submit", EU_ORDERS)
    assert isinstance(job, dict)
    deadline = time.monotonic() + 30
    status = ""
    while status != "succeeded" and time.monotonic() < deadline:
        found = governed.json(EMMA, "query", "status", str(job["id"]))
        assert isinstance(found, dict)
        status = str(found["status"])
        time.sleep(0.05)
    assert status == "succeeded"
    assert "succeeded" in governed.run(EMMA, "query", "status", str(job["id"]))
    csv = governed.run(EMMA, "query", "results", str(job["id"]), "--format", "csv")
    assert csv.splitlines()[0] == '"order_id","amount"'
    cancelled = governed.json(EMMA, "query", "cancel", str(job["id"]))
    assert isinstance(cancelled, dict)
    assert cancelled["status"] == "succeeded"  # a finished job stays as it was


def test_query_help_lists_the_commands(admin_cli: Cli) -> None:
    out = admin_cli.run("query", "--help").stdout
    for command in ("run", "history", "submit", "status", "results", "cancel"):
        assert command in out


def test_workgroups(governed: Governed) -> None:
    cli = governed.cli
    created = cli.json(
        "workgroup",
        "create",
        "analysts",
        "--max-bytes-per-query",
        "10MB",
        "--max-concurrent",
        "2",
        "--result-retention",
        "12h",
    )
    assert (created["max_bytes_per_query"], created["max_concurrent"]) == (10 * 1024**2, 2)
    assert created["result_retention"] == "12h"
    assert "10.0 MiB" in cli.run("workgroup", "show", "analysts").stdout
    assert "analysts" in cli.run("workgroup", "list").stdout
    updated = cli.json("workgroup", "update", "analysts", "--max-bytes-per-query", "none")
    assert updated["max_bytes_per_query"] is None
    assert (updated["max_concurrent_per_principal"], updated["timeout_seconds"]) == (2, 60)
    cli.json("workgroup", "update", "analysts", "--max-concurrent-per-principal", "3")
    shown = cli.run("workgroup", "show", "analysts").stdout
    assert "max concurrent per principal" in shown
    assert " 3" in shown
    result = governed.json(EMMA, "query", "SELECT 1 AS one", "--workgroup", "analysts")
    assert isinstance(result, dict)
    assert result["rows"] == [[1]]
    error = cli.error("workgroup", "create", "bad", "--max-bytes-per-month", "lots", code=6)
    assert error["message"].startswith("Invalid --max-bytes-per-month: 'lots'")
    error = cli.error("--token", governed.tokens[EMMA], "workgroup", "create", "mine", code=4)
    assert error["message"] == f"{EMMA} is not a mesh admin"
    assert "Deleted workgroup analysts" in cli.run("workgroup", "delete", "analysts").stdout
    error = cli.error("workgroup", "delete", "primary", code=5)
    assert error["message"] == "The default workgroup cannot be deleted: primary"


def test_workgroup_memory_and_result_limits(governed: Governed) -> None:
    cli = governed.cli
    shown = cli.run("workgroup", "show", "primary").stdout
    for line in ("memory per query", "2.0 GiB", "max rows per result", "1000000", "100.0 MiB"):
        assert line in shown
    created = cli.json(
        "workgroup",
        "create",
        "capped",
        "--max-memory",
        "512MB",
        "--max-rows",
        "2",
        "--max-result-bytes",
        "none",
    )
    assert (created["max_memory_bytes"], created["max_rows"], created["max_result_bytes"]) == (
        512 * 1024**2,
        2,
        None,
    )
    token = governed.tokens[EMMA]
    sql = "SELECT * FROM range(3)"
    error = cli.error("--token", token, "query", sql, "--workgroup", "capped", code=8)
    assert error["message"] == (
        "Query returned more than the row limit of 2 rows (max_rows) (workgroup capped)"
    )
    updated = cli.json(
        "workgroup", "update", "capped", "--max-rows", "none", "--max-memory", "none"
    )
    assert (updated["max_rows"], updated["max_memory_bytes"]) == (None, 2 * 1024**3)
    error = cli.error("workgroup", "update", "capped", "--max-memory", "1MB", code=6)
    assert error["message"].startswith("Invalid --max-memory: 1048576 (at least")
