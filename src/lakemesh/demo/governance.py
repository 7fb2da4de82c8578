"""Governance of the NimbusCart demo: tags, a mask, a data filter, grants and guardrails.

Applied through the services, as a data steward would with the CLI:

- tag keys ``sensitivity`` (public, internal, pii, confidential) and ``owner`` (the domains);
  every database and table carries both; customers' and leads' ``email`` and ``phone`` are pii,
  employees' ``full_name`` pii and ``salary`` confidential (the whole ``finance.hr`` database is);
- mask ``pii_redact``: columns tagged pii are redacted unless UNMASK;
- marketing analysts read every public or internal column of the mesh (a tag grant, so PII drops
  out and tomorrow's tables come in); finance analysts read ``finance.ledger``; regional managers
  read ``sales.crm.orders`` through the filter ``eu_only`` (``region =
  principal_attribute('region')``: one filter serves every region);
- guardrails ``pii-only-named`` (pii only to named principals) and ``tagged-before-sharing``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lakemesh.authz import guardrail_rules
from lakemesh.catalog import databases, tables
from lakemesh.demo.data import CONSUMER_DOMAINS, PRODUCER_DOMAINS
from lakemesh.governance import filters, grants, guardrails, masks, tag_assignments, tags
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission

SENSITIVITY = ("public", "internal", "pii", "confidential")
DATABASE_SENSITIVITY = {"finance.hr": "confidential"}
"""Databases not named here are internal."""
TABLE_SENSITIVITY = {
    "sales.crm.stores": "public",
    "supply_chain.logistics.products": "public",
}
"""Tables not named here take their database's sensitivity."""
COLUMN_SENSITIVITY = {
    "sales.crm.customers.email": "pii",
    "sales.crm.customers.phone": "pii",
    "marketing.campaigns.leads.email": "pii",
    "marketing.campaigns.leads.phone": "pii",
    "finance.hr.salaries.full_name": "pii",
    "finance.hr.salaries.salary": "confidential",
}
EU_ONLY = "region = principal_attribute('region')"
SELECT = frozenset({Permission.SELECT})


def apply_governance(hub: Hub, steward_actor: Actor) -> None:
    """Tag the demo catalog and grant the personas their access (one transaction)."""
    with hub.transaction() as session:
        _tags(session, steward_actor)
        masks.create_mask(
            session,
            actor=steward_actor,
            name="pii_redact",
            tag_expression="sensitivity=pii",
            function="redact",
        )
        filters.create_filter(
            session, actor=steward_actor, name="eu_only", table="sales.crm.orders", rows=EU_ONLY
        )
        _grants(session, steward_actor)
        guardrails.create_guardrail(
            session,
            actor=steward_actor,
            name="pii-only-named",
            kind=guardrail_rules.SENSITIVE_SCOPE,
            on_tags="sensitivity=pii",
        )
        guardrails.create_guardrail(
            session,
            actor=steward_actor,
            name="tagged-before-sharing",
            kind=guardrail_rules.REQUIRED_TAGS,
            keys=["sensitivity", "owner"],
        )


def _tags(session: Session, steward: Actor) -> None:
    tags.create_tag(
        session,
        actor=steward,
        key="sensitivity",
        values=SENSITIVITY,
        description="How carefully the data must be handled.",
    )
    tags.create_tag(
        session,
        actor=steward,
        key="owner",
        values=PRODUCER_DOMAINS + CONSUMER_DOMAINS,
        description="The domain answerable for the data.",
    )
    for database in databases.list_databases(session):
        name = f"{database.domain.name}.{database.name}"
        level = DATABASE_SENSITIVITY.get(name, "internal")
        tag_assignments.assign_tags(
            session,
            actor=steward,
            resource=name,
            tags={"sensitivity": level, "owner": database.domain.name},
        )
    for table in tables.list_tables(session):
        name = str(tables.table_name(table))
        inherited = DATABASE_SENSITIVITY.get(name.rsplit(".", 1)[0], "internal")
        level = TABLE_SENSITIVITY.get(name, inherited)
        tag_assignments.assign_tags(
            session,
            actor=steward,
            resource=name,
            tags={"sensitivity": level, "owner": table.database.domain.name},
        )
    for column, level in COLUMN_SENSITIVITY.items():
        tag_assignments.assign_tags(
            session, actor=steward, resource=column, tags={"sensitivity": level}
        )


def _grants(session: Session, steward: Actor) -> None:
    for grantee, request in (
        (
            "group:analysts@marketing",
            GrantRequest(permissions=SELECT, on_tags="sensitivity=public|internal"),
        ),
        ("group:analysts@finance", GrantRequest(permissions=SELECT, on="finance.ledger")),
        (
            "group:regional_managers@sales",
            GrantRequest(permissions=SELECT, on="sales.crm.orders", filter="eu_only"),
        ),
    ):
        grants.grant(session, actor=steward, grantee=grantee, request=request)
