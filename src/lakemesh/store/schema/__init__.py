"""SQLAlchemy models of the hub's state, one module per topic. Migrations under
``store/migrations`` create these tables.

Rows here are storage records, kept apart from the API's schemas (STYLE: schema families).
"""

from __future__ import annotations

from lakemesh.store.schema.audit import AuditEvent, AuditHead
from lakemesh.store.schema.base import Base
from lakemesh.store.schema.catalog import (
    Column,
    Database,
    Location,
    SchemaProposal,
    SchemaVersion,
    Table,
    TableSnapshot,
)
from lakemesh.store.schema.governance import (
    DataFilterRow,
    Grant,
    Guardrail,
    MaskRule,
    PolicyChangeRow,
    PolicyVersion,
    Setting,
    TagAssignment,
    TagKey,
    TagValue,
)
from lakemesh.store.schema.identity import (
    ApiToken,
    AttributeDelegate,
    AttributeKey,
    Domain,
    DomainAdmin,
    GroupMember,
    PortalSession,
    Principal,
)
from lakemesh.store.schema.lineage import LineageEdge
from lakemesh.store.schema.notifications import (
    Notification,
    Webhook,
    WebhookDelivery,
    WebhookSecret,
)
from lakemesh.store.schema.quality import QualityResult, QualityRun
from lakemesh.store.schema.queries import QueryRecord, Workgroup
from lakemesh.store.schema.scheduling import Schedule, ScheduledRun
from lakemesh.store.schema.sharing import (
    DataProduct,
    DataProductTable,
    ProductVersion,
    ResourceLink,
    Share,
    Subscription,
    SubscriptionEvent,
    SubscriptionGrant,
)

# Ids are never reused: SQLite would hand out a deleted newest row's id again without
# AUTOINCREMENT (migration 0010); PostgreSQL sequences never go back.
for _table in Base.metadata.tables.values():
    if [column.name for column in _table.primary_key.columns] == ["id"]:
        _table.dialect_options["sqlite"]["autoincrement"] = True

__all__ = [
    "ApiToken",
    "AttributeDelegate",
    "AttributeKey",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Column",
    "DataFilterRow",
    "DataProduct",
    "DataProductTable",
    "Database",
    "Domain",
    "DomainAdmin",
    "Grant",
    "GroupMember",
    "Guardrail",
    "LineageEdge",
    "Location",
    "MaskRule",
    "Notification",
    "PolicyChangeRow",
    "PolicyVersion",
    "PortalSession",
    "Principal",
    "ProductVersion",
    "QualityResult",
    "QualityRun",
    "QueryRecord",
    "ResourceLink",
    "Schedule",
    "ScheduledRun",
    "SchemaProposal",
    "SchemaVersion",
    "Setting",
    "Share",
    "Subscription",
    "SubscriptionEvent",
    "SubscriptionGrant",
    "Table",
    "TableSnapshot",
    "TagAssignment",
    "TagKey",
    "TagValue",
    "Webhook",
    "WebhookDelivery",
    "WebhookSecret",
    "Workgroup",
]
