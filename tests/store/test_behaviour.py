"""The store behaviour suite: every test runs on SQLite and on PostgreSQL (the ``env`` fixture)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lakemesh import audit
from lakemesh.catalog import databases, domains, locations, tables
from lakemesh.catalog.columns import ColumnSpec, schema_history
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    GuardrailViolationError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.governance import guardrails
from lakemesh.identity import attributes, principals, tokens
from lakemesh.identity.actors import load_actor
from lakemesh.model.names import ResourceName
from lakemesh.store import connect
from lakemesh.store.migrate import current_revision, head_revision
from lakemesh.store.schema import ApiToken, AuditEvent
from tests.conftest import FrozenClock, HubEnv, make_hub_env


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_migrations_are_applied_at_start(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A hub started on an empty store migrates it (the ``env`` hubs' stores come migrated)."""
    url = request.getfixturevalue("postgres_database") if backend == "postgres" else None
    empty = connect(url or f"sqlite:///{tmp_path / 'home' / 'hub.db'}")
    assert current_revision(empty) is None
    empty.dispose()
    started = make_hub_env(tmp_path / "home", url, run_migrations=True)
    try:
        assert current_revision(started.hub.engine) == head_revision()
    finally:
        started.hub.close()


def test_governance_domain_and_first_mesh_admin_exist(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        names = [d.name for d in domains.list_domains(session)]
        admin = principals.get_principal(session, "user:admin@governance")
        described = principals.relations(session, admin)
    assert names == ["governance"]
    assert described.admin_of == ["governance"]
    assert env.admin.is_mesh_admin


def test_domain_create_makes_domain_principal_and_admins(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        row = domains.create_domain(
            session, actor=env.admin, name="sales", producer=True, admins=["user:sam@sales"]
        )
        admins = domains.domain_admins(session, row)
        principals.get_principal(session, "domain:sales")
        sam = load_actor(session, principals.get_principal(session, "user:sam@sales"))
    assert admins == ["user:sam@sales"]
    assert row.producer
    assert not row.consumer
    assert sam.administers("sales")
    assert not sam.is_mesh_admin


def test_duplicate_domain_is_refused_by_name(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
    with (
        pytest.raises(AlreadyExistsError, match="Domain already exists: sales"),
        env.hub.transaction() as session,
    ):
        domains.create_domain(session, actor=env.admin, name="sales")


def test_invalid_domain_name_is_refused(env: HubEnv) -> None:
    with (
        pytest.raises(InvalidInputError, match="Invalid domain name: 'Sales!'"),
        env.hub.transaction() as session,
    ):
        domains.create_domain(session, actor=env.admin, name="Sales!")


def test_failed_change_leaves_nothing_behind(env: HubEnv) -> None:
    """An error after the first write rolls back the domain, its principal and its audit event."""
    with env.hub.transaction() as session:
        before = session.execute(select(func.count(AuditEvent.seq))).scalar()
    with (
        pytest.raises(NotFoundError, match="Domain does not exist: other"),
        env.hub.transaction() as session,
    ):
        domains.create_domain(session, actor=env.admin, name="sales", admins=["user:x@other"])
    with env.hub.transaction() as session:
        assert [d.name for d in domains.list_domains(session)] == ["governance"]
        assert session.execute(select(func.count(AuditEvent.seq))).scalar() == before


def test_nested_groups_are_transitive_and_cycles_refused(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="marketing")
        for ref in ("user:alice@marketing", "group:analysts@marketing", "group:all@marketing"):
            principals.create_principal(session, actor=env.admin, principal=ref)
        principals.add_member(
            session,
            actor=env.admin,
            group="group:analysts@marketing",
            member="user:alice@marketing",
        )
        principals.add_member(
            session, actor=env.admin, group="group:all@marketing", member="group:analysts@marketing"
        )
        alice = load_actor(session, principals.get_principal(session, "user:alice@marketing"))
    assert alice.groups == {"group:analysts@marketing", "group:all@marketing"}
    with (
        pytest.raises(ConflictError, match="would make a cycle of groups"),
        env.hub.transaction() as session,
    ):
        principals.add_member(
            session, actor=env.admin, group="group:analysts@marketing", member="group:all@marketing"
        )


def test_attributes_are_stored_and_validated(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        attributes.create_attribute_key(session, actor=env.admin, key="region", values=["EU"])
        attributes.create_attribute_key(session, actor=env.admin, key="tier", values=["gold"])
        principals.create_principal(
            session, actor=env.admin, principal="user:eu@sales", attributes={"region": "EU"}
        )
        principals.update_attributes(
            session, actor=env.admin, principal="user:eu@sales", set_={"tier": "gold"}
        )
        row = principals.get_principal(session, "user:eu@sales")
        assert row.attributes == {"region": "EU", "tier": "gold"}
    with (
        pytest.raises(InvalidInputError, match="Invalid attribute name: 'Bad Key'"),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(
            session, actor=env.admin, principal="user:eu@sales", set_={"Bad Key": "x"}
        )


def test_domain_admin_cannot_manage_another_domain(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", admins=["user:sam@sales"])
        domains.create_domain(session, actor=env.admin, name="finance")
        sam = load_actor(session, principals.get_principal(session, "user:sam@sales"))
    with (
        pytest.raises(AccessDeniedError, match="user:sam@sales is not an admin of domain finance"),
        env.hub.transaction() as session,
    ):
        principals.create_principal(session, actor=sam, principal="user:eve@finance")
    with env.hub.transaction() as session:
        denied = session.execute(
            select(AuditEvent).where(AuditEvent.outcome == "denied")
        ).scalar_one()
    assert (denied.actor, denied.action, denied.resource) == (
        "user:sam@sales",
        "principal.create",
        "user:eve@finance",
    )


def test_tokens_are_hashed_expire_and_revoke(env: HubEnv, frozen_clock: FrozenClock) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        principals.create_principal(session, actor=env.admin, principal="service:etl@sales")
        issued = tokens.create_token(
            session, actor=env.admin, principal="service:etl@sales", expires_in=timedelta(days=1)
        )
        stored = session.get(ApiToken, issued.id)
        assert stored is not None
        assert issued.token not in (stored.token_hash, stored.prefix)
    with env.hub.transaction() as session:
        assert tokens.authenticate(session, issued.token).ref == "service:etl@sales"
    frozen_clock.advance(timedelta(days=1, seconds=1))
    with (
        pytest.raises(AuthenticationError, match="API token expired"),
        env.hub.transaction() as session,
    ):
        tokens.authenticate(session, issued.token)
    with env.hub.transaction() as session:
        tokens.revoke_token(session, actor=env.admin, token_id=issued.id)
    with (
        pytest.raises(AuthenticationError, match="API token was revoked"),
        env.hub.transaction() as session,
    ):
        tokens.authenticate(session, issued.token)
    with (
        pytest.raises(AuthenticationError, match="Invalid API token"),
        env.hub.transaction() as session,
    ):
        tokens.authenticate(session, "lm_not-a-token")
    with (
        pytest.raises(AuthenticationError, match="Missing API token"),
        env.hub.transaction() as session,
    ):
        tokens.authenticate(session, None)


def test_deleting_a_principal_deletes_its_tokens(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        principals.create_principal(session, actor=env.admin, principal="user:bob@sales")
        issued = tokens.create_token(session, actor=env.admin, principal="user:bob@sales")
    with env.hub.transaction() as session:
        principals.delete_principal(session, actor=env.admin, principal="user:bob@sales")
    with env.hub.transaction() as session:
        assert session.get(ApiToken, issued.id) is None


def test_location_conflicts_name_the_other_domain(env: HubEnv, tmp_path: Path) -> None:
    base = tmp_path / "lake"
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        domains.create_domain(session, actor=env.admin, name="finance")
        locations.register_location(
            session, actor=env.admin, uri=str(base / "sales"), domain="sales"
        )
    inner = str(base / "sales" / "ledger")
    with (
        pytest.raises(
            ConflictError, match=r"is inside location file://.*/lake/sales of domain sales"
        ),
        env.hub.transaction() as session,
    ):
        locations.register_location(session, actor=env.admin, uri=inner, domain="finance")
    with (
        pytest.raises(ConflictError, match="contains location .* of domain sales"),
        env.hub.transaction() as session,
    ):
        locations.register_location(session, actor=env.admin, uri=str(base), domain="finance")
    with env.hub.transaction() as session:  # a sibling whose name shares a prefix is fine
        locations.register_location(
            session, actor=env.admin, uri=str(base / "sales_archive"), domain="finance"
        )
    with (
        pytest.raises(AlreadyExistsError, match="Location already registered"),
        env.hub.transaction() as session,
    ):
        locations.register_location(
            session, actor=env.admin, uri=str(base / "sales"), domain="sales"
        )


def test_locations_outside_allowed_prefixes_are_refused(env: HubEnv, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        guardrails.create_guardrail(
            session,
            actor=env.admin,
            name="lake-only",
            kind="location-prefixes",
            prefixes=[str(allowed)],
        )
    with (
        pytest.raises(
            GuardrailViolationError,
            match=re.escape(
                f"Guardrail lake-only (location-prefixes file://{allowed}): location "
                f"file://{tmp_path}/x is outside the allowed prefixes"
            ),
        ),
        env.hub.transaction() as session,
    ):
        locations.register_location(
            session, actor=env.admin, uri=str(tmp_path / "x"), domain="sales"
        )
    with env.hub.transaction() as session:
        locations.register_location(
            session, actor=env.admin, uri=str(tmp_path / "allowed" / "sales"), domain="sales"
        )


def _catalog(env: HubEnv, tmp_path: Path) -> ResourceName:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        locations.register_location(session, actor=env.admin, uri=str(tmp_path), domain="sales")
        databases.create_database(session, actor=env.admin, domain="sales", name="crm")
        tables.create_table(
            session,
            actor=env.admin,
            name=ResourceName("sales", "crm", "orders"),
            location=str(tmp_path / "orders"),
            format="parquet",
            columns=[
                ColumnSpec("order_id", "BIGINT"),
                ColumnSpec("amount", "DOUBLE"),
                ColumnSpec("order_date", "DATE", is_partition=True),
            ],
        )
    return ResourceName("sales", "crm", "orders")


def test_tables_keep_schema_history(env: HubEnv, tmp_path: Path) -> None:
    name = _catalog(env, tmp_path / "lake")
    with env.hub.transaction() as session:
        changes = tables.alter_table(
            session,
            actor=env.admin,
            name=name,
            columns=[
                ColumnSpec("order_id", "BIGINT"),
                ColumnSpec("amount", "DECIMAL(12,2)"),
                ColumnSpec("currency", "VARCHAR"),
                ColumnSpec("order_date", "DATE", is_partition=True),
            ],
        )
        row = tables.get_table_row(session, name)
        version = row.schema_version
        columns = [(c.name, c.is_partition) for c in row.columns]
        history = schema_history(session, row)
    assert changes["added"] == [{"name": "currency", "type": "VARCHAR", "partition": False}]
    assert changes["changed"] == [{"name": "amount", "from": "DOUBLE", "to": "DECIMAL(12,2)"}]
    assert version == 2
    assert columns == [
        ("order_id", False),
        ("amount", False),
        ("currency", False),
        ("order_date", True),
    ]
    assert [h["version"] for h in history] == [1, 2]


def test_table_outside_the_domains_locations_is_refused(env: HubEnv, tmp_path: Path) -> None:
    _catalog(env, tmp_path / "lake")
    with (
        pytest.raises(
            InvalidInputError, match="is not inside any location registered by domain sales"
        ),
        env.hub.transaction() as session,
    ):
        tables.create_table(
            session,
            actor=env.admin,
            name=ResourceName("sales", "crm", "elsewhere"),
            location=str(tmp_path / "elsewhere"),
            format="parquet",
            columns=[ColumnSpec("a", "BIGINT")],
        )


def test_drop_database_with_tables_needs_cascade(env: HubEnv, tmp_path: Path) -> None:
    _catalog(env, tmp_path / "lake")
    with (
        pytest.raises(ConflictError, match="Database sales.crm still has tables: orders"),
        env.hub.transaction() as session,
    ):
        databases.drop_database(session, actor=env.admin, domain="sales", name="crm")
    with env.hub.transaction() as session:
        databases.drop_database(session, actor=env.admin, domain="sales", name="crm", cascade=True)
        assert tables.list_tables(session, domain="sales") == []


def test_missing_table_is_named(env: HubEnv) -> None:
    with (
        pytest.raises(NotFoundError, match="Table does not exist: sales.crm.nope"),
        env.hub.transaction() as session,
    ):
        tables.get_table_row(session, ResourceName("sales", "crm", "nope"))


def test_ids_are_never_reused_after_a_delete(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        first = principals.create_principal(session, actor=env.admin, principal="user:a@sales").id
        issued = tokens.create_token(session, actor=env.admin, principal="user:a@sales").id
    with env.hub.transaction() as session:
        principals.delete_principal(session, actor=env.admin, principal="user:a@sales")
    with env.hub.transaction() as session:
        again = principals.create_principal(session, actor=env.admin, principal="user:b@sales").id
        reissued = tokens.create_token(session, actor=env.admin, principal="user:b@sales").id
    assert again > first
    assert reissued > issued


def test_principal_names_are_case_insensitive(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="marketing")
        row = principals.create_principal(session, actor=env.admin, principal="user:MIA@marketing")
        assert row.ref == "user:mia@marketing"
    with (
        pytest.raises(AlreadyExistsError, match="Principal already exists: user:mia@marketing"),
        env.hub.transaction() as session,
    ):
        principals.create_principal(session, actor=env.admin, principal="user:mia@marketing")
    with env.hub.transaction() as session:
        assert principals.get_principal(session, "User:Mia@Marketing").id == row.id
        events = audit.search(session, reader=env.admin, actor="USER:Admin@Governance")
        assert events
        assert {event.actor for event in events} == {"user:admin@governance"}


def test_a_domain_admin_cannot_remove_the_last_admin(env: HubEnv) -> None:
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", admins=["user:sam@sales"])
        sam = load_actor(session, principals.get_principal(session, "user:sam@sales"))
    with (
        pytest.raises(
            ConflictError,
            match=r"Cannot remove the last admin of domain sales: user:sam@sales \(add another",
        ),
        env.hub.transaction() as session,
    ):
        domains.remove_admin(session, actor=sam, domain="sales", principal="user:sam@sales")
    with env.hub.transaction() as session:
        domains.add_admin(session, actor=sam, domain="sales", principal="user:sue@sales")
        domains.remove_admin(session, actor=sam, domain="sales", principal="user:sam@sales")
    with env.hub.transaction() as session:  # a mesh admin may leave a domain without admins
        domains.remove_admin(session, actor=env.admin, domain="sales", principal="user:sue@sales")
