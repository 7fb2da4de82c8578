"""``--prune`` covers every kind: what the hub holds and the files lack is removed, and what is
never deleted (settings, share answers, data products, subscriptions) is retired; tag grants
scoped to a domain or database round-trip through the files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lakemesh import meshfile
from lakemesh.authz import policy_index
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.meshfile.model import (
    GrantSpec,
    MeshFiles,
    PrincipalSpec,
    ProductSpec,
    ShareAnswerSpec,
    SubscriptionSpec,
)
from lakemesh.model.names import parse_principal, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import PolicyIndex
from lakemesh.settings import get_setting
from lakemesh.store.schema import DataProduct, Share, Subscription
from tests.conftest import HubEnv
from tests.meshfile.conftest import export_text, fresh_hub

RETIRED = "removed from the mesh files"


def _folder(files: MeshFiles, name: str) -> meshfile.model.DomainFolder:
    folder = files.folder(name)
    assert folder is not None
    return folder


def _with_extras(folder: Path) -> MeshFiles:
    """The demo's files with one of each kind prune retires, and a share answered."""
    files = meshfile.read_files(folder)
    assert files.mesh is not None
    files.mesh.settings["discovery"] = "granted"
    _folder(files, "sales").access.grants.append(
        GrantSpec(to="domain:analytics", on="sales.crm.orders", permissions=["SELECT"])
    )
    _folder(files, "analytics").access.shares.append(
        ShareAnswerSpec(on="sales.crm.orders", status="accepted")
    )
    _folder(files, "finance").products.products.append(
        ProductSpec(
            name="finance_extra",
            title="Extra",
            owner="user:fiona@finance",
            version="1.0.0",
            tables=["finance.ledger.invoices"],
        )
    )
    _folder(files, "analytics").products.subscriptions.append(
        SubscriptionSpec(
            product="finance_extra",
            principal="user:ana@analytics",
            reason="reporting",
            status="approved",
        )
    )
    return files


def test_prune_retires_settings_share_answers_products_and_subscriptions(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    meshfile.apply_mesh(copy.hub, actor=copy.admin, files=_with_extras(demo_export[0]))
    original = meshfile.read_files(demo_export[0])
    assert original.mesh is not None
    del original.mesh.settings["discovery"]  # not in the files: prune sets its default again

    kept = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=original)
    assert sorted((r.kind, r.key) for r in kept.kept if r.kind != "grant") == [
        ("product", "finance_extra"),
        ("setting", "discovery"),
        ("share", '{"on":"sales.crm.orders","to":"domain:analytics","with_grant_option":false}'),
        ("subscription", "finance_extra|user:ana@analytics"),
    ]
    result = meshfile.apply_mesh(copy.hub, actor=copy.admin, files=original, prune=True)
    assert [(c.action, c.resource.kind) for c in result.plan.changes] == [
        ("remove", "subscription"),
        ("remove", "product"),
        ("remove", "grant"),
        ("remove", "share"),
        ("remove", "setting"),
    ]
    with copy.hub.read() as session:
        assert get_setting(session, "discovery") == "published"
        product = session.execute(
            select(DataProduct).where(DataProduct.name == "finance_extra")
        ).scalar_one()
        assert (product.status, product.deprecation_message) == ("deprecated", RETIRED)
        subscription = session.execute(
            select(Subscription)
            .where(Subscription.principal == "user:ana@analytics")
            .where(Subscription.product_id == product.id)
        ).scalar_one()
        assert (subscription.status, subscription.comment) == ("revoked", RETIRED)
        assert session.execute(select(Share.status).where(Share.to_domain == "analytics")).all()
    # Retired is done: pruning again changes nothing, and the rest of the mesh is the export.
    again = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=original, prune=True)
    assert (again.changes, again.kept, again.problems) == ([], [], [])
    text = export_text(copy.hub, copy.admin)
    assert {path for path in text if text[path] != demo_export[1].get(path)} == {
        "analytics/products.yaml",  # the revoked subscription
        "finance/products.yaml",  # the deprecated product
    }


def test_a_share_answer_is_declined_when_the_share_stays(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    meshfile.apply_mesh(copy.hub, actor=copy.admin, files=_with_extras(demo_export[0]))
    files = _with_extras(demo_export[0])
    _folder(files, "analytics").access.shares.clear()
    analytics = MeshFiles(domains=[_folder(files, "analytics")])
    result = meshfile.apply_mesh(copy.hub, actor=copy.admin, files=analytics, prune=True)
    assert [(c.action, c.resource.kind) for c in result.plan.changes] == [("remove", "share")]
    assert "  status: declined\n" in export_text(copy.hub, copy.admin)["analytics/access.yaml"]
    again = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=analytics, prune=True)
    assert again.changes == []


def _sees(index: PolicyIndex, principal: str, table: str) -> bool:
    decision = index.explain(
        principal=parse_principal(principal),
        permission=Permission.SELECT,
        resource=parse_resource(table),
    )
    return decision.allowed


def test_a_tag_grant_scoped_to_a_database_round_trips(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    files = meshfile.read_files(demo_export[0] / "sales")
    files.domains[0].domain.principals.append(PrincipalSpec(name="service:scoped@sales"))
    files.domains[0].access.grants.append(
        GrantSpec(
            to="service:scoped@sales",
            on_tags="sensitivity = internal",
            tag_scope="sales.crm",
            permissions=["select"],
        )
    )
    with copy.hub.read() as session:
        sam = load_actor(session, get_principal(session, "user:sam@sales"))
    plan = meshfile.plan_mesh(copy.hub, actor=sam, files=files)  # a domain admin's own scope
    assert [(c.action, c.resource.key) for c in plan.changes if c.resource.kind == "grant"] == [
        (
            "create",
            '{"on_tags":"sensitivity=internal","tag_resource_type":"table",'
            '"tag_scope":"sales.crm","to":"service:scoped@sales","with_grant_option":false}',
        )
    ]
    meshfile.apply_mesh(copy.hub, actor=sam, files=files)
    text = export_text(copy.hub, copy.admin)
    assert "- on_tags: sensitivity=internal\n  tag_scope: sales.crm\n" in text["sales/access.yaml"]
    with copy.hub.read() as session:
        index = policy_index(session)
        assert _sees(index, "service:scoped@sales", "sales.crm.orders")
        assert not _sees(index, "service:scoped@sales", "marketing.campaigns.campaigns")
    assert meshfile.plan_mesh(copy.hub, actor=sam, files=files).changes == []

    # A fresh hub rebuilt from the export holds the same scoped grant.
    export = tmp_path / "export"
    with copy.hub.read() as session:
        meshfile.write_files(meshfile.export_mesh(session, actor=copy.admin), export)
    rebuilt = fresh_hub(tmp_path / "rebuilt")
    try:
        meshfile.apply_mesh(rebuilt.hub, actor=rebuilt.admin, files=meshfile.read_files(export))
        assert export_text(rebuilt.hub, rebuilt.admin) == text
    finally:
        rebuilt.hub.close()


def test_a_tag_scope_names_a_domain_or_database_of_a_tag_grant(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    files = meshfile.read_files(demo_export[0] / "sales")
    grants = files.domains[0].access.grants
    grants.append(
        GrantSpec(
            to="user:sam@sales",
            on_tags="sensitivity=internal",
            tag_scope="sales.crm.orders",
            permissions=["SELECT"],
        )
    )
    plan = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=files)
    assert [p.error.message for p in plan.problems] == [
        "A tag grant is scoped to a domain or a database, not to table sales.crm.orders"
    ]
    grants[-1] = GrantSpec(
        to="user:sam@sales", on="sales.crm.orders", tag_scope="sales", permissions=["SELECT"]
    )
    plan = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=files)
    assert [p.error.message for p in plan.problems] == [
        "A tag scope applies to tag expression grants (--on-tags) only"
    ]
