"""The query service end to end on each store backend: real grants, real files, real DuckDB.

Expected results are computed independently with pyarrow from the raw files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakemesh import audit
from lakemesh.api.schemas.queries import QueryPublic
from lakemesh.errors import AccessDeniedError, NotFoundError, QueryRejectedError
from lakemesh.governance import masks, tag_assignments, tags
from lakemesh.query import service
from lakemesh.query.history import list_history
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories.query import (
    BOB,
    CARL,
    CORA,
    CUSTOMERS,
    EMMA,
    MIA,
    NOBODY,
    ORDERS,
    SAM,
    STORES,
    ULF,
    UNA,
    GovernedMesh,
    build_governed_mesh,
)


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(env, tmp_path / "lake")


def run(mesh: GovernedMesh, principal: str, sql: str) -> pa.Table:
    return service.run(mesh.hub, actor=mesh.actor(principal), sql=sql).result.table


def sorted_rows(table: pa.Table, key: str) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: row[key])


def events(mesh: GovernedMesh, **criteria: Any) -> list[AuditEvent]:
    with mesh.hub.read() as session:
        return list(audit.search(session, reader=mesh.admin, **criteria))


# -- what each principal sees, against pyarrow over the raw files -----------------------------


def test_tag_grant_hides_pii_columns(mesh: GovernedMesh) -> None:
    table = run(mesh, MIA, f"SELECT * FROM {CUSTOMERS}")
    raw = mesh.raw(CUSTOMERS)
    expected = raw.select(["customer_id", "name", "segment", "lifetime_value", "region"])
    assert table.column_names == expected.column_names
    assert sorted_rows(table, "customer_id") == sorted_rows(expected, "customer_id")


def test_row_filter_reads_the_callers_region(mesh: GovernedMesh) -> None:
    raw = mesh.raw(ORDERS)
    for principal, region in ((EMMA, "EU"), (ULF, "US")):
        table = run(mesh, principal, f"SELECT * FROM {ORDERS}")
        expected = raw.filter(pc.equal(raw["region"], region))
        assert sorted_rows(table, "order_id") == sorted_rows(expected, "order_id")
        assert expected.num_rows > 0


def test_aggregates_see_only_filtered_rows(mesh: GovernedMesh) -> None:
    raw = mesh.raw(ORDERS)
    eu = raw.filter(pc.equal(raw["region"], "EU"))
    table = run(mesh, EMMA, f"SELECT count(*) AS n, sum(amount) AS total FROM {ORDERS}")
    assert table.to_pylist() == [{"n": eu.num_rows, "total": pc.sum(eu["amount"]).as_py()}]


def test_masks_apply_and_unmask_lifts_them(mesh: GovernedMesh) -> None:
    raw = {row["customer_id"]: row for row in mesh.raw(CUSTOMERS).to_pylist()}
    sql = f"SELECT customer_id, email, phone FROM {CUSTOMERS}"
    for row in run(mesh, CARL, sql).to_pylist():
        source = raw[row["customer_id"]]
        assert row["email"] == source["email"].split("@")[1]
        assert row["phone"] == "****" + source["phone"][-4:]
    for row in run(mesh, UNA, sql).to_pylist():
        source = raw[row["customer_id"]]
        assert row["email"] == source["email"]
        assert row["phone"] == "****" + source["phone"][-4:]


def test_hash_mask_is_salted_with_the_mesh_salt(mesh: GovernedMesh) -> None:
    with mesh.hub.transaction() as session:
        tags.create_tag(session, actor=mesh.admin, key="hashed", values=["yes"])
        tag_assignments.assign_tags(
            session, actor=mesh.admin, resource=f"{CUSTOMERS}.segment", tags={"hashed": "yes"}
        )
        masks.create_mask(
            session, actor=mesh.admin, name="hash_it", tag_expression="hashed=yes", function="hash"
        )
    salt = mesh.hub.mask_salt()
    raw = {row["customer_id"]: row for row in mesh.raw(CUSTOMERS).to_pylist()}
    for row in run(mesh, CARL, f"SELECT customer_id, segment FROM {CUSTOMERS}").to_pylist():
        segment = raw[row["customer_id"]]["segment"]
        assert row["segment"] == hashlib.sha256((salt + segment).encode()).hexdigest()


def test_cell_semantics_null_uncovered_cells(mesh: GovernedMesh) -> None:
    table = run(mesh, CORA, f"SELECT customer_id, name, email, region FROM {CUSTOMERS}")
    raw = {row["customer_id"]: row for row in mesh.raw(CUSTOMERS).to_pylist()}
    assert table.num_rows == len(raw)
    for row in table.to_pylist():
        source = raw[row["customer_id"]]
        assert row["name"] == source["name"]
        expected = source["email"].split("@")[1] if source["region"] == "EU" else None
        assert row["email"] == expected


def test_domain_admin_reads_everything_unmasked_with_two_part_names(mesh: GovernedMesh) -> None:
    table = run(mesh, SAM, "SELECT * FROM crm.customers")
    assert sorted_rows(table, "customer_id") == sorted_rows(mesh.raw(CUSTOMERS), "customer_id")
    stores = run(mesh, SAM, "SELECT * FROM crm.stores ORDER BY store_id")
    assert stores.to_pylist() == mesh.raw(STORES).to_pylist()


def test_join_across_tables(mesh: GovernedMesh) -> None:
    table = run(
        mesh,
        BOB,
        f"SELECT c.region, count(*) AS n FROM {ORDERS} o JOIN {CUSTOMERS} c "
        "ON o.customer_id = c.customer_id GROUP BY c.region",
    )
    orders = mesh.raw(ORDERS)
    expected = orders.group_by("region").aggregate([("order_id", "count")])
    counts = dict(
        zip(expected["region"].to_pylist(), expected["order_id_count"].to_pylist(), strict=True)
    )
    assert {row["region"]: row["n"] for row in table.to_pylist()} == counts


# -- denials and existence ---------------------------------------------------------------------


def test_hidden_and_missing_tables_get_the_same_denial(mesh: GovernedMesh) -> None:
    nobody = mesh.actor(NOBODY)
    denials = []
    for table in (CUSTOMERS, "sales.crm.nope", "nowhere.db.t"):
        with pytest.raises(AccessDeniedError) as info:
            service.run(mesh.hub, actor=nobody, sql=f"SELECT * FROM {table}")
        assert info.value.message == f"{NOBODY} lacks SELECT on {table}"
        details = dict(info.value.details)
        assert details.pop("resource") == table
        denials.append(details)
    assert denials[0] == denials[1] == denials[2]


def test_those_who_see_the_domain_learn_a_table_is_missing(mesh: GovernedMesh) -> None:
    with pytest.raises(NotFoundError, match="Table does not exist: sales.crm.nope"):
        run(mesh, SAM, "SELECT * FROM sales.crm.nope")
    with pytest.raises(NotFoundError, match="Table does not exist: customers"):
        run(mesh, SAM, "SELECT * FROM customers")


def test_two_part_names_are_in_the_callers_domain(mesh: GovernedMesh) -> None:
    with pytest.raises(AccessDeniedError, match=f"{MIA} lacks SELECT on marketing.crm.customers"):
        run(mesh, MIA, "SELECT * FROM crm.customers")
    assert run(mesh, EMMA, "SELECT count(*) AS n FROM crm.orders").to_pylist()[0]["n"] > 0


def test_hidden_column_is_denied_by_name(mesh: GovernedMesh) -> None:
    with pytest.raises(AccessDeniedError, match=f"{MIA} lacks SELECT on {CUSTOMERS}.email"):
        run(mesh, MIA, f"SELECT email FROM {CUSTOMERS}")


def test_mesh_admins_get_no_data_they_were_not_granted(mesh: GovernedMesh) -> None:
    with pytest.raises(AccessDeniedError, match=f"user:admin@governance lacks SELECT on {ORDERS}"):
        service.run(mesh.hub, actor=mesh.admin, sql=f"SELECT * FROM {ORDERS}")


# -- history and audit ------------------------------------------------------------------------


def test_a_query_is_recorded_and_audited_per_table(mesh: GovernedMesh) -> None:
    outcome = service.run(
        mesh.hub,
        actor=mesh.actor(EMMA),
        sql=f"SELECT o.order_id, s.city FROM {ORDERS} o JOIN {STORES} s ON o.region = s.region",
    )
    with mesh.hub.read() as session:
        (row,) = list_history(session, actor=mesh.actor(EMMA))
        record = QueryPublic.from_row(row).model_dump()
    assert record["query_id"] == outcome.query_id
    assert record["status"] == record["outcome"] == "succeeded"
    assert record["tables"] == [ORDERS, STORES]
    assert record["columns"] == {ORDERS: ["order_id", "region"], STORES: ["city", "region"]}
    assert record["filters"] == {ORDERS: ["\"region\" = 'EU'"]}
    assert record["rows_returned"] == outcome.result.rows
    assert record["bytes_scanned"] == outcome.result.bytes_scanned > 0
    (query,) = [event for event in events(mesh, actor=EMMA) if event.action == "query"]
    assert query.resource == ORDERS
    assert query.outcome == "success"
    assert query.details["sql"] == outcome.result.sql
    assert query.details["rows"] == outcome.result.rows
    reads = events(mesh, action="query.read", resource=STORES)
    assert [(event.actor, event.details["columns"]) for event in reads] == [
        (EMMA, ["city", "region"])
    ]


def test_a_denial_is_audited_once_and_kept_in_history(mesh: GovernedMesh) -> None:
    with pytest.raises(AccessDeniedError):
        run(mesh, MIA, f"SELECT phone FROM {CUSTOMERS}")
    audited = events(mesh, actor=MIA)
    assert [(e.action, e.resource, e.outcome) for e in audited] == [
        ("query", f"{CUSTOMERS}.phone", "denied")
    ]
    assert audited[0].details["error"]["message"] == f"{MIA} lacks SELECT on {CUSTOMERS}.phone"
    assert [e.seq for e in events(mesh, resource=CUSTOMERS, actor=MIA)] == [audited[0].seq]
    with mesh.hub.read() as session:
        (row,) = list_history(session, actor=mesh.actor(MIA))
    assert (row.status, row.error_type, row.tables) == ("denied", "access_denied", [CUSTOMERS])


def test_a_rejected_statement_is_audited_and_in_history(mesh: GovernedMesh) -> None:
    with pytest.raises(QueryRejectedError) as info:
        run(mesh, BOB, f"DELETE FROM {ORDERS}")
    (event,) = events(mesh, actor=BOB)
    assert (event.action, event.resource, event.outcome) == ("query", "query", "rejected")
    assert event.details["error"]["message"] == info.value.message
    with mesh.hub.read() as session:
        (row,) = list_history(session, actor=mesh.actor(BOB))
    assert row.status == "rejected"


def test_history_of_others_is_for_mesh_admins(mesh: GovernedMesh) -> None:
    run(mesh, EMMA, f"SELECT count(*) FROM {ORDERS}")
    with (
        mesh.hub.read() as session,
        pytest.raises(AccessDeniedError, match=f"{ULF} may not read the query history of {EMMA}"),
    ):
        list_history(session, actor=mesh.actor(ULF), principal=EMMA)
    with mesh.hub.read() as session:
        rows = list_history(session, actor=mesh.admin, principal=EMMA)
    assert [row.principal for row in rows] == [EMMA]
