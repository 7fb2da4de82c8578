"""``apply``: refused as a whole for a folder the caller does not administer, for a guardrail
violation and for a missing reference; partial folders leave the other domains untouched; a domain
admin applies its own folder as itself; prune removes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh import meshfile
from lakemesh.errors import AccessDeniedError, GuardrailViolationError, NotFoundError
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.meshfile.model import GrantSpec, MeshFiles, PrincipalSpec
from lakemesh.model.actors import Actor
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.meshfile.conftest import export_text


def _actor(env: HubEnv, ref: str) -> Actor:
    with env.hub.read() as session:
        return load_actor(session, get_principal(session, ref))


def _files(demo_export: tuple[Path, dict[str, str]], *folders: str) -> MeshFiles:
    files = meshfile.read_files(demo_export[0])
    if folders:
        files = MeshFiles(domains=[f for f in files.domains if f.domain.name in folders])
    return files


def _add_principal(files: MeshFiles, ref: str) -> None:
    folder = files.folder(ref.rsplit("@", 1)[1])
    assert folder is not None
    folder.domain.principals.append(PrincipalSpec(name=ref))


def test_a_domain_admin_may_not_apply_another_domains_folder(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    before = export_text(copy.hub, copy.admin)
    files = _files(demo_export, "sales", "marketing")
    _add_principal(files, "user:newbie@sales")
    _add_principal(files, "user:eve@marketing")
    maria = _actor(copy, "user:maria@marketing")
    with pytest.raises(
        AccessDeniedError, match=r"^user:maria@marketing is not an admin of domain sales$"
    ):
        meshfile.apply_mesh(copy.hub, actor=maria, files=files)
    assert export_text(copy.hub, copy.admin) == before
    with copy.hub.read() as session:
        denial = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalar()
    assert denial is not None
    assert (denial.actor, denial.action, denial.outcome) == (
        "user:maria@marketing",
        "mesh.apply",
        "denied",
    )
    # governance/mesh.yaml is mesh admins' only.
    with pytest.raises(AccessDeniedError, match="is not a mesh admin"):
        meshfile.apply_mesh(copy.hub, actor=maria, files=MeshFiles(mesh=_files(demo_export).mesh))


def test_a_domain_admin_applies_its_own_folder_as_itself(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    files = _files(demo_export, "marketing")
    _add_principal(files, "user:eve@marketing")
    maria = _actor(copy, "user:maria@marketing")
    result = meshfile.apply_mesh(copy.hub, actor=maria, files=files)
    assert result.committed == [["marketing"]]
    with copy.hub.read() as session:
        events = (
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.details["apply_id"].as_string() == result.apply_id
                )
            )
            .scalars()
            .all()
        )
    assert [(e.actor, e.action, e.resource) for e in events] == [
        ("user:maria@marketing", "principal.create", "user:eve@marketing"),
        ("user:maria@marketing", "mesh.apply", "mesh:marketing"),
    ]


def test_a_guardrail_violation_refuses_the_whole_apply(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    before = export_text(copy.hub, copy.admin)
    files = _files(demo_export)
    _add_principal(files, "user:eve@marketing")  # another folder, another transaction
    sales = files.folder("sales")
    assert sales is not None
    # PII only to named principals (guardrail pii-only-named): not to a whole domain.
    sales.access.grants.append(
        GrantSpec(to="domain:analytics", on="sales.crm.customers", permissions=["SELECT"])
    )
    with pytest.raises(
        GuardrailViolationError, match="^Apply refused, nothing applied: "
    ) as raised:
        meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files)
    assert "pii-only-named" in raised.value.message
    assert [p["folder"] for p in raised.value.details["problems"]] == ["sales"]
    assert export_text(copy.hub, copy.admin) == before
    plan = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=files)
    assert [(p.kind, p.error.error_type) for p in plan.problems] == [
        ("grant", "guardrail_violation")
    ]
    with pytest.raises(GuardrailViolationError, match="pii-only-named"):
        meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files, atomic=True)
    assert export_text(copy.hub, copy.admin) == before


def test_a_partial_folder_leaves_other_domains_untouched(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    before = export_text(copy.hub, copy.admin)
    files = meshfile.read_files(demo_export[0] / "sales")  # one domain's folder
    assert [f.domain.name for f in files.domains] == ["sales"]
    assert files.mesh is None
    files.domains[0].domain.description = "Shops"
    files.domains[0].catalog.databases[0].tables.pop()  # not pruned: kept
    result = meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files)
    assert [(c.action, c.resource.kind) for c in result.plan.changes] == [("change", "domain")]
    assert [r.kind for r in result.plan.kept][:1] == ["table"]
    after = export_text(copy.hub, copy.admin)
    assert {path for path in before if before[path] != after[path]} == {"sales/domain.yaml"}


def test_a_reference_missing_from_files_and_hub_is_reported(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    before = export_text(copy.hub, copy.admin)
    files = meshfile.read_files(demo_export[0] / "sales")
    files.domains[0].access.grants.append(
        GrantSpec(to="user:ghost@marketing", on="sales.crm.stores", permissions=["SELECT"])
    )
    # A reference to another domain's principal the hub has resolves: no problem.
    files.domains[0].access.grants.append(
        GrantSpec(to="user:mia@marketing", on="sales.crm.stores", permissions=["SELECT"])
    )
    plan = meshfile.plan_mesh(copy.hub, actor=copy.admin, files=files)
    assert [p.error.message for p in plan.problems] == [
        'grant {"on":"sales.crm.stores","to":"user:ghost@marketing","with_grant_option":false} '
        "refers to principal user:ghost@marketing, which is neither in the files nor in the hub"
    ]
    with pytest.raises(NotFoundError, match="^Apply refused, nothing applied: grant "):
        meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files)
    assert export_text(copy.hub, copy.admin) == before


def test_prune_removes_what_the_files_lack(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    files = _files(demo_export, "finance")
    folder = files.domains[0]
    folder.access.grants.clear()
    folder.domain.principals = [
        p for p in folder.domain.principals if p.name != "user:frank@finance"
    ]
    group = next(p for p in folder.domain.principals if p.name == "group:analysts@finance")
    group.members.clear()
    result = meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files, prune=True)
    assert [(c.action, c.resource.kind) for c in result.plan.changes] == [
        ("remove", "grant"),
        ("remove", "member"),
        ("remove", "principal"),
    ]
    finance = export_text(copy.hub, copy.admin, ["finance"])
    assert "user:frank@finance" not in finance["finance/domain.yaml"]
    assert "finance/access.yaml" not in finance
    assert meshfile.plan_mesh(copy.hub, actor=copy.admin, files=files, prune=True).changes == []


def test_one_transaction_refused_by_a_guardrail_applies_nothing(
    copy: HubEnv, demo_export: tuple[Path, dict[str, str]]
) -> None:
    before = export_text(copy.hub, copy.admin)
    files = meshfile.read_files(demo_export[0] / "sales")  # one folder: one transaction
    _add_principal(files, "user:newbie@sales")
    files.domains[0].access.grants.append(
        GrantSpec(to="domain:analytics", on="sales.crm.customers", permissions=["SELECT"])
    )
    with pytest.raises(
        GuardrailViolationError, match="^Apply refused, nothing applied: "
    ) as raised:
        meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files)
    assert [(p["kind"], p["folder"]) for p in raised.value.details["problems"]] == [
        ("grant", "sales")
    ]
    assert export_text(copy.hub, copy.admin) == before


@pytest.mark.parametrize(
    ("folders", "atomic"), [(("sales",), False), (("sales", "marketing"), True)]
)
def test_a_refused_transaction_reports_every_refusal_and_applies_nothing(
    copy: HubEnv,
    demo_export: tuple[Path, dict[str, str]],
    folders: tuple[str, ...],
    atomic: bool,
) -> None:
    before = export_text(copy.hub, copy.admin)
    files = _files(demo_export, *folders)  # one transaction: one folder, or --atomic
    for folder in folders:
        _add_principal(files, f"user:newbie@{folder}")  # valid changes beside the refused ones
    sales = files.folder("sales")
    assert sales is not None
    # PII to whole domains: the guardrail pii-only-named refuses each grant.
    for domain in ("analytics", "marketing"):
        sales.access.grants.append(
            GrantSpec(to=f"domain:{domain}", on="sales.crm.customers", permissions=["SELECT"])
        )
    with pytest.raises(
        GuardrailViolationError,
        match=r"^Apply refused, nothing applied: .*\(and 1 more problems\)$",
    ) as raised:
        meshfile.apply_mesh(copy.hub, actor=copy.admin, files=files, atomic=atomic)
    problems = raised.value.details["problems"]
    assert [(p["kind"], p["folder"], p["type"]) for p in problems] == [
        ("grant", "sales", "guardrail_violation"),
        ("grant", "sales", "guardrail_violation"),
    ]
    assert sorted(json.loads(p["key"])["to"] for p in problems) == [
        "domain:analytics",
        "domain:marketing",
    ]
    assert all("pii-only-named" in p["message"] for p in problems)
    assert export_text(copy.hub, copy.admin) == before
