"""Reviewed schema changes: a real crawl of real Parquet files that breaks a published contract
waits as a proposal; consumers keep reading the contracted schema (``hold``) or the product is
marked ``contract_violated`` (``violate``) until the domain's admin accepts or rejects it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from lakemesh.catalog import tables
from lakemesh.catalog.table_diff import diff_table
from lakemesh.errors import AccessDeniedError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.names import parse_resource
from lakemesh.sharing import products
from lakemesh.sharing.schema_changes import accept_schema_change, reject_schema_change
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories.contracted import (
    ANA,
    CONTRACT,
    MIA,
    NARROWED,
    ORIGINAL,
    RENAMED,
    SUE,
    TABLE,
    Shop,
    build_shop,
)
from tests.factories.lake import Lake


@pytest.fixture
def shop(env: HubEnv, tmp_path: Path) -> Shop:
    return build_shop(env, Lake(tmp_path / "lake"))


SELECT = f"SELECT * FROM {TABLE} ORDER BY id"


def test_a_held_breaking_change_leaves_readers_results_unchanged_until_accepted(
    shop: Shop,
) -> None:
    before, _ = shop.query(MIA, SELECT)
    crawled = shop.crawl(NARROWED)
    assert crawled.status == "held"
    assert crawled.proposal is not None
    assert crawled.schema_version == 1
    held, _ = shop.query(MIA, SELECT)
    assert held.equals(before)  # same columns, same types, same values
    versions = shop.versions()
    [proposal] = versions["proposals"]
    assert (proposal["status"], proposal["mode"], proposal["table"]) == ("pending", "hold", TABLE)
    assert proposal["summary"] == "id BIGINT -> INTEGER; added note"
    assert shop.crawl().status == "held"  # a re-crawl proposes nothing new
    assert len(shop.versions()["proposals"]) == 1
    [told] = shop.inbox(MIA)
    assert told.kind == "schema_change_proposed"
    assert f"Breaking schema change to {TABLE} waits for review" in told.subject

    with shop.env.hub.transaction() as session:
        accept_schema_change(
            session, actor=shop.actor(SUE), product="items", proposal_id=proposal["id"]
        )
    after, _ = shop.query(MIA, SELECT)
    assert after.column_names == ["id", "name", "amount", "note"]
    assert after.schema.field("id").type == pa.int32()
    versions = shop.versions()
    assert versions["version"] == "2.0.0"
    assert [(v["version"], v["reason"]) for v in versions["versions"]] == [
        ("1.0.0", "publish"),
        ("2.0.0", "schema_change"),
    ]
    assert versions["versions"][1]["schemas"] == {TABLE: 2}
    assert versions["proposals"][0]["status"] == "accepted"
    assert [n.kind for n in shop.inbox(MIA)] == [
        "schema_change_proposed",
        "schema_change_accepted",
    ]
    assert shop.crawl().status == "unchanged"


def test_a_dropped_column_reads_as_null_of_its_type_and_a_rejection_keeps_it_so(
    shop: Shop,
) -> None:
    assert shop.crawl(RENAMED).status == "held"
    held, _ = shop.query(MIA, SELECT)
    assert held.column_names == ["id", "name", "amount"]
    assert held.schema.field("amount").type == pa.float64()
    assert held.column("amount").to_pylist() == [None, None, None]
    [proposal] = shop.versions()["proposals"]
    assert proposal["summary"] == "dropped amount; added total"
    with shop.env.hub.transaction() as session:
        reject_schema_change(
            session,
            actor=shop.actor(SUE),
            product="items",
            proposal_id=proposal["id"],
            comment="put amount back",
        )
    assert shop.crawl().status == "held"  # rejected already: no new proposal
    assert [p["status"] for p in shop.versions()["proposals"]] == ["rejected"]
    assert shop.crawl(ORIGINAL).status == "unchanged"  # the files are back
    fixed, _ = shop.query(MIA, SELECT)
    assert fixed.column("amount").to_pylist() == [1.5, 2.5, 3.5]
    with shop.env.hub.read() as session:
        actions = [
            (e.action, e.actor)
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
            if e.action.startswith("schema.")
        ]
    assert actions == [("schema.propose", SUE), ("schema.reject", SUE)]


def test_a_compatible_change_applies_and_is_recorded(shop: Shop) -> None:
    crawled = shop.crawl({**ORIGINAL, "note": pa.array(["x", "y", "z"])})
    assert (crawled.status, crawled.schema_version) == ("updated", 2)
    [applied] = shop.versions()["proposals"]
    assert (applied["status"], applied["breaking"], applied["summary"]) == (
        "applied",
        False,
        "added note",
    )
    assert shop.inbox(MIA) == []
    assert shop.versions()["version"] == "1.0.0"


def test_a_partition_change_is_breaking(shop: Shop) -> None:
    (shop.lake.root / "shop/sales/items/part-0.parquet").unlink()
    for name in ("a", "b", "c"):
        data = {
            key: values.filter(pa.array([v == name for v in ["a", "b", "c"]]))
            for key, values in ORIGINAL.items()
            if key != "name"
        }
        shop.lake.parquet(f"shop/sales/items/name={name}/part-0.parquet", pa.table(data))
    assert shop.crawl().status == "held"
    [proposal] = shop.versions()["proposals"]
    assert "partition change" in proposal["summary"]
    held, _ = shop.query(MIA, SELECT)
    assert held.column("name").to_pylist() == ["a", "b", "c"]


def test_violate_mode_serves_the_change_and_marks_the_product(env: HubEnv, tmp_path: Path) -> None:
    shop = build_shop(env, Lake(tmp_path / "lake"), mode="violate")
    crawled = shop.crawl(RENAMED)
    assert (crawled.status, crawled.schema_version) == ("updated", 2)
    table, warnings = shop.query(MIA, SELECT)
    assert table.column_names == ["id", "name", "total"]
    assert warnings == (
        "Data product items violates its contract 1.0.0: a breaking schema change waits for "
        "its producers' review",
    )
    versions = shop.versions()
    assert versions["status"] == "contract_violated"
    assert [n.kind for n in shop.inbox(MIA)] == ["schema_change_proposed", "contract_violated"]
    with shop.env.hub.transaction() as session:
        reject_schema_change(
            session,
            actor=shop.actor(SUE),
            product="items",
            proposal_id=versions["proposals"][0]["id"],
        )
    table, warnings = shop.query(MIA, SELECT)
    assert (table.column_names, warnings) == (["id", "name", "amount"], ())
    assert shop.versions()["status"] == "published"


def test_accepting_needs_a_contract_that_fits_and_an_admin(shop: Shop) -> None:
    shop.crawl(RENAMED)
    [proposal] = shop.versions()["proposals"]
    with (
        pytest.raises(AccessDeniedError, match=f"{ANA} is not an admin of domain shop"),
        shop.env.hub.transaction() as session,
    ):
        accept_schema_change(
            session, actor=shop.actor(ANA), product="items", proposal_id=proposal["id"]
        )
    with (
        pytest.raises(
            NotFoundError, match="Schema proposal 999 of data product items does not exist"
        ),
        shop.env.hub.transaction() as session,
    ):
        accept_schema_change(session, actor=shop.actor(SUE), product="items", proposal_id=999)
    bad = CONTRACT.replace("version: 1.0.0", "version: 2.0.0")  # still promises amount
    with (
        pytest.raises(
            InvalidInputError,
            match="the contract of items does not fit the new schema of shop.sales.items",
        ),
        shop.env.hub.transaction() as session,
    ):
        accept_schema_change(
            session,
            actor=shop.actor(SUE),
            product="items",
            proposal_id=proposal["id"],
            contract=bad,
        )
    with shop.env.hub.transaction() as session:
        accept_schema_change(
            session, actor=shop.actor(SUE), product="items", proposal_id=proposal["id"]
        )
    assert shop.versions()["version"] == "2.0.0"
    with shop.env.hub.read() as session:
        contract = products.get_product(session, "items").contract
    assert contract is not None
    names = [p["name"] for p in contract["schema"][0]["properties"]]
    assert names == ["id", "name", "total"]
    with (
        pytest.raises(
            ConflictError,
            match=f"Schema proposal {proposal['id']} of data product items is accepted",
        ),
        shop.env.hub.transaction() as session,
    ):
        reject_schema_change(
            session, actor=shop.actor(SUE), product="items", proposal_id=proposal["id"]
        )


def _write(shop: Shop, data: dict[str, pa.Array], *, not_null: tuple[str, ...] = ()) -> None:
    """The items file with the columns ``not_null`` names declared NOT NULL (Parquet required)."""
    fields = [
        pa.field(name, values.type, nullable=name not in not_null) for name, values in data.items()
    ]
    shop.lake.parquet(
        "shop/sales/items/part-0.parquet",
        pa.Table.from_arrays(list(data.values()), schema=pa.schema(fields)),
    )


def test_nullability_tightened_is_held_until_accepted(shop: Shop) -> None:
    before, _ = shop.query(MIA, SELECT)
    _write(shop, ORIGINAL, not_null=("amount",))
    crawled = shop.crawl()
    assert (crawled.status, crawled.schema_version) == ("held", 1)
    [proposal] = shop.versions()["proposals"]
    assert (proposal["status"], proposal["summary"]) == ("pending", "amount nullable -> NOT NULL")
    [change] = proposal["changes"]["changed"]
    assert change["reasons"] == ["nullability tightened: nullable -> NOT NULL"]
    assert (change["nullable_from"], change["nullable_to"]) == (True, False)
    held, _ = shop.query(MIA, SELECT)
    assert held.equals(before)
    [told] = shop.inbox(MIA)
    assert told.subject.endswith("amount nullable -> NOT NULL")
    with shop.env.hub.transaction() as session:
        accept_schema_change(
            session, actor=shop.actor(SUE), product="items", proposal_id=proposal["id"]
        )
    assert shop.versions()["version"] == "2.0.0"
    with shop.env.hub.read() as session:
        table = tables.get_table_row(session, parse_resource(TABLE))
        assert [(c.name, c.nullable) for c in table.columns] == [
            ("id", True),
            ("name", True),
            ("amount", False),
        ]
    assert shop.crawl().status == "unchanged"


def test_a_column_the_contract_requires_turning_nullable_is_breaking(shop: Shop) -> None:
    _write(shop, ORIGINAL, not_null=("id", "amount"))
    [proposal] = [shop.crawl().proposal]
    assert proposal is not None
    with shop.env.hub.transaction() as session:
        accept_schema_change(session, actor=shop.actor(SUE), product="items", proposal_id=proposal)
    # amount is no key and not required: nullable again is compatible, and recorded.
    _write(shop, ORIGINAL, not_null=("id",))
    crawled = shop.crawl()
    assert (crawled.status, crawled.schema_version) == ("updated", 3)
    applied = shop.versions()["proposals"][0]
    assert (applied["status"], applied["breaking"]) == ("applied", False)
    assert applied["changes"]["changed"][0]["nullable_to"] is True
    # id is the contract's primary key: it may not become nullable unreviewed.
    _write(shop, ORIGINAL)
    assert shop.crawl().status == "held"
    pending = shop.versions()["proposals"][0]
    assert (pending["status"], pending["summary"]) == ("pending", "id NOT NULL -> nullable")
    assert pending["changes"]["changed"][0]["reasons"] == [
        "NOT NULL -> nullable, but the contract requires a value"
    ]
    with shop.env.hub.read() as session:
        diff = diff_table(
            session, actor=shop.actor(SUE), name=parse_resource(TABLE), proposal=pending["id"]
        )
    assert diff["breaking"] is True


def test_nullability_first_read_makes_no_schema_version(shop: Shop) -> None:
    with shop.env.hub.transaction() as session:  # as a catalog recorded before lakemesh read it
        for column in tables.get_table_row(session, parse_resource(TABLE)).columns:
            column.nullable = None
    _write(shop, ORIGINAL, not_null=("id",))
    crawled = shop.crawl()
    assert (crawled.status, crawled.schema_version, shop.versions()["proposals"]) == (
        "unchanged",
        1,
        [],
    )
    with shop.env.hub.read() as session:
        table = tables.get_table_row(session, parse_resource(TABLE))
        assert [c.nullable for c in table.columns] == [False, True, True]
