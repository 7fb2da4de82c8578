"""The NimbusCart demo's governance: what each persona's access looks like, explained."""

from __future__ import annotations

from typing import Any

import pytest

from lakemesh.api.schemas.grants import DecisionPublic
from lakemesh.errors import GuardrailViolationError
from lakemesh.governance import doctor, explanations, grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission


@pytest.fixture
def demo(demo_mesh: tuple[Hub, Actor]) -> tuple[Hub, Actor]:
    """The shared demo mesh (tests/conftest.py)."""
    return demo_mesh


def _explain(demo: tuple[Hub, Actor], principal: str, resource: str) -> dict[str, Any]:
    hub, steward = demo
    with hub.read() as session:
        decision = explanations.explain(
            session,
            actor=steward,
            principal=principal,
            permission=Permission.SELECT,
            resource=resource,
        )
    return DecisionPublic.of(decision).model_dump()


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        (
            "sales.crm.customers",
            ["customer_id", "first_name", "last_name", "country", "region", "segment",
             "signup_date"],
        ),
        ("marketing.campaigns.leads", ["lead_id", "campaign_id", "score", "region", "created_at"]),
    ],
)  # fmt: skip
def test_marketing_analyst_reads_customers_and_leads_without_pii(
    demo: tuple[Hub, Actor], table: str, columns: list[str]
) -> None:
    explained = _explain(demo, "user:mia@marketing", table)
    assert (explained["allowed"], explained["columns"], explained["row_filter"]) == (
        True,
        columns,
        None,
    )
    assert any("sensitivity=internal|public" in reason for reason in explained["reasons"])


def test_marketing_analyst_reads_nothing_of_hr(demo: tuple[Hub, Actor]) -> None:
    assert _explain(demo, "user:mia@marketing", "finance.hr.salaries")["allowed"] is False


def test_eu_manager_reads_eu_orders_only(demo: tuple[Hub, Actor]) -> None:
    explained = _explain(demo, "user:emma@sales", "sales.crm.orders")
    assert explained["allowed"] is True
    assert explained["row_filter"] == "(\"region\" = 'EU')"
    assert "status" in explained["columns"]
    assert _explain(demo, "user:emma@sales", "sales.crm.customers")["allowed"] is False


def test_finance_analyst_reads_the_ledger(demo: tuple[Hub, Actor]) -> None:
    explained = _explain(demo, "user:frank@finance", "finance.ledger.invoices")
    assert (explained["allowed"], explained["row_filter"]) == (True, None)
    assert _explain(demo, "user:frank@finance", "finance.hr.salaries")["allowed"] is False


def test_the_sales_admin_sees_pii_unmasked_through_its_role(demo: tuple[Hub, Actor]) -> None:
    explained = _explain(demo, "user:sam@sales", "sales.crm.customers")
    assert "email" in explained["columns"]
    assert explained["masks"] == {}


def test_pii_cannot_be_shared_with_a_whole_domain(demo: tuple[Hub, Actor]) -> None:
    hub, steward = demo
    request = GrantRequest(permissions=frozenset({Permission.SELECT}), on="sales.crm.customers")
    with (
        pytest.raises(GuardrailViolationError, match="Guardrail pii-only-named"),
        hub.transaction() as session,
    ):
        grants.grant(session, actor=steward, grantee="domain:analytics", request=request)


def test_the_doctor_finds_no_untagged_table_and_no_pii_shared(demo: tuple[Hub, Actor]) -> None:
    hub, steward = demo
    with hub.read() as session:
        findings = doctor.diagnose(session, actor=steward)
    kinds = {finding.kind for finding in findings}
    assert "missing-required-tags" not in kinds
    assert not [f for f in findings if f.severity == "high"]
