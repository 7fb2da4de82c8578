"""Locations checked on real paths: aliases, reserved places, who may register where, and what a
crawl or a query reads through symbolic links (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakemesh import audit
from lakemesh.catalog import crawler, domains, locations, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    GuardrailViolationError,
    InvalidInputError,
    StorageError,
)
from lakemesh.governance import explanations, grants, guardrails
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.identity import tokens
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.query import service
from tests.conftest import HubEnv
from tests.factories.lake import Lake

SALES_ADMIN = "user:sam@sales"
MARKETING_ADMIN = "user:mark@marketing"


@dataclass
class Mesh:
    env: HubEnv
    lake: Lake  # outside the hub home: sales/ holds the sales domain's PII
    sales: Actor
    marketing: Actor

    def actor(self, principal: str) -> Actor:
        with self.env.hub.transaction() as session:
            issued = tokens.create_token(session, actor=self.env.admin, principal=principal)
        with self.env.hub.transaction() as session:
            return tokens.authenticate(session, issued.token)

    def register(self, actor: Actor, uri: str, domain: str) -> str:
        with self.env.hub.transaction() as session:
            return locations.register_location(session, actor=actor, uri=uri, domain=domain).uri


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    lake = Lake(tmp_path / "lake")
    lake.csv("sales/crm/customers/part-0.csv", "id,email\n1,ann@example.com\n")
    lake.csv("marketing/web/visits/part-0.csv", "id,page\n1,/home\n")
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", admins=[SALES_ADMIN])
        domains.create_domain(session, actor=env.admin, name="marketing", admins=[MARKETING_ADMIN])
        locations.register_location(
            session, actor=env.admin, uri=str(lake.root / "sales"), domain="sales"
        )
        locations.register_location(
            session, actor=env.admin, uri=str(lake.root / "marketing"), domain="marketing"
        )
    result = Mesh(env, lake, sales=env.admin, marketing=env.admin)
    result.sales = result.actor(SALES_ADMIN)
    result.marketing = result.actor(MARKETING_ADMIN)
    return result


# Aliases of another domain's folder


@pytest.mark.parametrize(
    "alias",
    [
        "file:///proc/self/root{sales}",
        "/proc/self/cwd/{relative}",
        "/proc/{pid}/root{sales}/crm",
    ],
)
def test_proc_aliases_are_never_locations(
    mesh: Mesh, alias: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sales = mesh.lake.root / "sales"
    monkeypatch.chdir(mesh.lake.root)
    uri = alias.format(sales=sales, relative="sales", pid=os.getpid())
    for actor in (mesh.marketing, mesh.env.admin):
        with (
            pytest.raises(AccessDeniedError, match=r"may not be registered: it lies inside the "),
            mesh.env.hub.transaction() as session,
        ):
            locations.register_location(session, actor=actor, uri=uri, domain="marketing")
    with mesh.env.hub.read() as session:
        denied = audit.search(
            session, reader=mesh.env.admin, actor=mesh.marketing.ref, action="location.register"
        )
    assert [event.outcome for event in denied] == ["denied"]


def test_a_symbolic_link_to_another_domains_folder_is_that_folder(mesh: Mesh) -> None:
    alias = mesh.lake.root / "alias"
    alias.symlink_to(mesh.lake.root / "sales" / "crm")
    with (
        pytest.raises(
            ConflictError,
            match=re.escape(
                f"Location file://{alias} (resolves to file://{mesh.lake.root}/sales/crm) is "
                f"inside location file://{mesh.lake.root}/sales of domain sales"
            ),
        ),
        mesh.env.hub.transaction() as session,
    ):
        locations.register_location(
            session, actor=mesh.env.admin, uri=str(alias), domain="marketing"
        )
    whole = mesh.lake.root / "whole"
    whole.symlink_to(mesh.lake.root / "sales")
    with pytest.raises(AlreadyExistsError, match=r"resolves to .*/sales\) \(by domain sales\)"):
        mesh.register(mesh.env.admin, str(whole), "marketing")


@pytest.mark.parametrize(
    ("spelling", "error", "message"),
    [
        ("{root}/marketing/../sales/crm", ConflictError, "is inside location .* of domain sales"),
        ("{root}//sales///crm/", ConflictError, "is inside location .* of domain sales"),
        ("file://{root}/marketing/%2e%2e/sales", InvalidInputError, "percent-encoded"),
        ("file://{root}/marketing/%2E%2E%2Fsales", InvalidInputError, "percent-encoded"),
        ("{root}/marketing/\x1b[31m", InvalidInputError, "control characters"),
    ],
)
def test_spellings_of_another_domains_folder_are_refused(
    mesh: Mesh, spelling: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message), mesh.env.hub.transaction() as session:
        locations.register_location(
            session,
            actor=mesh.env.admin,
            uri=spelling.format(root=mesh.lake.root),
            domain="marketing",
        )


def test_s3_keys_are_normalised_before_comparing(mesh: Mesh) -> None:
    mesh.register(mesh.env.admin, "s3://lake/sales", "sales")
    with pytest.raises(ConflictError, match="inside location s3://lake/sales of domain sales"):
        mesh.register(mesh.env.admin, "s3a://lake//sales///crm/", "marketing")
    with pytest.raises(InvalidInputError, match="'.' and '..' segments are not allowed"):
        mesh.register(mesh.env.admin, "s3://lake/marketing/../sales", "marketing")
    with pytest.raises(InvalidInputError, match="percent-encoded"):
        mesh.register(mesh.env.admin, "s3://lake/marketing/%2e%2e/sales", "marketing")


# Reserved places


def test_the_hub_home_and_system_folders_are_never_locations(mesh: Mesh) -> None:
    home = mesh.env.home
    refused = {
        "/": "it contains the system folder /proc",
        "/sys/kernel": "it lies inside the system folder /sys",
        "/dev/shm/x": "it lies inside the system folder /dev",
        str(home): "it lies inside the hub home",
        str(home.parent): "it contains the hub home",
        str(home / "hub.db"): "it lies inside the hub home",
        str(home / "tmp"): "it lies inside the hub home",
        str(home / "storage" / ".." / "profiles.toml"): "it lies inside the hub home",
    }
    for uri, reason in refused.items():
        with (
            pytest.raises(AccessDeniedError, match=f"may not be registered: {reason}"),
            mesh.env.hub.transaction() as session,
        ):
            locations.register_location(session, actor=mesh.env.admin, uri=uri, domain="marketing")
    # The hub home's storage/ folder is where domains keep their data by default.
    assert mesh.register(mesh.env.admin, str(home / "storage"), "marketing") == (
        f"file://{home}/storage"
    )


def test_a_link_into_the_hub_home_is_refused(mesh: Mesh) -> None:
    link = mesh.lake.root / "marketing" / "home"
    link.symlink_to(mesh.env.home)
    with pytest.raises(AccessDeniedError, match=r"resolves to .* it lies inside the hub home"):
        mesh.register(mesh.env.admin, str(link), "marketing")


# Who may register where (the Lake Formation model)


def test_a_domain_admin_registers_only_inside_granted_prefixes(mesh: Mesh) -> None:
    storage = mesh.env.home / "storage"
    elsewhere = mesh.lake.root / "marketing-extra"
    with pytest.raises(
        AccessDeniedError,
        match=re.escape(
            f"user:mark@marketing lacks DATA_LOCATION_ACCESS on file://{elsewhere}: a domain "
            f"admin registers locations only inside file://{storage}/marketing or inside a "
            "registered location granted with DATA_LOCATION_ACCESS (ask a mesh admin)"
        ),
    ):
        mesh.register(mesh.marketing, str(elsewhere), "marketing")
    # The default boundary: the hub home's storage/<domain>.
    assert mesh.register(mesh.marketing, str(storage / "marketing" / "web"), "marketing") == (
        f"file://{storage}/marketing/web"
    )
    with pytest.raises(AccessDeniedError, match="lacks DATA_LOCATION_ACCESS"):
        mesh.register(mesh.marketing, str(storage / "sales"), "marketing")


def test_data_location_access_on_a_parent_lets_a_domain_admin_register_inside(
    mesh: Mesh,
) -> None:
    shared = mesh.lake.root / "shared"
    mesh.register(mesh.env.admin, str(shared), "governance")
    with pytest.raises(ConflictError, match="is inside location .* of domain governance"):
        mesh.register(mesh.marketing, str(shared / "marketing"), "marketing")
    with mesh.env.hub.transaction() as session:
        grants.grant(
            session,
            actor=mesh.env.admin,
            request=GrantRequest(
                permissions=frozenset({Permission.DATA_LOCATION_ACCESS}), location=str(shared)
            ),
            grantee="domain:marketing",
        )
    assert mesh.register(mesh.marketing, str(shared / "marketing"), "marketing") == (
        f"file://{shared}/marketing"
    )
    # The grant is marketing's: sales still may not register there.
    with pytest.raises(ConflictError, match="is inside location .* of domain governance"):
        mesh.register(mesh.sales, str(shared / "sales"), "sales")
    # explain finds the innermost location, through any spelling of it.
    (mesh.lake.root / "mine").symlink_to(shared / "marketing")
    with mesh.env.hub.read() as session:
        explained = explanations.explain(
            session,
            actor=mesh.marketing,
            principal=MARKETING_ADMIN,
            permission=Permission.DATA_LOCATION_ACCESS,
            resource=f"file://{mesh.lake.root}/mine/web",
        )
    assert explained.allowed
    assert explained.resource == f"location file://{shared}/marketing/web"


def test_a_domain_prefix_guardrail_grants_each_domain_its_own_prefix(mesh: Mesh) -> None:
    with mesh.env.hub.transaction() as session:
        guardrails.create_guardrail(
            session,
            actor=mesh.env.admin,
            name="lake-per-domain",
            kind="location-prefixes",
            prefixes=[f"{mesh.lake.root}/domains/{{domain}}", str(mesh.lake.root)],
        )
    assert mesh.register(
        mesh.marketing, str(mesh.lake.root / "domains" / "marketing" / "web"), "marketing"
    ).endswith("/domains/marketing/web")
    with pytest.raises(AccessDeniedError, match="lacks DATA_LOCATION_ACCESS"):
        mesh.register(mesh.marketing, str(mesh.lake.root / "domains" / "sales"), "marketing")
    with pytest.raises(GuardrailViolationError, match="is outside the allowed prefixes"):
        mesh.register(mesh.env.admin, str(mesh.env.home / "storage" / "sales"), "sales")


# Crawls and queries never read through a link that leaves the location


def test_the_crawler_skips_links_that_leave_the_location(mesh: Mesh) -> None:
    web = mesh.lake.root / "marketing" / "web"
    (web / "stolen").symlink_to(mesh.lake.root / "sales" / "crm" / "customers")
    (web / "visits" / "part-1.csv").symlink_to(
        mesh.lake.root / "sales" / "crm" / "customers" / "part-0.csv"
    )
    crawled = crawler.crawl(
        mesh.env.hub, actor=mesh.marketing, uri=str(web), domain="marketing", database="web"
    )
    report = {table.name: (table.status, table.warnings) for table in crawled}
    sales = f"file://{mesh.lake.root}/sales/crm/customers"
    outside = f"outside location file://{mesh.lake.root}/marketing"
    assert report == {
        "marketing.web.stolen": (
            "skipped",
            [f"Skipped symbolic link file://{web}/stolen: it leads to {sales}, {outside}"],
        ),
        "marketing.web.visits": (
            "created",
            [
                f"Skipped symbolic link file://{web}/visits/part-1.csv: it leads to "
                f"{sales}/part-0.csv, {outside}"
            ],
        ),
    }
    assert [table.files for table in crawled] == [0, 1]
    with pytest.raises(
        InvalidInputError,
        match=re.escape(
            f"file:///proc/self/root{web}/stolen (resolves to {sales}) is not inside any "
            "location registered "
            "by domain marketing"
        ),
    ):
        crawler.crawl(
            mesh.env.hub,
            actor=mesh.marketing,
            uri=f"/proc/self/root{web}/stolen",
            domain="marketing",
            database="stolen",
        )


def test_a_table_folder_swapped_for_a_link_is_not_read(mesh: Mesh) -> None:
    web = mesh.lake.root / "marketing" / "web"
    crawler.crawl(
        mesh.env.hub, actor=mesh.marketing, uri=str(web), domain="marketing", database="web"
    )
    with mesh.env.hub.transaction() as session:
        tables.create_table(
            session,
            actor=mesh.marketing,
            name=parse_resource("marketing.web.later"),
            location=str(web / "later"),
            format="csv",
            columns=[ColumnSpec("id", "BIGINT"), ColumnSpec("email", "VARCHAR")],
        )
    (web / "later").symlink_to(mesh.lake.root / "sales" / "crm" / "customers")
    (web / "visits" / "part-1.csv").symlink_to(
        mesh.lake.root / "sales" / "crm" / "customers" / "part-0.csv"
    )
    visits = service.run(
        mesh.env.hub, actor=mesh.marketing, sql="SELECT count(*) AS n FROM marketing.web.visits"
    )
    assert visits.result.table.to_pylist() == [{"n": 1}]
    with pytest.raises(
        StorageError,
        match=re.escape(
            f"Table marketing.web.later is not read: its location file://{web}/later (resolves "
            f"to file://{mesh.lake.root}/sales/crm/customers) is outside every location of its "
            "domain"
        ),
    ):
        service.run(mesh.env.hub, actor=mesh.marketing, sql="SELECT * FROM marketing.web.later")
