"""The mesh files as pydantic models: what ``lakemesh export`` writes and ``plan``/``apply`` read.

An export is a folder per domain plus ``governance/``::

    governance/mesh.yaml      settings, tags, attribute keys, masks, guardrails, workgroups
    <domain>/domain.yaml      the domain, its admins, principals, groups and locations
    <domain>/catalog.yaml     databases and tables (schema, format, properties) with their tags
    <domain>/access.yaml      data filters and grants on the domain's objects, answers to the
                              shares it received, and its resource links
    <domain>/products.yaml    its data products and its principals' subscriptions

Unknown fields are refused (a typo is an error naming the field, not a silently ignored line).
No model holds a secret: a token of the files names its secret (``secret_env: NAME``), whose
value comes from the environment or a secrets file when the files are planned or applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakemesh.model.integers import MAX_STORED_INTEGER
from lakemesh.query.workgroups import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_CONCURRENT_PER_PRINCIPAL,
    DEFAULT_MAX_RESULT_BYTES,
    DEFAULT_MAX_ROWS,
    DEFAULT_MEMORY_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
)

FORMAT_VERSION = 1

StoredInteger = Annotated[int, Field(le=MAX_STORED_INTEGER)]
"""A number of the files the store keeps (a workgroup's limit, whose service checks that it is
positive; a format version): a larger one is refused, never overflowed."""


class Spec(BaseModel):
    """Base of every file model: unknown fields are refused, fields keep their declared order."""

    model_config = ConfigDict(extra="forbid")


# -- governance/mesh.yaml ---------------------------------------------------------------------


class TagSpec(Spec):
    """An LF-Tag key with its allowed values."""

    key: str
    values: list[str]
    description: str = ""


class AttributeSpec(Spec):
    """A principal attribute key, its allowed values and who may set it besides mesh admins."""

    key: str
    values: list[str] = Field(default_factory=list)
    description: str = ""
    delegates: list[str] = Field(default_factory=list)


class MaskSpec(Spec):
    """A masking function on the columns a tag expression matches."""

    name: str
    on_tags: str
    function: str


class GuardrailSpec(Spec):
    """An organisation policy; each kind takes its one option."""

    name: str
    kind: str
    keys: list[str] | None = None
    on_tags: str | None = None
    prefixes: list[str] | None = None
    max_lifetime: str | None = None


class WorkgroupSpec(Spec):
    """Where queries run and the limits they obey (a limit left out has its default; ``null``
    lifts it)."""

    name: str
    engine: str = "duckdb"
    description: str = ""
    max_bytes_per_query: StoredInteger | None = None
    max_bytes_per_month: StoredInteger | None = None
    max_concurrent: StoredInteger | None = DEFAULT_MAX_CONCURRENT
    max_concurrent_per_principal: StoredInteger | None = DEFAULT_MAX_CONCURRENT_PER_PRINCIPAL
    timeout_seconds: StoredInteger | None = DEFAULT_TIMEOUT_SECONDS
    max_memory_bytes: StoredInteger = DEFAULT_MEMORY_BYTES
    max_rows: StoredInteger | None = DEFAULT_MAX_ROWS
    max_result_bytes: StoredInteger | None = DEFAULT_MAX_RESULT_BYTES
    result_retention: str = "7d"
    spark_remote: str | None = None
    """The Spark Connect address without its token (``sc://host:port/``)."""
    spark_token_env: str | None = Field(
        default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200
    )
    """The name of the secret that is the address's ``token`` (as a token's ``secret_env``)."""


class MeshFile(Spec):
    """``governance/mesh.yaml``: what holds for the whole mesh."""

    lakemesh_mesh: StoredInteger = FORMAT_VERSION
    settings: dict[str, Any] = Field(default_factory=dict)
    tags: list[TagSpec] = Field(default_factory=list)
    attributes: list[AttributeSpec] = Field(default_factory=list)
    masks: list[MaskSpec] = Field(default_factory=list)
    guardrails: list[GuardrailSpec] = Field(default_factory=list)
    workgroups: list[WorkgroupSpec] = Field(default_factory=list)


# -- <domain>/domain.yaml ---------------------------------------------------------------------


class TokenSpec(Spec):
    """An API token of a user or service, made from a secret the files name but never hold: the
    value is the environment variable ``secret_env`` of the ``lakemesh plan``/``apply`` command,
    or the line ``NAME=value`` of its ``--secrets`` file. The hub keeps only its hash."""

    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)
    description: str = ""
    expires_at: datetime | None = None


class PrincipalSpec(Spec):
    """A user, service or group of the domain; groups list their members (of any domain), users
    and services may list tokens made from named secrets."""

    name: str
    attributes: dict[str, str] = Field(default_factory=dict)
    members: list[str] = Field(default_factory=list)
    tokens: list[TokenSpec] = Field(default_factory=list)


class DomainFile(Spec):
    """``<domain>/domain.yaml``: the domain itself."""

    lakemesh_mesh: StoredInteger = FORMAT_VERSION
    name: str
    producer: bool = False
    consumer: bool = False
    description: str = ""
    schema_changes: Literal["hold", "violate"] = Field(
        default="hold",
        description="A crawl's breaking change to a contracted product's table: hold (keep "
        "serving the contracted schema) or violate (serve it, the product goes to "
        "contract_violated), until the domain's admins accept or reject it",
    )
    check_schedule: str = Field(
        default="",
        description="The default check schedule, a cron expression (UTC) a product's check "
        "schedule takes when its contract gives none",
    )
    admins: list[str] = Field(default_factory=list)
    principals: list[PrincipalSpec] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)


# -- <domain>/catalog.yaml --------------------------------------------------------------------


class ColumnSpec(Spec):
    """A column of a table's current schema, with its own tags."""

    name: str
    type: str
    partition: bool = False
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


class TableSpec(Spec):
    """A table: its files' location and format, schema and properties (no crawled partitions)."""

    name: str
    location: str
    format: str
    description: str = ""
    properties: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    columns: list[ColumnSpec]


class DatabaseSpec(Spec):
    """A database of the domain's catalog and its tables."""

    name: str
    description: str = ""
    location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    tables: list[TableSpec] = Field(default_factory=list)


class CatalogFile(Spec):
    """``<domain>/catalog.yaml``: the domain's catalog."""

    lakemesh_mesh: StoredInteger = FORMAT_VERSION
    databases: list[DatabaseSpec] = Field(default_factory=list)


# -- <domain>/access.yaml ---------------------------------------------------------------------


class FilterSpec(Spec):
    """A data cells filter on one table: a row predicate and a column list."""

    name: str
    table: str
    rows: str | None = None
    columns: list[str] | None = None
    exclude_columns: list[str] = Field(default_factory=list)


class GrantTargetSpec(Spec):
    """What a grant is on: exactly one of ``on``, ``on_tags``, ``location``, ``tag_values``."""

    on: str | None = None
    columns: list[str] | None = None
    exclude_columns: list[str] = Field(default_factory=list)
    filter: str | None = None
    on_tags: str | None = None
    tag_resource_type: Literal["table", "database"] = "table"
    tag_scope: str | None = None
    """With ``on_tags``: only the objects inside this domain or database."""
    location: str | None = None
    tag_values: str | None = None


class GrantRefSpec(GrantTargetSpec):
    """Names another grant: its grantee and target (``derived_from`` of a delegated grant)."""

    to: str
    with_grant_option: bool = False


class GrantSpec(GrantTargetSpec):
    """Permissions to a principal on one target, optionally with grant option, optionally
    derived from another grant (revoking that one revokes this one)."""

    to: str
    permissions: list[str]
    with_grant_option: bool = False
    derived_from: GrantRefSpec | None = None


class ShareAnswerSpec(GrantTargetSpec):
    """This domain's answer to a share it received (a grant to ``domain:<this domain>``)."""

    with_grant_option: bool = False
    status: Literal["accepted", "declined"]


class LinkSpec(Spec):
    """A resource link in this domain's catalog standing for a shared database or table."""

    name: str
    target: str


class AccessFile(Spec):
    """``<domain>/access.yaml``: filters and grants on the domain's objects, its share answers and
    its resource links."""

    lakemesh_mesh: StoredInteger = FORMAT_VERSION
    filters: list[FilterSpec] = Field(default_factory=list)
    grants: list[GrantSpec] = Field(default_factory=list)
    shares: list[ShareAnswerSpec] = Field(default_factory=list)
    links: list[LinkSpec] = Field(default_factory=list)


# -- <domain>/products.yaml -------------------------------------------------------------------


class ProductSpec(Spec):
    """A data product: its tables, owner, tags, version, status, contract and auto-approval."""

    name: str
    title: str
    description: str = ""
    owner: str
    tags: dict[str, str] = Field(default_factory=dict)
    version: str
    status: Literal["draft", "published", "deprecated"] = "published"
    deprecation_message: str | None = None
    tables: list[str]
    contract: dict[str, Any] | None = None
    auto_approve: str | None = None


class SubscriptionSpec(Spec):
    """A principal's request for a data product, and the producer's answer."""

    product: str
    principal: str
    reason: str
    columns: list[str] | None = None
    exclude_columns: list[str] = Field(default_factory=list)
    filter: str | None = None
    status: Literal["pending", "approved", "rejected", "revoked"] = "pending"
    comment: str | None = None


class ProductsFile(Spec):
    """``<domain>/products.yaml``: the domain's products and its principals' subscriptions."""

    lakemesh_mesh: StoredInteger = FORMAT_VERSION
    products: list[ProductSpec] = Field(default_factory=list)
    subscriptions: list[SubscriptionSpec] = Field(default_factory=list)


# -- the whole folder -------------------------------------------------------------------------


class DomainFolder(Spec):
    """One domain's folder; the files it lacks are empty (``domain.yaml`` is required)."""

    domain: DomainFile
    catalog: CatalogFile = Field(default_factory=CatalogFile)
    access: AccessFile = Field(default_factory=AccessFile)
    products: ProductsFile = Field(default_factory=ProductsFile)


class MeshFiles(Spec):
    """The mesh as files: ``governance/mesh.yaml`` (``mesh``, absent in a partial folder) and
    the domain folders given."""

    mesh: MeshFile | None = None
    domains: list[DomainFolder] = Field(default_factory=list)

    def folder(self, name: str) -> DomainFolder | None:
        """The folder of domain ``name``, if the files hold it."""
        return next((f for f in self.domains if f.domain.name == name), None)


FILE_MODELS: dict[str, type[Spec]] = {
    "mesh.yaml": MeshFile,
    "domain.yaml": DomainFile,
    "catalog.yaml": CatalogFile,
    "access.yaml": AccessFile,
    "products.yaml": ProductsFile,
}
"""Every file a domain folder (or ``governance/``) may hold, and its model."""
