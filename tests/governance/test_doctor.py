"""The doctor: each risky state it reports, and the ones the store makes impossible (both
backends)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from lakemesh.catalog import domains, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import AccessDeniedError
from lakemesh.governance import doctor, grants, guardrails, masks, tag_assignments, tags
from lakemesh.governance.doctor import Finding
from lakemesh.governance.grants import GrantRequest
from lakemesh.identity import principals, tokens
from lakemesh.model.permissions import parse_permissions
from lakemesh.store.schema import Grant
from tests.conftest import HubEnv
from tests.factories.governance import CUSTOMER_COLUMNS, CUSTOMERS, Mesh, build_mesh


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    built = build_mesh(env, tmp_path)
    with env.hub.transaction() as session:
        tags.create_tag(session, actor=env.admin, key="owner", values=["sales", "marketing"])
        tag_assignments.assign_tags(
            session, actor=env.admin, resource="sales.crm", tags={"sensitivity": "internal"}
        )
        tag_assignments.assign_tags(
            session, actor=env.admin, resource=f"{CUSTOMERS}.email", tags={"sensitivity": "pii"}
        )
    return built


def _findings(mesh: Mesh, kind: str | None = None) -> list[Finding]:
    with mesh.env.hub.read() as session:
        found = doctor.diagnose(session, actor=mesh.env.admin)
    return [f for f in found if kind is None or f.kind == kind]


def _grant(mesh: Mesh, actor: str, grantee: str, perms: str = "SELECT", **target: Any) -> Grant:
    request = GrantRequest(permissions=parse_permissions(perms), **target)
    with mesh.env.hub.transaction() as session:
        return grants.grant(session, actor=mesh.actor(actor), grantee=grantee, request=request)


def _guardrail(mesh: Mesh, name: str, kind: str, **config: Any) -> None:
    with mesh.env.hub.transaction() as session:
        guardrails.create_guardrail(session, actor=mesh.env.admin, name=name, kind=kind, **config)


def test_only_mesh_admins_run_the_doctor(mesh: Mesh) -> None:
    with (
        pytest.raises(AccessDeniedError, match="user:sam@sales is not a mesh admin"),
        mesh.env.hub.read() as session,
    ):
        doctor.diagnose(session, actor=mesh.sam)


def test_a_fresh_mesh_has_one_mesh_admin_and_its_endless_token(mesh: Mesh) -> None:
    found = [(f.kind, f.severity, f.resource) for f in _findings(mesh)]
    assert found == [
        ("mesh-admins", "medium", "governance"),
        ("token-never-expires", "medium", "user:admin@governance"),
    ]
    [admins] = _findings(mesh, "mesh-admins")
    assert admins.message == (
        "1 mesh admin: user:admin@governance (losing its token locks the mesh's administration)"
    )
    with mesh.env.hub.transaction() as session:
        domains.add_admin(
            session, actor=mesh.env.admin, domain="governance", principal="user:ada@governance"
        )
        domains.create_domain(session, actor=mesh.env.admin, name="orphans")
    [admins] = _findings(mesh, "mesh-admins")
    assert (admins.severity, admins.details["count"]) == ("info", 2)
    [orphan] = _findings(mesh, "domain-without-admins")
    assert orphan.message == "domain orphans has no admins: only mesh admins can manage it"


def test_tables_without_required_tags_are_high_once_shared(mesh: Mesh) -> None:
    _grant(mesh, "user:sam@sales", "domain:marketing", "DESCRIBE", on=str(CUSTOMERS))
    _guardrail(mesh, "tagged", "required-tags", keys=["sensitivity", "owner"])
    [finding] = _findings(mesh, "missing-required-tags")
    assert (finding.severity, finding.resource, finding.details["missing_keys"]) == (
        "high",
        str(CUSTOMERS),
        ["owner"],
    )
    assert finding.message == (
        "sales.crm.customers lacks tag keys owner (Guardrail tagged (required-tags owner, "
        "sensitivity)) but is shared with domain:marketing"
    )
    with mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=mesh.env.admin, resource="sales.crm", tags={"owner": "sales"}
        )
    assert _findings(mesh, "missing-required-tags") == []


def test_grants_reaching_sensitive_columns_name_who_and_which(mesh: Mesh) -> None:
    _grant(mesh, "user:sam@sales", "domain:marketing", on=str(CUSTOMERS))
    _grant(mesh, "user:admin@governance", "user:mia@marketing", on=str(CUSTOMERS))
    _grant(
        mesh, "user:admin@governance", "user:maria@marketing", on=str(CUSTOMERS), columns=("name",)
    )
    _grant(
        mesh, "user:admin@governance", "domain:sales", on_tags="sensitivity=pii AND owner=marketing"
    )
    _guardrail(mesh, "pii-only-named", "sensitive-scope", on_tags="sensitivity=pii")
    found = {
        (f.details["grantee"], f.severity, tuple(f.details["columns"]))
        for f in _findings(mesh, "sensitive-columns-granted")
    }
    assert found == {
        ("domain:marketing", "high", ("email",)),
        ("user:mia@marketing", "medium", ("email",)),
        ("domain:sales", "high", ()),  # could reach pii columns of tomorrow's tables
    }
    with mesh.env.hub.transaction() as session:
        masks.create_mask(
            session,
            actor=mesh.env.admin,
            name="pii_redact",
            tag_expression="sensitivity=pii",
            function="redact",
        )
    [mia] = [
        f
        for f in _findings(mesh, "sensitive-columns-granted")
        if f.details["grantee"] == "user:mia@marketing"
    ]
    assert mia.severity == "low"
    assert mia.message.endswith("in sensitivity=pii (masked for it)")


def test_grants_whose_grantor_is_gone_or_powerless(mesh: Mesh) -> None:
    with mesh.env.hub.transaction() as session:
        principals.create_principal(session, actor=mesh.env.admin, principal="user:sid@sales")
    kept = _grant(mesh, "user:sam@sales", "user:sid@sales", "DESCRIBE", on=str(CUSTOMERS))
    with mesh.env.hub.transaction() as session:
        domains.add_admin(session, actor=mesh.env.admin, domain="sales", principal="user:sue@sales")
    _grant(mesh, "user:sue@sales", "user:sid@sales", "DESCRIBE", on="sales.crm")
    with mesh.env.hub.transaction() as session:
        principals.delete_principal(session, actor=mesh.env.admin, principal="user:sam@sales")
        domains.remove_admin(
            session, actor=mesh.env.admin, domain="sales", principal="user:sue@sales"
        )
    removed = _findings(mesh, "grantor-removed")
    powerless = _findings(mesh, "grantor-lost-authority")
    assert [(f.details["grant_id"], f.details["granted_by"]) for f in removed] == [
        (kept.id, "user:sam@sales")
    ]
    assert [f.details["granted_by"] for f in powerless] == ["user:sue@sales"]
    assert powerless[0].message.endswith(
        "was granted by user:sue@sales, which may no longer grant it"
    )


def test_grant_columns_dropped_from_the_table(mesh: Mesh) -> None:
    _grant(
        mesh,
        "user:admin@governance",
        "user:mia@marketing",
        on=str(CUSTOMERS),
        columns=("name", "phone"),
    )
    kept = [ColumnSpec(c, "VARCHAR") for c in CUSTOMER_COLUMNS if c != "phone"]
    with mesh.env.hub.transaction() as session:
        tables.alter_table(session, actor=mesh.sam, name=CUSTOMERS, columns=kept)
    [finding] = _findings(mesh, "grant-names-missing-columns")
    assert finding.details["columns"] == ["phone"]
    assert finding.message.endswith("names columns the table no longer has: phone")


def test_tag_grants_matching_nothing_are_noted(mesh: Mesh) -> None:
    _grant(mesh, "user:admin@governance", "user:mia@marketing", on_tags="sensitivity=public")
    [finding] = _findings(mesh, "tag-grant-matches-nothing")
    assert finding.severity == "info"


def test_revoked_parents_and_deleted_grantees_take_their_grants_along(mesh: Mesh) -> None:
    share = _grant(
        mesh, "user:admin@governance", "group:analysts@marketing", "DESCRIBE",
        on=str(CUSTOMERS), with_grant_option=True,
    )  # fmt: skip
    _grant(mesh, "user:mia@marketing", "user:maria@marketing", "DESCRIBE", on=str(CUSTOMERS))
    with mesh.env.hub.transaction() as session:
        principals.delete_principal(session, actor=mesh.env.admin, principal="user:mia@marketing")
        principals.delete_principal(
            session, actor=mesh.env.admin, principal="group:analysts@marketing"
        )
    with mesh.env.hub.read() as session:
        assert session.get(Grant, share.id) is None
        assert grants.list_grants(session, actor=mesh.env.admin) == []
    assert _findings(mesh, "dangling-grant") == []


def test_a_store_edited_behind_the_foreign_keys_shows_dangling_grants(mesh: Mesh) -> None:
    row = _grant(mesh, "user:admin@governance", "user:mia@marketing", "DESCRIBE", on=str(CUSTOMERS))
    edit = f"UPDATE grants SET parent_id = 999999 WHERE id = {row.id}"
    engine = mesh.env.hub.engine
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, as SQLite needs
            raw.execute(edit)
            raw.execute("PRAGMA foreign_keys=ON")
        finally:
            raw.close()
    else:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(edit))
    [finding] = _findings(mesh, "dangling-grant")
    assert finding.message == (
        f"grant #{row.id} is dangling: it derives from grant #999999, which no longer exists "
        "(the store's foreign keys were bypassed)"
    )


def test_tokens_beyond_a_later_lifetime_guardrail(mesh: Mesh) -> None:
    with mesh.env.hub.transaction() as session:
        short = tokens.create_token(
            session, actor=mesh.sam, principal="user:sam@sales", expires_in=timedelta(days=7)
        )
        long = tokens.create_token(
            session, actor=mesh.sam, principal="user:sam@sales", expires_in=timedelta(days=365)
        )
        endless = tokens.create_token(session, actor=mesh.sam, principal="user:sam@sales")
        tokens.revoke_token(session, actor=mesh.sam, token_id=endless.id)
        [init] = tokens.list_tokens(session, actor=mesh.env.admin)
    _guardrail(mesh, "quarterly", "max-token-lifetime", max_lifetime="90d")
    found = {f.details["token_id"]: f.severity for f in _findings(mesh, "token-exceeds-lifetime")}
    assert found == {init.id: "high", long.id: "high"}
    assert short.id not in found
    assert _findings(mesh, "token-never-expires") == []


def test_locations_registered_before_a_prefix_guardrail(mesh: Mesh, tmp_path: Path) -> None:
    _guardrail(mesh, "lake-only", "location-prefixes", prefixes=["s3://lake"])
    [finding] = _findings(mesh, "location-outside-prefixes")
    assert finding.resource == f"file://{tmp_path}/sales"
    assert finding.severity == "high"


def test_locations_registered_as_aliases_before_real_paths(mesh: Mesh, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tmp_path / "sales")
    with mesh.env.hub.transaction() as session:  # as hubs before real paths could register
        domain_id = session.execute(text("SELECT id FROM domains WHERE name = 'sales'")).scalar()
        for uri in (f"file://{alias}", "file:///proc/self/root/srv"):
            session.execute(
                text(
                    "INSERT INTO locations (domain_id, uri, created_at) "
                    "VALUES (:domain, :uri, CURRENT_TIMESTAMP)"
                ),
                {"domain": domain_id, "uri": uri},
            )
    found = {f.resource: f.message for f in _findings(mesh, "location-not-real-path")}
    assert found == {
        f"file://{alias}": f"location file://{alias} of domain sales: it resolves to "
        f"file://{tmp_path}/sales; deregister it and register that instead",
        "file:///proc/self/root/srv": "location file:///proc/self/root/srv of domain sales: it "
        "may not be a location: it lies inside the system folder /proc: file:///proc",
    }
