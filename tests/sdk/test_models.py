"""Governance, identity and mesh-as-code methods of the SDK return the API's models, embedded
and over HTTP (the models the routes declare, so the OpenAPI document describes what they hold)."""

from __future__ import annotations

from lakemesh.api.schemas.attributes import AttributeKeyPublic
from lakemesh.api.schemas.grants import DecisionPublic, VendedCredentials
from lakemesh.api.schemas.guardrails import Diagnosis, Finding, GuardrailPublic
from lakemesh.api.schemas.mesh import DecisionSnapshotPublic, MeshApplyPublic, MeshPlanPublic
from lakemesh.meshfile.model import MeshFiles
from lakemesh.sdk import Client
from tests.factories.lake import Lake

TABLE = "sales.crm.customers"
MIA = "user:mia@sales"


def _catalog(client: Client, lake: Lake) -> None:
    client.create_domain("sales", producer=True, admins=["user:sam@sales"])
    client.create_principal(MIA)
    client.register_location(lake.uri, domain="sales")
    client.create_database("sales.crm")
    columns = [{"name": c, "type": "VARCHAR"} for c in ("id", "email", "region")]
    client.create_table(TABLE, location=lake.uri_of("customers"), format="parquet", columns=columns)


def test_explain_returns_the_decision_model(client: Client, lake: Lake) -> None:
    _catalog(client, lake)
    client.grant("SELECT", grantee=MIA, on=TABLE, columns=["id", "region"])

    decision = client.explain(MIA, "SELECT", TABLE)
    assert isinstance(decision, DecisionPublic)
    assert (decision.allowed, decision.columns, decision.row_filter) == (
        True,
        ["id", "region"],
        None,
    )
    assert decision.reasons
    # SELECT on a table says whether credentials would be vended: not for a column subset.
    assert isinstance(decision.vended_credentials, VendedCredentials)
    assert decision.vended_credentials.allowed is False

    describe = client.explain(MIA, "DESCRIBE", TABLE)
    assert describe.vended_credentials is None
    # Absent, not null, in the JSON (as the hub has always answered).
    assert "vended_credentials" not in describe.model_dump(mode="json")


def test_guardrails_and_the_doctor(client: Client) -> None:
    client.create_tag("owner", values=["sales"])
    client.create_tag("sensitivity", values=["pii"])
    created = client.create_guardrail("tagged", kind="required-tags", keys=["owner"])
    assert isinstance(created, GuardrailPublic)
    assert (created.name, created.kind, created.config) == (
        "tagged",
        "required-tags",
        {"keys": ["owner"]},
    )
    updated = client.update_guardrail("tagged", keys=["owner", "sensitivity"])
    assert isinstance(updated, GuardrailPublic)
    assert updated.config == {"keys": ["owner", "sensitivity"]}
    assert client.get_guardrail("tagged") == updated
    assert client.list_guardrails(kind="required-tags") == [updated]
    assert client.list_guardrails(kind="sensitive-scope") == []

    client.create_token("user:admin@governance")  # a token with no expiry: a finding
    diagnosis = client.doctor()
    assert isinstance(diagnosis, Diagnosis)
    assert all(isinstance(finding, Finding) for finding in diagnosis.findings)
    assert list(diagnosis.counts) == ["high", "medium", "low", "info"]
    assert sum(diagnosis.counts.values()) == len(diagnosis.findings) > 0
    client.delete_guardrail("tagged")


def test_attribute_keys_and_their_delegates(client: Client) -> None:
    client.create_domain("hr", admins=["user:hanna@hr"])
    created = client.create_attribute_key("region", values=["EU", "US"], description="Where")
    assert isinstance(created, AttributeKeyPublic)
    assert (created.key, created.values, created.delegates) == ("region", ["EU", "US"], [])

    delegated = client.delegate_attribute("region", "user:hanna@hr")
    assert isinstance(delegated, AttributeKeyPublic)
    assert delegated.delegates == ["user:hanna@hr"]
    assert client.get_attribute_key("region") == delegated
    assert client.list_attribute_keys() == [delegated]
    changed = client.update_attribute_key("region", values=["EU", "US", "APAC"])
    assert changed.values == ["EU", "US", "APAC"]
    assert client.undelegate_attribute("region", "user:hanna@hr").delegates == []
    client.delete_attribute_key("region")
    assert client.list_attribute_keys() == []


def test_mesh_export_plan_apply_and_decisions(client: Client, lake: Lake) -> None:
    _catalog(client, lake)
    client.grant("SELECT", grantee=MIA, on=TABLE, columns=["id"])

    files = client.mesh_export(["sales"])
    assert isinstance(files, MeshFiles)
    assert [folder.domain.name for folder in files.domains] == ["sales"]
    body = files.model_dump(mode="json", exclude_defaults=True)

    planned = client.mesh_plan(body)
    assert isinstance(planned, MeshPlanPublic)
    assert (planned.changes, planned.problems) == ([], [])
    assert planned.summary["create"] == 0

    applied = client.mesh_apply(body)
    assert isinstance(applied, MeshApplyPublic)
    assert applied.changes == []
    assert applied.apply_id

    snapshot = client.mesh_decisions()
    assert isinstance(snapshot, DecisionSnapshotPublic)
    assert MIA in snapshot.principals
    assert snapshot.tables[TABLE] == ["id", "email", "region"]
    assert snapshot.decisions[MIA][TABLE]["columns"] == ["id"]
