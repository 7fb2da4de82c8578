"""The inputs of a decision: who asks, what grants and masks exist, mesh settings (DESIGN §4).

Plain frozen dataclasses, so the store can load them from any backend and tests can write them
inline. Column lists are matched case-insensitively against the table's columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from lakemesh.errors import InvalidInputError
from lakemesh.model.access import MASK_FUNCTIONS
from lakemesh.model.names import PrincipalName, ResourceName
from lakemesh.model.permissions import APPLICABLE, Permission, expand
from lakemesh.policy.tag_expressions import TagExpression

Discovery = Literal["published", "granted"]


@dataclass(frozen=True)
class PolicySettings:
    """Mesh-wide settings the decision reads; ``discovery="published"`` lets everyone DESCRIBE
    the tables of published data products."""

    discovery: Discovery = "published"


@dataclass(frozen=True)
class Subject:
    """The principal a decision is for, with what the store knows about it.

    ``groups`` must already be transitive (every group reached through nested memberships);
    ``admin_of_domains`` lists the domains the principal administers, which also makes grants to
    ``domain:X`` reach it. ``attributes`` feed ``principal_attribute('name')`` in row filters.
    """

    principal: PrincipalName
    groups: frozenset[PrincipalName] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)
    is_mesh_admin: bool = False
    admin_of_domains: frozenset[str] = frozenset()

    @cached_property
    def grantees(self) -> frozenset[PrincipalName]:
        """Every grantee whose grants reach this principal: itself, its groups, its domains."""
        domains = {PrincipalName("domain", domain, domain) for domain in self.admin_of_domains}
        return frozenset({self.principal, *self.groups, *domains})

    def via(self, grantee: PrincipalName) -> str:
        """How a grant to ``grantee`` reaches this principal, for reasons."""
        if grantee.kind == "domain" and grantee != self.principal:
            return f"{grantee} (reaching its admins)"
        return str(grantee)


@dataclass(frozen=True)
class PrincipalFacts:
    """What the store knows about a principal, for :class:`lakemesh.policy.index.PolicyIndex`.

    Roles held by a group (``is_mesh_admin``, ``admin_of_domains``) pass to its members.
    """

    name: PrincipalName
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)
    is_mesh_admin: bool = False
    admin_of_domains: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Location:
    """A registered storage location (a resource of DATA_LOCATION_ACCESS), owned by a domain."""

    uri: str
    domain: str

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class TagValue:
    """One value of a tag key (a resource of ASSOCIATE and DESCRIBE)."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"tag {self.key}={self.value}"


Resource = ResourceName | Location | TagValue


def _lower(columns: frozenset[str] | None) -> frozenset[str] | None:
    return None if columns is None else frozenset(column.lower() for column in columns)


@dataclass(frozen=True)
class ColumnChoice:
    """A column include list (``columns``) or exclude list (``excluded_columns``); both empty
    means every column."""

    columns: frozenset[str] | None = None
    excluded_columns: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.columns is not None and self.excluded_columns:
            raise InvalidInputError(
                "Give a column include list or an exclude list, not both",
                details={
                    "columns": sorted(self.columns),
                    "excluded": sorted(self.excluded_columns),
                },
            )
        if self.columns is not None and not self.columns:
            raise InvalidInputError("A column include list may not be empty")

    @property
    def restricted(self) -> bool:
        return self.columns is not None or bool(self.excluded_columns)

    def pick(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        """The chosen columns among ``columns``, in their order."""
        if self.columns is not None:
            wanted = _lower(self.columns) or frozenset()
            return tuple(column for column in columns if column.lower() in wanted)
        if self.excluded_columns:
            unwanted = _lower(self.excluded_columns) or frozenset()
            return tuple(column for column in columns if column.lower() not in unwanted)
        return columns

    def describe(self) -> str:
        if self.columns is not None:
            return f" (columns {', '.join(sorted(self.columns))})"
        if self.excluded_columns:
            return f" (excluding columns {', '.join(sorted(self.excluded_columns))})"
        return ""


@dataclass(frozen=True)
class ResourceTarget:
    """A named catalog object; a column-level name or a column choice restricts the columns."""

    resource: ResourceName
    choice: ColumnChoice = ColumnChoice()

    def __post_init__(self) -> None:
        if self.choice.restricted and self.resource.level != "table":
            raise InvalidInputError(
                f"Column lists apply to tables only, not to {self.resource.level} {self.resource}"
            )

    def __str__(self) -> str:
        return f"{self.resource}{self.choice.describe()}"


@dataclass(frozen=True)
class TagTarget:
    """Every table (and column) or every database whose effective tags satisfy ``expression``.

    ``scope`` keeps the grant inside one domain or database (a domain admin's tag grant).
    """

    expression: TagExpression
    resource_type: Literal["table", "database"] = "table"
    scope: ResourceName | None = None

    def __str__(self) -> str:
        kind = "tag expression" if self.resource_type == "table" else "databases with tags"
        within = f" within {self.scope}" if self.scope is not None else ""
        return f"{kind} {self.expression}{within}"


@dataclass(frozen=True)
class DataFilter:
    """A data cells filter: rows where ``predicate`` holds (every row when None), chosen columns.

    ``predicate`` should be the text :func:`lakemesh.policy.predicates.validate_predicate`
    returned when the filter was created.
    """

    name: str
    table: ResourceName
    predicate: str | None = None
    choice: ColumnChoice = ColumnChoice()

    def __post_init__(self) -> None:
        if self.table.level != "table":
            raise InvalidInputError(f"A data filter applies to a table, not to {self.table}")


@dataclass(frozen=True)
class FilterTarget:
    """SELECT through a data filter (the only permission a filter can carry)."""

    data_filter: DataFilter

    def __str__(self) -> str:
        return f"{self.data_filter.table} through filter {self.data_filter.name}"


@dataclass(frozen=True)
class LocationTarget:
    """A storage location and everything under it; ``owner`` is the domain that registered it."""

    uri: str
    owner: str | None = None

    def __str__(self) -> str:
        return f"location {self.uri}"


@dataclass(frozen=True)
class TagValuesTarget:
    """Values of one tag key (every value when ``values`` is None), for delegated ASSOCIATE."""

    key: str
    values: frozenset[str] | None = None

    def __str__(self) -> str:
        shown = "*" if self.values is None else "|".join(sorted(self.values))
        return f"tag {self.key}={shown}"


GrantTarget = ResourceTarget | TagTarget | FilterTarget | LocationTarget | TagValuesTarget


@dataclass(frozen=True)
class GrantRule:
    """One grant: ``permissions`` on ``target`` to ``grantee``, maybe with grant option."""

    id: int
    grantee: PrincipalName
    permissions: frozenset[Permission]
    target: GrantTarget
    with_grant_option: bool = False

    def __post_init__(self) -> None:
        if not self.permissions:
            raise InvalidInputError(f"Grant #{self.id} gives no permission")

    def describe(self) -> str:
        """``grant #12 SELECT on tag expression sensitivity=public``."""
        return self._description

    @cached_property
    def _description(self) -> str:
        permissions = ", ".join(sorted(self.permissions))
        option = " with grant option" if self.with_grant_option else ""
        return f"grant #{self.id} {permissions} on {self.target}{option}"

    @cached_property
    def table_permissions(self) -> frozenset[Permission]:
        """``permissions_on("table")``, read on every table decision."""
        return self.permissions_on("table")

    def permissions_on(self, level: str) -> frozenset[Permission]:
        """The permissions this grant gives on an object of type ``level`` (``ALL`` expanded).

        A data filter gives SELECT only; a grant restricted to columns gives column permissions
        only (SELECT, UNMASK) whatever the level.
        """
        return self._by_level.get(level, frozenset())

    @cached_property
    def _by_level(self) -> dict[str, frozenset[Permission]]:
        target = self.target
        column_permissions = expand(self.permissions, "column") & APPLICABLE["column"]
        if isinstance(target, FilterTarget):
            only_select = column_permissions & {Permission.SELECT}
            return dict.fromkeys(APPLICABLE, frozenset(only_select))
        if isinstance(target, ResourceTarget) and (
            target.choice.restricted or target.resource.level == "column"
        ):
            return dict.fromkeys(APPLICABLE, column_permissions)
        return {level: expand(self.permissions, level) & APPLICABLE[level] for level in APPLICABLE}


@dataclass(frozen=True)
class MaskRule:
    """Mask columns whose effective tags satisfy ``expression`` with ``function``."""

    name: str
    expression: TagExpression
    function: str

    def __post_init__(self) -> None:
        if self.function not in MASK_FUNCTIONS:
            raise InvalidInputError(
                f"Unknown mask function: {self.function!r} (known: {', '.join(MASK_FUNCTIONS)})",
                details={"function": self.function},
            )


MASK_STRENGTH = {"null": 0, "redact": 1, "hash": 2, "last4": 3, "email_domain": 4}
"""When several masks match one column the one that hides most wins (lowest number)."""
