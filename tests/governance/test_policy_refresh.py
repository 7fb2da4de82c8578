"""The policy index follows the store change by change (the policy change log), on both backends.

A second :class:`Hub` on the same store stands for a second hub process: its changes reach the
first hub's cached index through the log, without a full reload; gaps and wide changes reload.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from lakemesh.authz import decisions
from lakemesh.authz.loader import load_index
from lakemesh.authz.state import full_loads, policy_index
from lakemesh.catalog import tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import InvalidInputError
from lakemesh.governance import grants, tag_assignments
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import attributes, principals
from lakemesh.identity.actors import load_actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.settings import change_setting
from lakemesh.store.schema import PolicyChangeRow, Table
from lakemesh.store.versions import (
    PolicyChange,
    mark_policy_changed,
    policy_changes,
    policy_version,
    prune_policy_changes,
)
from tests.conftest import HubEnv, assert_policy_index_current
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

MIA = "user:mia@marketing"
SELECT = GrantRequest(permissions=frozenset({Permission.SELECT}), on=str(CUSTOMERS))


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    """The governance mesh, with the attribute key its tests set on principals (``region``)."""
    built = build_mesh(env, tmp_path)
    with env.hub.transaction() as session:
        attributes.create_attribute_key(session, actor=env.admin, key="region", values=["EU", "US"])
    return built


@pytest.fixture
def other(mesh: Mesh) -> Iterator[Hub]:
    """A second hub on the same store, like a second hub process."""
    hub = Hub(home=mesh.env.home)
    yield hub
    hub.close()


def _columns(hub: Hub, mesh: Mesh, ref: str = MIA) -> tuple[str, ...]:
    actor = mesh.actor(ref)
    with hub.read() as session:
        decision = decisions.decide(
            session, actor=actor, permission=Permission.SELECT, resource=CUSTOMERS
        )
    return decision.columns


def _warm(hub: Hub) -> None:
    with hub.read() as session:
        policy_index(session)


def test_a_grant_on_one_hub_reaches_the_other_without_a_reload(mesh: Mesh, other: Hub) -> None:
    _warm(other)
    assert _columns(other, mesh) == ()
    with mesh.env.hub.transaction() as session:
        made = grants.grant(session, actor=mesh.env.admin, grantee=MIA, request=SELECT)
    assert len(_columns(other, mesh)) == 5
    with mesh.env.hub.transaction() as session:
        grants.revoke_grant(session, actor=mesh.env.admin, grant_id=made.id)
    assert _columns(other, mesh) == ()
    assert full_loads(other) == 1
    assert_policy_index_current(other)


def test_tags_tables_and_memberships_reach_the_other_hub(mesh: Mesh, other: Hub) -> None:
    admin = mesh.env.admin
    group = "group:analysts@marketing"
    with mesh.env.hub.transaction() as session:
        grants.grant(
            session,
            actor=admin,
            grantee=group,
            request=GrantRequest(
                permissions=frozenset({Permission.SELECT}), on_tags="sensitivity=public"
            ),
        )
    _warm(other)
    assert _columns(other, mesh) == ()
    with mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=admin, resource=CUSTOMERS, tags={"sensitivity": "public"}
        )
        tag_assignments.assign_tags(
            session, actor=admin, resource=f"{CUSTOMERS}.email", tags={"sensitivity": "pii"}
        )
    assert _columns(other, mesh) == ("customer_id", "name", "phone", "region")
    with mesh.env.hub.transaction() as session:
        tables.alter_table(
            session,
            actor=admin,
            name=CUSTOMERS,
            columns=[ColumnSpec(c, "VARCHAR") for c in ("customer_id", "email", "country")],
        )
    assert _columns(other, mesh) == ("customer_id", "country")
    with mesh.env.hub.transaction() as session:
        principals.remove_member(session, actor=admin, group=group, member=MIA)
    assert _columns(other, mesh) == ()
    with mesh.env.hub.transaction() as session:
        principals.add_member(session, actor=admin, group=group, member=MIA)
        principals.update_attributes(session, actor=admin, principal=MIA, set_={"region": "EU"})
    assert _columns(other, mesh) == ("customer_id", "country")
    assert full_loads(other) == 1
    assert_policy_index_current(other)


def test_a_new_table_is_decided_at_once(mesh: Mesh, other: Hub, tmp_path: Path) -> None:
    orders = ResourceName("sales", "crm", "orders")
    with mesh.env.hub.transaction() as session:
        grants.grant(
            session,
            actor=mesh.env.admin,
            grantee=MIA,
            request=GrantRequest(permissions=frozenset({Permission.SELECT}), on="sales.crm"),
        )
    _warm(other)
    with mesh.env.hub.transaction() as session:
        tables.create_table(
            session,
            actor=mesh.env.admin,
            name=orders,
            location=str(tmp_path / "sales" / "orders"),
            format="parquet",
            columns=[ColumnSpec("order_id", "BIGINT")],
        )
    actor = mesh.actor(MIA)
    with other.read() as session:
        decision = decisions.decide(
            session, actor=actor, permission=Permission.SELECT, resource=orders
        )
    assert decision.columns == ("order_id",)
    assert full_loads(other) == 1


def test_a_gap_in_the_log_reloads_in_full(mesh: Mesh, other: Hub) -> None:
    _warm(other)
    with mesh.env.hub.transaction() as session:
        grants.grant(session, actor=mesh.env.admin, grantee=MIA, request=SELECT)
    with mesh.env.hub.transaction() as session:
        prune_policy_changes(session, keep=0)
    with mesh.env.hub.read() as session:
        version = policy_version(session)
        assert policy_changes(session, after=version - 1, upto=version) is None
    assert len(_columns(other, mesh)) == 5
    assert full_loads(other) == 2


def test_a_wide_change_reloads_in_full(mesh: Mesh, other: Hub) -> None:
    _warm(other)
    with mesh.env.hub.transaction() as session:
        change_setting(session, actor=mesh.env.admin, key="discovery", value="granted")
    with other.read() as session:
        assert policy_index(session).settings.discovery == "granted"
    assert full_loads(other) == 2


PHANTOM = ResourceName("sales", "crm", "phantom")


def _write_then_decide_then_fail(hub: Hub) -> None:
    with hub.transaction() as session:
        customers = tables.get_table_row(session, CUSTOMERS)
        version = policy_version(session)
        session.add(
            Table(
                database_id=customers.database_id,
                name=PHANTOM.table,
                location=customers.location + "/phantom",
                format="parquet",
                description="",
                properties={},
                schema_version=1,
                created_at=customers.created_at,
                updated_at=customers.updated_at,
            )
        )
        # Not flushed: deciding flushes it, and the row is this transaction's policy change.
        assert policy_index(session).has_table(PHANTOM)
        with hub.read() as elsewhere:
            assert not policy_index(elsewhere).has_table(PHANTOM)
        assert policy_version(session) == version  # the version moves when it commits
        raise InvalidInputError("undone")


def test_uncommitted_writes_never_reach_the_shared_index(mesh: Mesh, other: Hub) -> None:
    """A row written straight into the store changes the decisions of its own transaction, and
    nobody else's: rolled back, it leaves neither the index nor the version changed."""
    with other.read() as session:
        version = policy_version(session)
    with pytest.raises(InvalidInputError, match="undone"):
        _write_then_decide_then_fail(other)
    with other.read() as session:
        assert not policy_index(session).has_table(PHANTOM)
        assert policy_index(session).has_table(CUSTOMERS)
        assert policy_version(session) == version


def _decide_inside_then_fail(hub: Hub, mesh: Mesh) -> None:
    actor = mesh.actor(MIA)
    with hub.transaction() as session:
        grants.grant(session, actor=mesh.env.admin, grantee=MIA, request=SELECT)
        principals.update_attributes(
            session, actor=mesh.env.admin, principal=MIA, set_={"region": "EU"}
        )
        own = policy_index(session)
        assert own.content() == load_index(session).content()
        inside = decisions.decide(
            session, actor=actor, permission=Permission.SELECT, resource=CUSTOMERS
        )
        assert len(inside.columns) == 5
        assert policy_index(session) is own  # kept for the rest of the transaction
        with hub.read() as elsewhere:  # nobody else sees it
            outside = decisions.decide(
                elsewhere, actor=actor, permission=Permission.SELECT, resource=CUSTOMERS
            )
        assert not outside.allowed
        raise InvalidInputError("undone")


def test_a_transaction_decides_on_its_own_changes_which_roll_back_without_a_trace(
    mesh: Mesh,
) -> None:
    hub = mesh.env.hub
    _warm(hub)
    with pytest.raises(InvalidInputError, match="undone"):
        _decide_inside_then_fail(hub, mesh)
    assert _columns(hub, mesh) == ()
    assert full_loads(hub) == 1
    with hub.read() as session:
        assert session.query(PolicyChangeRow).count() == policy_version(session)


def _retag_then_fail(hub: Hub, mesh: Mesh, tmp_path: Path) -> None:
    admin = mesh.env.admin
    with hub.transaction() as session:
        grants.grant(session, actor=admin, grantee=MIA, request=SELECT)
        before = policy_index(session)
        tag_assignments.assign_tags(
            session, actor=admin, resource=f"{CUSTOMERS}.email", tags={"sensitivity": "pii"}
        )
        tables.create_table(
            session,
            actor=admin,
            name=ResourceName("sales", "crm", "leads"),
            location=str(tmp_path / "sales" / "leads"),
            format="parquet",
            columns=[ColumnSpec("lead_id", "BIGINT")],
        )
        own = policy_index(session)
        assert own is not before  # its tables are its own now
        assert own.content() == load_index(session).content()
        with hub.read() as elsewhere:
            shared = policy_index(elsewhere)
            assert not shared.has_table(ResourceName("sales", "crm", "leads"))
            assert shared.table_facts(CUSTOMERS).tags_of("email") == {}
        raise InvalidInputError("undone")


def test_a_transaction_changing_tables_and_tags_decides_on_a_copy(
    mesh: Mesh, tmp_path: Path
) -> None:
    hub = mesh.env.hub
    _warm(hub)
    with pytest.raises(InvalidInputError, match="undone"):
        _retag_then_fail(hub, mesh, tmp_path)
    assert full_loads(hub) == 1
    assert_policy_index_current(hub)


def test_changes_round_trip_through_the_log(mesh: Mesh) -> None:
    change = PolicyChange.of(
        grants=[2, 1], tables=[CUSTOMERS], tags=["sales.crm"], masks=["m"], principals=[MIA]
    )
    with mesh.env.hub.transaction() as session:
        before = policy_version(session)
        mark_policy_changed(session, change)
    with mesh.env.hub.transaction() as session:
        mark_policy_changed(session)
    with mesh.env.hub.read() as session:
        logged = policy_changes(session, after=before, upto=before + 2)
        session.execute(delete(PolicyChangeRow).where(PolicyChangeRow.version == before + 1))
        assert policy_changes(session, after=before, upto=before + 2) is None
    assert logged is not None
    assert logged[0] == change
    assert logged[1].everything


def test_an_actor_loaded_on_either_hub_decides_the_same(mesh: Mesh, other: Hub) -> None:
    with mesh.env.hub.transaction() as session:
        grants.grant(session, actor=mesh.env.admin, grantee=MIA, request=SELECT)
    with other.read() as session:
        actor = load_actor(session, principals.get_principal(session, MIA))
        decision = decisions.decide(
            session, actor=actor, permission=Permission.SELECT, resource=CUSTOMERS
        )
    assert decision.allowed
    assert _columns(mesh.env.hub, mesh) == decision.columns
