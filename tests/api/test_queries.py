"""``/queries`` and ``/workgroups`` over real HTTP: the end-to-end security suite, formats, jobs.

One governed mesh (tests/factories/query.py) is served by uvicorn for the module; each principal
queries with its own token. Expected rows are computed with pyarrow from the raw files.
"""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pytest

from lakemesh.api.server import serve_in_background
from tests.api.conftest import error_of, ok
from tests.conftest import make_hub_env
from tests.factories.query import (
    ADMIN,
    BOB,
    CARL,
    CUSTOMERS,
    EMMA,
    MIA,
    NOBODY,
    ORDERS,
    SAM,
    ULF,
    UNA,
    GovernedMesh,
    build_governed_mesh,
)

ARROW = "application/vnd.apache.arrow.stream"
SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"
VISIBLE = ["customer_id", "name", "region"]  # what bob may read of customers


@dataclass
class Served:
    mesh: GovernedMesh
    url: str
    tokens: dict[str, str]

    def client(self, principal: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[principal]}"}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("queries")
    env = make_hub_env(root / "home")
    mesh = build_governed_mesh(env, root / "lake")
    people = (ADMIN, SAM, MIA, BOB, EMMA, ULF, CARL, UNA, NOBODY)
    tokens = {ref: env.token if ref == ADMIN else mesh.token(ref) for ref in people}
    with serve_in_background(env.hub) as url:
        yield Served(mesh, url, tokens)
    env.hub.close()


@pytest.fixture(scope="module")
def as_user(served: Served) -> Iterator[Callable[[str], httpx.Client]]:
    clients: dict[str, httpx.Client] = {}

    def client(principal: str) -> httpx.Client:
        if principal not in clients:
            clients[principal] = served.client(principal)
        return clients[principal]

    yield client
    for opened in clients.values():
        opened.close()


_names = itertools.count(1)


def query(client: httpx.Client, sql: str, **body: Any) -> httpx.Response:
    return client.post("/queries", json={"sql": sql, **body})


def rows_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    names = [column["name"] for column in result["columns"]]
    return [dict(zip(names, row, strict=True)) for row in result["rows"]]


# -- the security suite: bob reads customers' customer_id, name, region only ------------------

DENIED_EMAIL = f"{BOB} lacks SELECT on {CUSTOMERS}.email"
DENIED_PHONE = f"{BOB} lacks SELECT on {CUSTOMERS}.phone"

REFUSED = [
    ("alias", f"SELECT c.email AS e FROM {CUSTOMERS} c", DENIED_EMAIL),
    ("cte", f"WITH x AS (SELECT * FROM {CUSTOMERS}) SELECT email FROM x", DENIED_EMAIL),
    (
        "cte named like the table",
        f"WITH customers AS (SELECT email FROM {CUSTOMERS}) SELECT * FROM customers",
        DENIED_EMAIL,
    ),
    ("subquery", f"SELECT e FROM (SELECT email AS e FROM {CUSTOMERS}) t", DENIED_EMAIL),
    (
        "scalar subquery",
        f"SELECT name, (SELECT max(phone) FROM {CUSTOMERS}) FROM {CUSTOMERS}",
        DENIED_PHONE,
    ),
    (
        "union",
        f"SELECT name FROM {CUSTOMERS} UNION ALL SELECT email FROM {CUSTOMERS}",
        DENIED_EMAIL,
    ),
    ("star plus hidden", f"SELECT *, email FROM {CUSTOMERS}", DENIED_EMAIL),
    ("order by", f"SELECT name FROM {CUSTOMERS} ORDER BY phone", DENIED_PHONE),
    ("where", f"SELECT name FROM {CUSTOMERS} WHERE email LIKE '%corp%'", DENIED_EMAIL),
    ("group by", f"SELECT count(*) FROM {CUSTOMERS} GROUP BY phone", DENIED_PHONE),
    ("window", f"SELECT name, row_number() OVER (ORDER BY email) FROM {CUSTOMERS}", DENIED_EMAIL),
    ("case and quoting", 'SELECT "EMAIL" FROM Sales.CRM."customers"', DENIED_EMAIL),
    (
        "join condition",
        f"SELECT o.order_id FROM {ORDERS} o JOIN {CUSTOMERS} c "
        "ON o.customer_id = c.customer_id AND c.email IS NOT NULL",
        DENIED_EMAIL,
    ),
    ("comment", f"SELECT name /* , email */, phone -- email\n FROM {CUSTOMERS}", DENIED_PHONE),
]

PERMITTED = [
    ("star", f"SELECT * FROM {CUSTOMERS}"),
    ("qualified star", f"SELECT c.* FROM {CUSTOMERS} c"),
    ("star through a cte", f"WITH x AS (SELECT * FROM {CUSTOMERS}) SELECT * FROM x"),
    ("star through a subquery", f"SELECT * FROM (SELECT * FROM {CUSTOMERS}) t"),
    ("excluding a hidden column", f"SELECT * EXCLUDE (email) FROM {CUSTOMERS}"),
]

REJECTED = [
    (f"DELETE FROM {ORDERS}", "Statement not allowed: DELETE"),
    ("SELECT * FROM read_parquet('/etc/passwd')", "Table function not allowed: read_parquet"),
    (f"COPY {ORDERS} TO '/tmp/out.csv'", "Statement not allowed: COPY"),
    ("ATTACH '/tmp/other.db'", "Statement not allowed: ATTACH"),
    ("PRAGMA database_list", "Statement not allowed: PRAGMA"),
    ("SET threads = 1", "Statement not allowed: SET"),
    (f"SELECT 1; SELECT * FROM {CUSTOMERS}", "Only one statement is allowed, got 2"),
    ("SELECT getenv('HOME')", "Function not allowed: getenv"),
    ("SELECT * FROM information_schema.tables", "System catalog not reachable"),
]


@pytest.mark.parametrize(("case", "sql", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_hidden_columns_cannot_be_read(
    as_user: Callable[[str], httpx.Client], case: str, sql: str, message: str
) -> None:
    error = error_of(query(as_user(BOB), sql), 403)
    assert error["type"] == "access_denied"
    assert error["message"] == message


@pytest.mark.parametrize(("case", "sql"), PERMITTED, ids=[c[0] for c in PERMITTED])
def test_stars_expand_to_the_visible_columns(
    served: Served, as_user: Callable[[str], httpx.Client], case: str, sql: str
) -> None:
    result = ok(query(as_user(BOB), sql))
    assert [column["name"] for column in result["columns"]] == VISIBLE
    expected = served.mesh.raw(CUSTOMERS).select(VISIBLE).to_pylist()
    key = "customer_id"
    assert sorted(rows_of(result), key=lambda r: r[key]) == sorted(expected, key=lambda r: r[key])


@pytest.mark.parametrize(("sql", "message"), REJECTED)
def test_statements_other_than_one_query_are_rejected(
    as_user: Callable[[str], httpx.Client], sql: str, message: str
) -> None:
    error = error_of(query(as_user(BOB), sql), 400)
    assert error["type"] == "query_rejected"
    assert error["message"].startswith(message)


def test_a_missing_table_and_a_hidden_one_answer_alike(
    as_user: Callable[[str], httpx.Client],
) -> None:
    client = as_user(NOBODY)
    hidden = error_of(query(client, f"SELECT * FROM {CUSTOMERS}"), 403)
    missing = error_of(query(client, "SELECT * FROM sales.crm.nope"), 403)
    assert hidden["message"] == f"{NOBODY} lacks SELECT on {CUSTOMERS}"
    assert missing["message"] == f"{NOBODY} lacks SELECT on sales.crm.nope"
    assert {**hidden["details"], "resource": None} == {**missing["details"], "resource": None}
    assert error_of(query(as_user(SAM), "SELECT * FROM sales.crm.nope"), 404)["message"] == (
        "Table does not exist: sales.crm.nope"
    )


# -- rows, cells and masks --------------------------------------------------------------------


@pytest.mark.parametrize(("principal", "region"), [(EMMA, "EU"), (ULF, "US")])
def test_row_filter_bound_to_the_caller(
    served: Served, as_user: Callable[[str], httpx.Client], principal: str, region: str
) -> None:
    result = ok(query(as_user(principal), f"SELECT * FROM {ORDERS} ORDER BY order_id"))
    raw = served.mesh.raw(ORDERS)
    expected = raw.filter(pc.equal(raw["region"], region)).sort_by("order_id").to_pylist()
    assert rows_of(result) == expected


def test_masks_and_unmask(served: Served, as_user: Callable[[str], httpx.Client]) -> None:
    raw = {row["customer_id"]: row for row in served.mesh.raw(CUSTOMERS).to_pylist()}
    sql = f"SELECT customer_id, email, phone FROM {CUSTOMERS}"
    for row in rows_of(ok(query(as_user(CARL), sql))):
        assert row["email"] == raw[row["customer_id"]]["email"].split("@")[1]
        assert row["phone"] == "****" + raw[row["customer_id"]]["phone"][-4:]
    for row in rows_of(ok(query(as_user(UNA), sql))):
        assert row["email"] == raw[row["customer_id"]]["email"]


def test_analyst_sees_no_pii(served: Served, as_user: Callable[[str], httpx.Client]) -> None:
    result = ok(query(as_user(MIA), f"SELECT * FROM {CUSTOMERS}"))
    assert [c["name"] for c in result["columns"]] == [
        "customer_id",
        "name",
        "segment",
        "lifetime_value",
        "region",
    ]
    assert result["rows_returned"] == served.mesh.raw(CUSTOMERS).num_rows


# -- formats ----------------------------------------------------------------------------------


def test_json_csv_and_arrow_agree(served: Served, as_user: Callable[[str], httpx.Client]) -> None:
    client = as_user(EMMA)
    sql = f"SELECT order_id, amount, status FROM {ORDERS} ORDER BY order_id"
    result = ok(query(client, sql, format="json"))
    assert set(result) == {
        "query_id",
        "columns",
        "rows",
        "bytes_scanned",
        "rows_returned",
        "duration_ms",
        "warnings",
    }
    assert result["warnings"] == []
    assert result["columns"] == [
        {"name": "order_id", "type": "BIGINT"},
        {"name": "amount", "type": "DOUBLE"},
        {"name": "status", "type": "VARCHAR"},
    ]
    arrow = query(client, sql, format="arrow")
    assert arrow.headers["content-type"] == ARROW
    assert arrow.headers["x-lakemesh-rows"] == str(result["rows_returned"])
    table = pa.ipc.open_stream(arrow.content).read_all()
    raw = served.mesh.raw(ORDERS)
    expected = raw.filter(pc.equal(raw["region"], "EU")).sort_by("order_id")
    assert table.equals(expected.select(["order_id", "amount", "status"]))
    assert rows_of(result) == table.to_pylist()
    csv = query(client, sql, format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    types = pa_csv.ConvertOptions(column_types=table.schema)
    assert pa_csv.read_csv(io.BytesIO(csv.content), convert_options=types).equals(table)


def test_unknown_format(as_user: Callable[[str], httpx.Client]) -> None:
    error = error_of(query(as_user(EMMA), "SELECT 1", format="xml"), 400)
    assert error["message"].startswith("Invalid request: body.format")


# -- jobs -------------------------------------------------------------------------------------


def wait(client: httpx.Client, job_id: str, *statuses: str) -> dict[str, Any]:
    wanted = statuses or ("succeeded", "failed", "denied", "rejected", "cancelled")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status: dict[str, Any] = ok(client.get(f"/queries/jobs/{job_id}"))
        if status["status"] in wanted:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {wanted}")


def test_job_submit_status_results(as_user: Callable[[str], httpx.Client]) -> None:
    client = as_user(EMMA)
    sql = f"SELECT order_id, amount FROM {ORDERS} ORDER BY order_id"
    job = ok(client.post("/queries/jobs", json={"sql": sql}), 202)
    assert job["status"] == "queued"
    assert wait(client, job["id"])["status"] == "succeeded"
    synchronous = pa.ipc.open_stream(query(client, sql, format="arrow").content).read_all()
    arrow = client.get(f"/queries/jobs/{job['id']}/results", params={"format": "arrow"})
    assert pa.ipc.open_stream(ok_bytes(arrow)).read_all().equals(synchronous)
    as_json = ok(client.get(f"/queries/jobs/{job['id']}/results"))
    assert as_json["query_id"] == job["id"]
    assert rows_of(as_json) == synchronous.to_pylist()
    other = as_user(ULF).get(f"/queries/jobs/{job['id']}")
    assert error_of(other, 404)["message"] == f"Query job does not exist: {job['id']}"


def ok_bytes(response: httpx.Response) -> bytes:
    assert response.status_code == 200, response.text
    return response.content


def test_job_cancel(as_user: Callable[[str], httpx.Client]) -> None:
    client = as_user(EMMA)
    job = ok(client.post("/queries/jobs", json={"sql": SLOW}), 202)
    wait(client, job["id"], "running")
    pending = error_of(client.get(f"/queries/jobs/{job['id']}/results"), 409)
    assert pending["message"] == f"Query job {job['id']} has not finished: it is running"
    assert ok(client.delete(f"/queries/jobs/{job['id']}"))["status"] == "cancelled"
    cancelled = error_of(client.get(f"/queries/jobs/{job['id']}/results"), 409)
    assert cancelled == {
        "type": "query_cancelled",
        "message": "Query was cancelled",
        "details": {"id": job["id"]},
    }


# -- history, audit, workgroups ----------------------------------------------------------------


def test_history_keeps_denied_and_rejected_queries(
    served: Served, as_user: Callable[[str], httpx.Client]
) -> None:
    client = as_user(UNA)
    ok(query(client, f"SELECT count(*) FROM {CUSTOMERS}"))
    error_of(query(client, f"SELECT * FROM {ORDERS}"), 403)
    error_of(query(client, "DROP TABLE x"), 400)
    history = ok(client.get("/queries/history", params={"limit": 3}))
    assert [(q["status"], q["principal"]) for q in history] == [
        ("rejected", UNA),
        ("denied", UNA),
        ("succeeded", UNA),
    ]
    assert history[1]["error"] == {
        "type": "access_denied",
        "message": f"{UNA} lacks SELECT on {ORDERS}",
    }
    denied = error_of(client.get("/queries/history", params={"principal": EMMA}), 403)
    assert denied["message"] == f"{UNA} may not read the query history of {EMMA}"
    admin = as_user(ADMIN)
    assert (
        ok(admin.get("/queries/history", params={"principal": UNA, "limit": 1}))[0]["status"]
        == "rejected"
    )
    events = ok(admin.get("/audit/events", params={"actor": UNA, "action": "query", "limit": 5}))
    assert [(e["action"], e["resource"], e["outcome"]) for e in events] == [
        ("query.history", EMMA, "denied"),
        ("query", "query", "rejected"),
        ("query", ORDERS, "denied"),
        ("query.read", CUSTOMERS, "success"),
        ("query", CUSTOMERS, "success"),
    ]


def test_audit_finds_who_read_a_table(as_user: Callable[[str], httpx.Client]) -> None:
    ok(query(as_user(CARL), f"SELECT customer_id, email FROM {CUSTOMERS}"))
    events = ok(
        as_user(ADMIN).get(
            "/audit/events", params={"resource": CUSTOMERS, "action": "query.read", "actor": CARL}
        )
    )
    assert events[0]["details"]["columns"] == ["customer_id", "email"]
    assert events[0]["details"]["masks"] == {"email": "email_domain"}


def test_workgroups_over_http(as_user: Callable[[str], httpx.Client]) -> None:
    admin = as_user(ADMIN)
    name = f"tiny_{next(_names)}"
    assert "primary" in [w["name"] for w in ok(admin.get("/workgroups"))]
    created = ok(admin.post("/workgroups", json={"name": name, "max_bytes_per_query": 10}), 201)
    assert created["engine"] == "duckdb"
    assert created["result_retention"] == "7d"
    limited = error_of(query(as_user(EMMA), f"SELECT * FROM {ORDERS}", workgroup=name), 429)
    assert limited["type"] == "limit_exceeded"
    assert limited["message"].endswith(f"over the limit of 10 bytes per query (workgroup {name})")
    updated = ok(admin.patch(f"/workgroups/{name}", json={"max_bytes_per_query": None}))
    assert updated["max_bytes_per_query"] is None
    assert ok(query(as_user(EMMA), "SELECT 1 AS one", workgroup=name))["rows"] == [[1]]
    used = ok(as_user(EMMA).get(f"/workgroups/{name}/usage", params={"days": 2}))
    assert (used["workgroup"], used["max_bytes_per_month"], len(used["daily"])) == (name, None, 2)
    assert used["principal"] == EMMA
    assert used["bytes_this_month"] == sum(day["bytes_scanned"] for day in used["daily"])
    denied = error_of(as_user(EMMA).get(f"/workgroups/{name}/usage?all_principals=true"), 403)
    assert denied["message"] == (
        f"{EMMA} may not read the usage of every principal in workgroup {name}: only one's own "
        "(mesh admins read anyone's)"
    )
    assert error_of(as_user(EMMA).get(f"/workgroups/{name}/usage?principal={ADMIN}"), 403)
    refusals = ok(
        admin.get("/audit/events", params={"actor": EMMA, "resource": f"workgroup:{name}"})
    )
    assert [(e["action"], e["outcome"]) for e in refusals[:2]] == [("query.history", "denied")] * 2
    everyone = ok(admin.get(f"/workgroups/{name}/usage?all_principals=true"))
    assert everyone["principal"] is None
    assert everyone["bytes_this_month"] >= used["bytes_this_month"]
    assert ok(admin.get(f"/workgroups/{name}/usage?principal={EMMA}&days=2")) == used
    assert error_of(admin.get(f"/workgroups/{name}/usage?principal={EMMA}&all_principals=1"), 400)
    denied = error_of(as_user(EMMA).post("/workgroups", json={"name": "mine"}), 403)
    assert denied["message"] == f"{EMMA} is not a mesh admin"
    assert admin.delete(f"/workgroups/{name}").status_code == 204
    assert error_of(admin.get(f"/workgroups/{name}"), 404)["message"] == (
        f"Workgroup does not exist: {name}"
    )


def test_a_spark_connect_token_is_never_shown(as_user: Callable[[str], httpx.Client]) -> None:
    """The hub keeps a Spark Connect address's token to connect with, but its responses, its
    audit trail and its error messages carry the address with the token's value replaced."""
    admin = as_user(ADMIN)
    name = f"remote_{next(_names)}"
    secret = "s3cr3t-spark-token"
    remote = f"sc://spark.example:15002/;user_id=etl;token={secret}"
    body = {"name": name, "engine": "spark", "spark_remote": remote}
    created = admin.post("/workgroups", json=body)
    assert created.status_code == 201, created.text
    shown = "sc://spark.example:15002/;user_id=etl;token=***"
    assert created.json()["spark_remote"] == shown
    assert ok(admin.get(f"/workgroups/{name}"))["spark_remote"] == shown
    assert shown in [w["spark_remote"] for w in ok(admin.get("/workgroups"))]
    changed = admin.patch(f"/workgroups/{name}", json={"spark_remote": remote + "2"})
    assert changed.status_code == 200, changed.text
    refused = admin.patch(f"/workgroups/{name}", json={"engine": "duckdb", "spark_remote": remote})
    assert refused.status_code == 400
    bad = admin.post(
        "/workgroups", json={**body, "name": f"{name}_bad", "spark_remote": f"x;token={secret}"}
    )
    assert bad.status_code == 400
    events = admin.get("/audit/events", params={"resource": f"workgroup:{name}"})
    for text in (created.text, changed.text, refused.text, bad.text, events.text):
        assert secret not in text
    assert len(ok(events)) >= 2
    assert admin.delete(f"/workgroups/{name}").status_code == 204


# -- result size ------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["json", "csv", "arrow"])
def test_results_are_streamed(as_user: Callable[[str], httpx.Client], format: str) -> None:
    """A large result goes out in chunks (no Content-Length: nothing was serialised whole)."""
    sql = "SELECT range AS n, 'row ' || range AS label FROM range(50000)"
    with as_user(EMMA).stream("POST", "/queries", json={"sql": sql, "format": format}) as answer:
        assert answer.status_code == 200
        assert "content-length" not in answer.headers
        assert answer.headers["transfer-encoding"] == "chunked"
        assert answer.headers["x-lakemesh-rows"] == "50000"
        chunks = [chunk for chunk in answer.iter_raw() if chunk]
        body = b"".join(chunks)
    assert len(chunks) > 1
    if format == "json":
        result = json.loads(body)
        assert result["rows_returned"] == 50000
        assert result["rows"][49999] == [49999, "row 49999"]
    elif format == "csv":
        assert body.decode().splitlines()[-1] == '49999,"row 49999"'
    else:
        assert pa.ipc.open_stream(body).read_all().num_rows == 50000


def test_result_limits_of_a_workgroup(as_user: Callable[[str], httpx.Client]) -> None:
    admin = as_user(ADMIN)
    primary = ok(admin.get("/workgroups/primary"))
    assert (primary["max_rows"], primary["max_result_bytes"], primary["max_memory_bytes"]) == (
        1_000_000,
        100 * 1024**2,
        2 * 1024**3,
    )
    name = f"results_{next(_names)}"
    created = ok(admin.post("/workgroups", json={"name": name, "max_rows": 100}), 201)
    assert (created["max_rows"], created["max_result_bytes"]) == (100, 100 * 1024**2)
    rows = error_of(query(as_user(EMMA), "SELECT * FROM range(101)", workgroup=name), 429)
    assert rows["message"] == (
        f"Query returned more than the row limit of 100 rows (max_rows) (workgroup {name})"
    )
    assert rows["details"] == {"limit": "max_rows", "value": 100, "workgroup": name}
    ok(admin.patch(f"/workgroups/{name}", json={"max_rows": None, "max_result_bytes": 100000}))
    sql = "SELECT repeat('x', 1000) AS x FROM range(1000)"
    size = error_of(query(as_user(EMMA), sql, workgroup=name), 429)
    assert size["message"] == (
        f"Query result is larger than the limit of 100000 bytes (max_result_bytes) "
        f"(workgroup {name})"
    )
    assert (
        ok(query(as_user(EMMA), "SELECT * FROM range(101)", workgroup=name))["rows_returned"] == 101
    )
