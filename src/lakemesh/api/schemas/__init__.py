"""The API's request and response models, one module per resource (``...Create`` /
``...Update`` requests, ``...Public`` responses), kept apart from store rows.

Request bodies refuse unknown fields and coerce nothing; responses document the fields the hub
promises, and every route declares its response model, so the OpenAPI document (not prose)
describes every shape.
"""

from __future__ import annotations

from lakemesh.api.schemas.attributes import (
    AttributeDelegation,
    AttributeKeyCreate,
    AttributeKeyPublic,
    AttributeKeyUpdate,
)
from lakemesh.api.schemas.audit import AuditEvent, AuditVerification
from lakemesh.api.schemas.base import (
    MAX_STORED_INTEGER,
    Count,
    RequestBody,
    ResponseModel,
    Timestamp,
)
from lakemesh.api.schemas.crawls import CrawlCreate, CrawledTable, CrawlResult
from lakemesh.api.schemas.databases import DatabaseCreate, DatabasePublic, DatabaseUpdate
from lakemesh.api.schemas.domains import (
    DomainAdminCreate,
    DomainCreate,
    DomainPublic,
    DomainUpdate,
)
from lakemesh.api.schemas.filters import (
    FilterCreate,
    FilterDeletion,
    FilterPublic,
    FilterUpdate,
)
from lakemesh.api.schemas.grants import DecisionPublic, GrantCreate, GrantPublic, Revoked
from lakemesh.api.schemas.guardrails import (
    Diagnosis,
    GuardrailCreate,
    GuardrailPublic,
    GuardrailUpdate,
)
from lakemesh.api.schemas.locations import LocationCreate, LocationPublic
from lakemesh.api.schemas.masks import MaskCreate, MaskPublic
from lakemesh.api.schemas.principals import (
    GroupMemberCreate,
    Health,
    PrincipalCreate,
    PrincipalPublic,
    PrincipalUpdate,
    WhoAmI,
)
from lakemesh.api.schemas.queries import (
    Format,
    JobCreate,
    JobStatus,
    JobSubmitted,
    QueryCreate,
    QueryError,
    QueryPublic,
    QueryResult,
)
from lakemesh.api.schemas.settings import Settings, SettingUpdate
from lakemesh.api.schemas.sharing import (
    ConsumerOnboarding,
    LinkCreate,
    LinkPublic,
    OnboardingPublic,
    ProducerOnboarding,
    ProductDeprecate,
    ProductFacets,
    ProductPublic,
    ProductPublish,
    SharePublic,
    SubscriptionApprove,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionReject,
    SubscriptionRevoke,
)
from lakemesh.api.schemas.tables import (
    ColumnCreate,
    SchemaVersionPublic,
    TableChanged,
    TableCreate,
    TablePublic,
    TableUpdate,
)
from lakemesh.api.schemas.tags import (
    ResourceTags,
    TableMatch,
    TagAssign,
    TagAssignment,
    TagCreate,
    TagPublic,
    TagUpdate,
)
from lakemesh.api.schemas.tokens import TokenCreate, TokenIssued, TokenPublic
from lakemesh.api.schemas.workgroups import (
    WorkgroupCreate,
    WorkgroupPublic,
    WorkgroupUpdate,
    WorkgroupUsagePublic,
)

__all__ = [
    "MAX_STORED_INTEGER",
    "AttributeDelegation",
    "AttributeKeyCreate",
    "AttributeKeyPublic",
    "AttributeKeyUpdate",
    "AuditEvent",
    "AuditVerification",
    "ColumnCreate",
    "ConsumerOnboarding",
    "Count",
    "CrawlCreate",
    "CrawlResult",
    "CrawledTable",
    "DatabaseCreate",
    "DatabasePublic",
    "DatabaseUpdate",
    "DecisionPublic",
    "Diagnosis",
    "DomainAdminCreate",
    "DomainCreate",
    "DomainPublic",
    "DomainUpdate",
    "FilterCreate",
    "FilterDeletion",
    "FilterPublic",
    "FilterUpdate",
    "Format",
    "GrantCreate",
    "GrantPublic",
    "GroupMemberCreate",
    "GuardrailCreate",
    "GuardrailPublic",
    "GuardrailUpdate",
    "Health",
    "JobCreate",
    "JobStatus",
    "JobSubmitted",
    "LinkCreate",
    "LinkPublic",
    "LocationCreate",
    "LocationPublic",
    "MaskCreate",
    "MaskPublic",
    "OnboardingPublic",
    "PrincipalCreate",
    "PrincipalPublic",
    "PrincipalUpdate",
    "ProducerOnboarding",
    "ProductDeprecate",
    "ProductFacets",
    "ProductPublic",
    "ProductPublish",
    "QueryCreate",
    "QueryError",
    "QueryPublic",
    "QueryResult",
    "RequestBody",
    "ResourceTags",
    "ResponseModel",
    "Revoked",
    "SchemaVersionPublic",
    "SettingUpdate",
    "Settings",
    "SharePublic",
    "SubscriptionApprove",
    "SubscriptionCreate",
    "SubscriptionPublic",
    "SubscriptionReject",
    "SubscriptionRevoke",
    "TableChanged",
    "TableCreate",
    "TableMatch",
    "TablePublic",
    "TableUpdate",
    "TagAssign",
    "TagAssignment",
    "TagCreate",
    "TagPublic",
    "TagUpdate",
    "Timestamp",
    "TokenCreate",
    "TokenIssued",
    "TokenPublic",
    "WhoAmI",
    "WorkgroupCreate",
    "WorkgroupPublic",
    "WorkgroupUpdate",
    "WorkgroupUsagePublic",
]
