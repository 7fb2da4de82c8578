"""Data factories for the policy tests: one small mesh, and short builders for grants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from random import Random

from lakemesh.model.access import CellPair
from lakemesh.model.names import PrincipalName, ResourceName, parse_principal, parse_resource
from lakemesh.model.permissions import Permission, parse_permissions
from lakemesh.policy import (
    CatalogTable,
    ColumnChoice,
    DataFilter,
    Decision,
    FilterTarget,
    GrantRule,
    GrantTarget,
    Location,
    MaskRule,
    PolicySettings,
    Resource,
    ResourceTarget,
    Subject,
    TableFacts,
    TagAssignment,
    TagTarget,
    TagValue,
    decide,
    parse_tag_expression,
)
from lakemesh.policy.predicates import validate_predicate

CUSTOMERS = parse_resource("sales.crm.customers")
ORDERS = parse_resource("sales.crm.orders")
CAMPAIGNS = parse_resource("marketing.web.campaigns")
CUSTOMER_COLUMNS = ("id", "name", "email", "region", "ssn")

# Effective tags as the store would compute them: database sales.crm is internal,
# customers.email is pii, customers.ssn is secret; orders override the table to public.
CRM_TAGS = {"sensitivity": "internal", "domain": "sales"}


def customers(*, published: bool = False, **column_tags: Mapping[str, str]) -> TableFacts:
    """``sales.crm.customers`` with email pii and ssn secret (override with keyword args)."""
    own: dict[str, Mapping[str, str]] = {
        "email": {"sensitivity": "pii", "pii_type": "email"},
        "ssn": {"sensitivity": "secret"},
    }
    own.update(column_tags)
    return TableFacts.build(
        name=CUSTOMERS,
        columns=CUSTOMER_COLUMNS,
        database_tags=CRM_TAGS,
        column_tags=own,
        published=published,
    )


def orders(*, published: bool = False) -> TableFacts:
    return TableFacts.build(
        name=ORDERS,
        columns=("order_id", "customer_id", "amount", "region"),
        database_tags=CRM_TAGS,
        table_tags={"sensitivity": "public"},
        published=published,
    )


def campaigns() -> TableFacts:
    return TableFacts.build(
        name=CAMPAIGNS,
        columns=("campaign", "budget"),
        database_tags={"domain": "marketing"},
        table_tags={"sensitivity": "public"},
    )


def who(
    text: str,
    *,
    groups: tuple[str, ...] = (),
    attributes: Mapping[str, str] | None = None,
    mesh_admin: bool = False,
    admin_of: tuple[str, ...] = (),
) -> Subject:
    """A subject from text: ``who("user:bob@marketing", groups=("group:analysts@marketing",))``."""
    return Subject(
        parse_principal(text),
        frozenset(parse_principal(group) for group in groups),
        dict(attributes or {}),
        mesh_admin,
        frozenset(admin_of),
    )


def grant(
    number: int,
    grantee: str,
    permissions: str,
    target: GrantTarget,
    *,
    with_grant_option: bool = False,
) -> GrantRule:
    return GrantRule(
        number,
        parse_principal(grantee),
        parse_permissions(permissions),
        target,
        with_grant_option,
    )


def on(
    resource: str, *, columns: tuple[str, ...] | None = None, excluding: tuple[str, ...] = ()
) -> ResourceTarget:
    """A named target: ``on("sales.crm.customers", columns=("id", "name"))``."""
    choice = ColumnChoice(None if columns is None else frozenset(columns), frozenset(excluding))
    return ResourceTarget(parse_resource(resource), choice)


def on_tags(expression: str, *, databases: bool = False, scope: str | None = None) -> TagTarget:
    return TagTarget(
        parse_tag_expression(expression),
        "database" if databases else "table",
        None if scope is None else parse_resource(scope),
    )


def through_filter(
    name: str,
    predicate: str | None,
    *,
    table: TableFacts | None = None,
    columns: tuple[str, ...] | None = None,
    excluding: tuple[str, ...] = (),
) -> FilterTarget:
    """A filter target on ``table`` (customers by default), its predicate validated."""
    facts = table or customers()
    checked = None if predicate is None else validate_predicate(predicate, columns=facts.columns)
    choice = ColumnChoice(None if columns is None else frozenset(columns), frozenset(excluding))
    return FilterTarget(DataFilter(name, facts.name, checked, choice))


def mask(name: str, expression: str, function: str) -> MaskRule:
    return MaskRule(name, parse_tag_expression(expression), function)


def principal(text: str) -> PrincipalName:
    return parse_principal(text)


def resource(text: str) -> ResourceName:
    return parse_resource(text)


SELECT = Permission.SELECT


# -- a random mesh, for checking the index against the plain decision function -----------------

RANDOM_VALUES = {
    "sensitivity": ("public", "internal", "pii"),
    "domain": ("sales", "hr"),
    "tier": ("1", "2", "3"),
}
RANDOM_DOMAINS = ("sales", "hr", "ops")
RANDOM_PRINCIPALS = tuple(
    parse_principal(text)
    for text in (
        "user:u1@sales",
        "user:u2@hr",
        "user:u3@ops",
        "user:u4@sales",
        "group:g1@sales",
        "group:g2@hr",
        "domain:hr",
    )
)


@dataclass
class RandomMesh:
    """Tables with tags at every level, and grants of every kind, from one seed."""

    tables: list[CatalogTable]
    tags: list[TagAssignment]
    grants: list[GrantRule]
    rng: Random

    def facts(self, table: CatalogTable) -> TableFacts:
        """Facts computed independently of the index, from the raw assignments."""
        by_level: dict[ResourceName, dict[str, str]] = {}
        for assignment in self.tags:
            by_level.setdefault(assignment.resource, {})[assignment.key] = assignment.value
        name = table.name
        return TableFacts.build(
            name=name,
            columns=table.columns,
            database_tags=by_level.get(ResourceName(name.domain, name.database)),
            table_tags=by_level.get(name),
            column_tags={
                column: by_level.get(
                    ResourceName(name.domain, name.database, name.table, column), {}
                )
                for column in table.columns
            },
            published=table.published,
        )

    def database_tags(self, database: ResourceName) -> dict[str, str]:
        found: dict[str, str] = {}
        for assignment in self.tags:
            if assignment.resource == database:
                found[assignment.key] = assignment.value
        return found


def random_expression(rng: Random, depth: int = 0) -> str:
    draw = rng.random()
    if depth >= 2 or draw < 0.5:
        key = rng.choice(list(RANDOM_VALUES))
        values = "|".join(rng.sample(RANDOM_VALUES[key], rng.randint(1, 2)))
        return f"{key}{rng.choice(['=', '=', '!='])}{values}"
    if draw < 0.65:
        return f"NOT ({random_expression(rng, depth + 1)})"
    joiner = rng.choice([" AND ", " OR "])
    return f"({random_expression(rng, depth + 1)}{joiner}{random_expression(rng, depth + 1)})"


def random_tags(rng: Random, resource: ResourceName, chance: float) -> list[TagAssignment]:
    return [
        TagAssignment(resource, key, rng.choice(values))
        for key, values in RANDOM_VALUES.items()
        if rng.random() < chance
    ]


def random_mesh(seed: int, *, tables: int = 40, grants: int = 60) -> RandomMesh:
    rng = Random(seed)
    catalog: list[CatalogTable] = []
    tags: list[TagAssignment] = []
    for domain in RANDOM_DOMAINS:
        for database in ("a", "b"):
            tags += random_tags(rng, ResourceName(domain, database), 0.6)
    for number in range(tables):
        name = ResourceName(rng.choice(RANDOM_DOMAINS), rng.choice(["a", "b"]), f"t{number}")
        columns = tuple(f"c{index}" for index in range(rng.choice([0, 1, 2, 3, 3, 4])))
        catalog.append(CatalogTable(name, columns, published=rng.random() < 0.2))
        tags += random_tags(rng, name, 0.4)
        for column in columns:
            tags += random_tags(
                rng, ResourceName(name.domain, name.database, name.table, column), 0.3
            )
    rules = [random_grant(rng, number, catalog) for number in range(1, grants + 1)]
    return RandomMesh(catalog, tags, rules, rng)


def random_grant(rng: Random, number: int, catalog: list[CatalogTable]) -> GrantRule:
    permissions = rng.choice(
        ["SELECT", "SELECT", "SELECT, UNMASK", "ALL", "DESCRIBE", "INSERT", "UNMASK"]
    )
    table = rng.choice(catalog)
    columns = table.columns or ("c0",)
    draw = rng.random()
    target: GrantTarget
    if draw < 0.45:
        scope = rng.choice([None, None, None, rng.choice(RANDOM_DOMAINS), f"{table.name.domain}.a"])
        target = on_tags(random_expression(rng), scope=scope)
    elif draw < 0.55:
        target = on(rng.choice([table.name.domain, f"{table.name.domain}.{table.name.database}"]))
    elif draw < 0.7:
        target = on(
            str(table.name), columns=tuple(rng.sample(columns, 1)) if rng.random() < 0.5 else None
        )
    elif draw < 0.8:
        target = on(str(table.name), excluding=tuple(rng.sample(columns, 1)))
    else:
        first = columns[0]
        predicate = rng.choice([None, f"{first} = 'x'", f"{first} = principal_attribute('region')"])
        checked = (
            None
            if predicate is None or not table.columns
            else validate_predicate(predicate, columns=table.columns)
        )
        choice = (
            ColumnChoice(frozenset(rng.sample(columns, 1)))
            if rng.random() < 0.5
            else ColumnChoice()
        )
        target = FilterTarget(DataFilter(f"f{number}", table.name, checked, choice))
    grantee = rng.choice(RANDOM_PRINCIPALS)
    return GrantRule(number, grantee, parse_permissions(permissions), target, rng.random() < 0.2)


# -- table-driven decision cases ----------------------------------------------------------------

BOB = who("user:bob@marketing", groups=("group:analysts@marketing",), attributes={"region": "EU"})
ALL_COLUMNS = ("id", "name", "email", "region", "ssn")
EU = "(\"region\" = 'EU')"
US = "(\"region\" = 'US')"
NO_GRANT = "no grant of SELECT on sales.crm.customers reaches user:bob@marketing"


@dataclass
class Case:
    """One decision: grants (and masks, facts, settings) as setup, then the expected answer."""

    grants: list[GrantRule]
    allowed: bool
    columns: tuple[str, ...] = ()
    row_filter: str | None = None
    masks: dict[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    subject: Subject = BOB
    permission: str = "SELECT"
    resource: Resource | str = "sales.crm.customers"
    table: TableFacts | None = None
    mask_rules: tuple[MaskRule, ...] = ()
    settings: PolicySettings = field(default_factory=PolicySettings)
    database_tags: dict[str, str] | None = None
    pairs: tuple[CellPair, ...] | None = None


def decide_case(case: Case) -> Decision:
    """The plain decision function on the case (customers when the resource is a table)."""
    target = resource(case.resource) if isinstance(case.resource, str) else case.resource
    table = case.table
    if table is None and not isinstance(target, Location | TagValue) and target.table is not None:
        table = customers()
    return decide(
        subject=case.subject,
        permission=Permission(case.permission),
        resource=target,
        grants=case.grants,
        table=table,
        database_tags=case.database_tags,
        masks=case.mask_rules,
        settings=case.settings,
    )


def check_case(case: Case) -> None:
    """Decide the case and compare every part of the decision it states."""
    decision = decide_case(case)
    assert decision.allowed is case.allowed, decision.reasons
    assert decision.columns == case.columns
    assert decision.row_filter == case.row_filter
    assert decision.masks == case.masks
    for expected in case.reasons:
        assert any(re.search(expected, reason) for reason in decision.reasons), (
            expected,
            decision.reasons,
        )
    if case.pairs is not None:
        assert decision.access is not None
        assert decision.access.pairs == case.pairs
        assert decision.access.masks == case.masks


PII_HASH = mask("pii_hash", "sensitivity=pii", "hash")
SECRET_NULL = mask("secret_null", "sensitivity=secret", "null")
