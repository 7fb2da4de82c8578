"""The policy change of a transaction is derived from the rows it writes (no service tells it).

Each case writes rows of one table decisions read straight into the store, as a new service
would, without a word to the policy cache. Committed, the write is one new policy version whose
logged change names what it touched, and a second hub process (warmed before) decides on it at
once; rolled back, nothing changes. Rows of other tables change nothing. On SQLite and
PostgreSQL (``env``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.authz import decisions
from lakemesh.authz.loader import load_index
from lakemesh.authz.state import full_loads, policy_index
from lakemesh.catalog import tables
from lakemesh.errors import InvalidInputError
from lakemesh.hub import Hub
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from lakemesh.store.schema import (
    AttributeKey,
    Column,
    Database,
    DataFilterRow,
    DataProduct,
    DataProductTable,
    Domain,
    DomainAdmin,
    Grant,
    GroupMember,
    Guardrail,
    Location,
    MaskRule,
    PolicyChangeRow,
    Principal,
    Setting,
    Share,
    Table,
    TagAssignment,
    TagKey,
    TagValue,
)
from lakemesh.store.versions import EVERYTHING, PolicyChange, policy_changes, policy_version
from tests.conftest import HubEnv, assert_policy_index_current
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

MIA = "user:mia@marketing"
ANALYSTS = "group:analysts@marketing"
NOTHING = PolicyChange()


@dataclass
class Store:
    """The mesh's rows the cases write next to: ids read once after the setup."""

    session: Session
    customers: Table
    mia: Principal
    analysts: Principal
    marketing: Principal  # domain:marketing
    grant: Grant  # SELECT on customers to the analysts, with grant option
    derived: Grant  # derived from it: SELECT on customers to mia
    through_filter: Grant  # SELECT through the EU filter to domain:marketing (a share)
    data_filter: DataFilterRow
    tag: TagAssignment  # sensitivity=pii on customers.email

    def row(self, model: type[object], **where: object) -> object:
        query = select(model).filter_by(**where)
        return self.session.execute(query).scalar_one()

    def new_grant(self, grantee: Principal, **target: object) -> Grant:
        return _new_grant(self.session, grantee, self.customers, **target)


def _new_grant(session: Session, grantee: Principal, table: Table, **target: object) -> Grant:
    """A SELECT grant on ``table`` (unless ``target`` says otherwise), straight into the store."""
    values: dict[str, object] = {
        "permissions": ["SELECT"],
        "with_grant_option": False,
        "target_kind": "resource",
        "table_id": table.id,
        "excluded_columns": [],
    }
    row = Grant(
        grantee_id=grantee.id,
        granted_by="test",
        created_at=clock.now(),
        **(values | target),
    )
    session.add(row)
    return row


def _setup(mesh: Mesh) -> None:
    hub, admin = mesh.env.hub, mesh.env.admin
    with hub.transaction() as session:
        customers = tables.get_table_row(session, CUSTOMERS)
        mia, analysts, marketing = (
            session.execute(select(Principal).where(Principal.ref == ref)).scalar_one()
            for ref in (MIA, ANALYSTS, "domain:marketing")
        )
        grant = _new_grant(session, analysts, customers, with_grant_option=True)
        session.flush()
        _new_grant(session, mia, customers, parent_id=grant.id)
        eu = DataFilterRow(
            table_id=customers.id,
            name="eu",
            predicate="region = 'EU'",
            columns=None,
            excluded_columns=[],
            created_by="test",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(eu)
        session.flush()
        _new_grant(
            session, marketing, customers, target_kind="filter", table_id=None, filter_id=eu.id
        )
        key = session.execute(select(TagKey).where(TagKey.key == "sensitivity")).scalar_one()
        pii = next(value for value in key.values if value.value == "pii")
        email = next(column for column in customers.columns if column.name == "email")
        session.add(TagAssignment(key_id=key.id, value_id=pii.id, column_id=email.id))
        session.add(
            MaskRule(
                name="hide_pii",
                tag_expression="sensitivity=pii",
                function="null",
                created_by="test",
                created_at=clock.now(),
            )
        )
        products.publish_product(
            session,
            actor=admin,
            spec=ProductSpec(name="customers", domain="sales", tables=[str(CUSTOMERS)]),
        )


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    built = build_mesh(env, tmp_path)
    _setup(built)
    return built


@pytest.fixture
def other(mesh: Mesh) -> Iterator[Hub]:
    """A second hub on the same store, like a second hub process, with its index loaded."""
    hub = Hub(home=mesh.env.home)
    with hub.read() as session:
        policy_index(session)
    yield hub
    hub.close()


def _store(session: Session) -> Store:
    customers = tables.get_table_row(session, CUSTOMERS)
    refs = {
        row.ref: row
        for row in session.execute(
            select(Principal).where(Principal.ref.in_([MIA, ANALYSTS, "domain:marketing"]))
        ).scalars()
    }
    grants = session.execute(select(Grant).order_by(Grant.id)).scalars().all()
    data_filter = session.execute(select(DataFilterRow)).scalar()
    tag = session.execute(select(TagAssignment)).scalar()
    # What a case deleted before is None from then on.
    return Store(
        session,
        customers,
        refs[MIA],
        refs[ANALYSTS],
        refs["domain:marketing"],
        next((g for g in grants if g.with_grant_option), None),  # type: ignore[arg-type]
        next((g for g in grants if g.parent_id is not None), None),  # type: ignore[arg-type]
        next((g for g in grants if g.filter_id is not None), None),  # type: ignore[arg-type]
        data_filter,  # type: ignore[arg-type]
        tag,  # type: ignore[arg-type]
    )


def _column(store: Store, name: str) -> Column:
    return next(column for column in store.customers.columns if column.name == name)


Write = Callable[[Store], PolicyChange]
"""Writes rows and returns the change the transaction is expected to log."""


def _grant_added(store: Store) -> PolicyChange:
    row = store.new_grant(store.mia, columns=["name"])
    store.session.flush()
    return PolicyChange.of(grants=[row.id])


def _grant_changed(store: Store) -> PolicyChange:
    store.derived.permissions = ["DESCRIBE", "SELECT"]
    return PolicyChange.of(grants=[store.derived.id])


def _grant_deleted(store: Store) -> PolicyChange:
    # The database deletes the grant derived from it too.
    store.session.delete(store.grant)
    return PolicyChange.of(grants=[store.grant.id, store.derived.id])


def _grants_deleted_by_statement(store: Store) -> PolicyChange:
    store.session.execute(delete(Grant).where(Grant.id == store.grant.id))
    return PolicyChange.of(grants=[store.grant.id, store.derived.id])


def _grants_changed_by_statement(store: Store) -> PolicyChange:
    store.session.execute(
        update(Grant).where(Grant.grantee_id == store.mia.id).values(permissions=["DESCRIBE"])
    )
    return PolicyChange.of(grants=[store.derived.id])


def _filter_changed(store: Store) -> PolicyChange:
    store.data_filter.predicate = "region = 'US'"
    return PolicyChange.of(grants=[store.through_filter.id])


def _filter_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.data_filter)  # its grants go with it (ON DELETE CASCADE)
    store.session.expunge(store.through_filter)
    return PolicyChange.of(grants=[store.through_filter.id])


def _share_answered(store: Store) -> PolicyChange:
    grant = store.through_filter
    store.session.add(
        Share(
            grant_id=grant.id,
            grant_ref=grant.id,
            from_domain="sales",
            to_domain="marketing",
            resource=str(CUSTOMERS),
            status="accepted",
            origin="grant",
            created_at=clock.now(),
        )
    )
    return PolicyChange.of(grants=[grant.id])


def _tag_added(store: Store) -> PolicyChange:
    tag = store.tag
    store.session.add(
        TagAssignment(key_id=tag.key_id, value_id=tag.value_id, table_id=store.customers.id)
    )
    return PolicyChange.of(tags=[CUSTOMERS])


def _tag_changed(store: Store) -> PolicyChange:
    public = store.row(TagValue, key_id=store.tag.key_id, value="public")
    assert isinstance(public, TagValue)
    store.tag.value_id = public.id
    return PolicyChange.of(tags=[f"{CUSTOMERS}.email"])


def _tag_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.tag)
    return PolicyChange.of(tags=[f"{CUSTOMERS}.email"])


def _tag_value_renamed(store: Store) -> PolicyChange:
    pii = store.row(TagValue, id=store.tag.value_id)
    assert isinstance(pii, TagValue)
    pii.value = "personal"
    return EVERYTHING


def _column_added(store: Store) -> PolicyChange:
    store.customers.columns.append(
        Column(name="segment", type="VARCHAR", position=len(store.customers.columns))
    )
    return PolicyChange.of(tables=[CUSTOMERS])


def _column_renamed(store: Store) -> PolicyChange:
    _column(store, "phone").name = "mobile"
    return PolicyChange.of(tables=[CUSTOMERS])


def _column_deleted(store: Store) -> PolicyChange:
    store.session.delete(_column(store, "region"))
    return PolicyChange.of(tables=[CUSTOMERS])


def _table_added(store: Store) -> PolicyChange:
    store.session.add(
        Table(
            database_id=store.customers.database_id,
            name="orders",
            location=store.customers.location + "/orders",
            format="parquet",
            properties={},
            created_at=clock.now(),
            updated_at=clock.now(),
            columns=[Column(name="order_id", type="BIGINT", position=0)],
        )
    )
    return PolicyChange.of(tables=[ResourceName("sales", "crm", "orders")])


def _table_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.customers)
    return EVERYTHING


def _product_withdrawn(store: Store) -> PolicyChange:
    product = store.row(DataProduct, name="customers")
    assert isinstance(product, DataProduct)
    product.status = "draft"
    return PolicyChange.of(tables=[CUSTOMERS])


def _product_table_removed(store: Store) -> PolicyChange:
    product = store.row(DataProduct, name="customers")
    assert isinstance(product, DataProduct)
    product.tables = []
    return PolicyChange.of(tables=[CUSTOMERS])


def _product_table_deleted(store: Store) -> PolicyChange:
    store.session.execute(delete(DataProductTable))
    return PolicyChange.of(tables=[CUSTOMERS])


def _mask_added(store: Store) -> PolicyChange:
    store.session.add(
        MaskRule(
            name="hash_pii",
            tag_expression="sensitivity=pii",
            function="hash",
            created_by="test",
            created_at=clock.now(),
        )
    )
    return PolicyChange.of(masks=["hash_pii"])


def _mask_changed(store: Store) -> PolicyChange:
    mask = store.row(MaskRule, name="hide_pii")
    assert isinstance(mask, MaskRule)
    mask.function = "redact"
    return PolicyChange.of(masks=["hide_pii"])


def _mask_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.row(MaskRule, name="hide_pii"))
    return PolicyChange.of(masks=["hide_pii"])


def _attributes_changed(store: Store) -> PolicyChange:
    store.mia.attributes = {"region": "EU"}
    return PolicyChange.of(principals=[MIA])


def _principal_added(store: Store) -> PolicyChange:
    store.session.add(
        Principal(
            ref="user:max@marketing",
            kind="user",
            name="max",
            domain_id=store.mia.domain_id,
            attributes={"region": "US"},
            created_at=clock.now(),
        )
    )
    return PolicyChange.of(principals=["user:max@marketing"])


def _principal_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.analysts)  # its grants and memberships go with it
    return EVERYTHING


def _member_added(store: Store) -> PolicyChange:
    maria = store.row(Principal, ref="user:maria@marketing")
    assert isinstance(maria, Principal)
    store.session.add(GroupMember(group_id=store.analysts.id, member_id=maria.id))
    return PolicyChange.of(principals=["user:maria@marketing"])


def _member_removed(store: Store) -> PolicyChange:
    store.session.delete(store.row(GroupMember, group_id=store.analysts.id, member_id=store.mia.id))
    return PolicyChange.of(principals=[MIA])


def _admin_added(store: Store) -> PolicyChange:
    sales = store.row(Domain, name="sales")
    assert isinstance(sales, Domain)
    store.session.add(DomainAdmin(domain_id=sales.id, principal_id=store.mia.id))
    return PolicyChange.of(principals=[MIA])


def _admin_removed(store: Store) -> PolicyChange:
    sam = store.row(Principal, ref="user:sam@sales")
    assert isinstance(sam, Principal)
    store.session.delete(store.row(DomainAdmin, principal_id=sam.id))
    return PolicyChange.of(principals=["user:sam@sales"])


def _setting_changed(store: Store) -> PolicyChange:
    store.session.add(Setting(key="discovery", value="granted"))
    return EVERYTHING


def _location_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.session.execute(select(Location)).scalar_one())
    return EVERYTHING


def _database_deleted(store: Store) -> PolicyChange:
    store.session.delete(store.row(Database, id=store.customers.database_id))
    return EVERYTHING


def _no_policy_rows(store: Store) -> PolicyChange:
    store.session.add(
        Guardrail(
            name="eu_only",
            kind="region",
            config={},
            created_by="test",
            created_at=clock.now(),
        )
    )
    store.session.add(AttributeKey(key="team", allowed_values=["a"], created_at=clock.now()))
    store.customers.description = "not read by decisions, still a table change"
    return PolicyChange.of(tables=[CUSTOMERS])


def _description_of_a_database(store: Store) -> PolicyChange:
    database = store.row(Database, id=store.customers.database_id)
    assert isinstance(database, Database)
    database.description = "decisions do not read it"
    return NOTHING


WRITES: dict[str, Write] = {
    "grant added": _grant_added,
    "grant changed": _grant_changed,
    "grant deleted with the grant derived from it": _grant_deleted,
    "grants deleted by a statement": _grants_deleted_by_statement,
    "grants changed by a statement": _grants_changed_by_statement,
    "filter changed": _filter_changed,
    "filter deleted with its grants": _filter_deleted,
    "share answered": _share_answered,
    "tag added": _tag_added,
    "tag changed": _tag_changed,
    "tag deleted": _tag_deleted,
    "tag value renamed": _tag_value_renamed,
    "column added": _column_added,
    "column renamed": _column_renamed,
    "column deleted": _column_deleted,
    "table added": _table_added,
    "table deleted": _table_deleted,
    "product withdrawn": _product_withdrawn,
    "product table removed from its list": _product_table_removed,
    "product tables deleted by a statement": _product_table_deleted,
    "mask added": _mask_added,
    "mask changed": _mask_changed,
    "mask deleted": _mask_deleted,
    "attributes changed": _attributes_changed,
    "principal added": _principal_added,
    "principal deleted": _principal_deleted,
    "member added": _member_added,
    "member removed": _member_removed,
    "admin added": _admin_added,
    "admin removed": _admin_removed,
    "setting changed": _setting_changed,
    "location deleted": _location_deleted,
    "database deleted": _database_deleted,
    "rows decisions do not read": _no_policy_rows,
    "a database's description": _description_of_a_database,
}


def _version(hub: Hub) -> int:
    with hub.read() as session:
        return policy_version(session)


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_committed_write_is_one_policy_version_every_hub_decides_on(
    mesh: Mesh, other: Hub, write: Write
) -> None:
    before = _version(other)
    with mesh.env.hub.transaction() as session:
        expected = write(_store(session))
    with other.read() as session:
        version = policy_version(session)
        logged = policy_changes(session, after=before, upto=version)
    if expected == NOTHING:
        assert version == before
    else:
        assert version == before + 1
        assert logged == [expected]
    assert_policy_index_current(other)
    assert full_loads(other) == (2 if expected.everything else 1)
    assert_policy_index_current(mesh.env.hub)


def _write_decide_and_fail(hub: Hub, write: Write) -> None:
    with hub.transaction() as session:
        expected = write(_store(session))
        assert policy_index(session).content() == load_index(session).content()
        with hub.read() as elsewhere:
            assert policy_version(elsewhere) == policy_version(session)
        assert expected != NOTHING
        raise InvalidInputError("undone")


@pytest.mark.parametrize(
    "write",
    [_grant_added, _grant_deleted, _grants_deleted_by_statement, _tag_changed, _table_deleted],
    ids=["grant added", "grant deleted", "grants deleted by a statement", "tag", "table deleted"],
)
def test_a_rolled_back_write_changes_nothing(mesh: Mesh, other: Hub, write: Write) -> None:
    before = _version(other)
    with pytest.raises(InvalidInputError, match="undone"):
        _write_decide_and_fail(mesh.env.hub, write)
    assert _version(other) == before
    with other.read() as session:
        assert session.query(PolicyChangeRow).count() == before
    assert full_loads(other) == 1
    assert_policy_index_current(other)
    assert_policy_index_current(mesh.env.hub)


def _select(hub: Hub, mesh: Mesh) -> tuple[str, ...]:
    actor = mesh.actor(MIA)
    with hub.read() as session:
        decision = decisions.decide(
            session, actor=actor, permission=Permission.SELECT, resource=CUSTOMERS
        )
    return decision.columns


def test_the_next_decision_on_another_hub_sees_each_write(mesh: Mesh, other: Hub) -> None:
    assert _select(other, mesh) == ("customer_id", "name", "email", "phone", "region")
    with mesh.env.hub.transaction() as session:
        _member_removed(_store(session))
        _grant_changed(_store(session))
    # Still the derived grant to mia herself.
    assert _select(other, mesh) == ("customer_id", "name", "email", "phone", "region")
    with mesh.env.hub.transaction() as session:
        _grant_deleted(_store(session))
    assert _select(other, mesh) == ()
    with mesh.env.hub.transaction() as session:
        _grant_added(_store(session))
    assert _select(other, mesh) == ("name",)
    with mesh.env.hub.transaction() as session:
        _column_renamed(_store(session))
        store = _store(session)
        row = store.new_grant(store.mia, columns=["mobile"])
    assert _select(other, mesh) == ("name", "mobile")
    with mesh.env.hub.transaction() as session:
        session.delete(session.get(Grant, row.id))
    assert _select(other, mesh) == ("name",)
    assert full_loads(other) == 1


def test_one_transaction_is_one_version_however_many_flushes(mesh: Mesh, other: Hub) -> None:
    before = _version(other)
    with mesh.env.hub.transaction() as session:
        first = _grant_added(_store(session))
        session.flush()
        second = _attributes_changed(_store(session))
        session.flush()
        third = _tag_deleted(_store(session))
    with other.read() as session:
        logged = policy_changes(session, after=before, upto=policy_version(session))
    assert logged == [PolicyChange.union([first, second, third])]
    assert_policy_index_current(other)
