"""The policy index: every grant, tag, mask, table and membership, held for fast decisions.

A decision for one table reads only the grants of the subject's grantees (its own, its groups',
its administered domains') and that table's tags, never the whole mesh. Listing the tables a
subject may SELECT unions bitsets: one per named grant (domain, database, table) and one per tag
expression (see :mod:`lakemesh.policy.tag_index`). Every change is incremental: a new grant is
one dictionary insert, a tag assignment moves a few bits.

The store loads the index once (:meth:`PolicyIndex.build`) and applies each committed change; the
index is safe to share between threads.

>>> from lakemesh.model.names import parse_principal, parse_resource
>>> from lakemesh.policy.tag_expressions import parse_tag_expression
>>> table = parse_resource("sales.crm.customers")
>>> index = PolicyIndex.build(
...     tables=[CatalogTable(table, ("id", "email"))],
...     tags=[TagAssignment(parse_resource("sales.crm"), "sensitivity", "internal"),
...           TagAssignment(parse_resource("sales.crm.customers.email"), "sensitivity", "pii")],
... )
>>> bob = parse_principal("user:bob@marketing")
>>> index.add_grant(GrantRule(1, bob, frozenset({Permission.SELECT}),
...                           TagTarget(parse_tag_expression("sensitivity=public|internal"))))
>>> index.decide(subject=index.subject(bob), permission=Permission.SELECT, resource=table).columns
('id',)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from operator import attrgetter

from lakemesh.model.names import PrincipalName, ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy.coverage import grant_columns
from lakemesh.policy.decide import DEFAULT_SETTINGS, decide_reached
from lakemesh.policy.decision import Decision
from lakemesh.policy.facts import CatalogTable, TableFacts, TagAssignment
from lakemesh.policy.grant_option import can_grant
from lakemesh.policy.principal_index import Membership, PrincipalIndex
from lakemesh.policy.rules import (
    FilterTarget,
    GrantRule,
    MaskRule,
    PolicySettings,
    PrincipalFacts,
    Resource,
    ResourceTarget,
    Subject,
    TagTarget,
)
from lakemesh.policy.tag_expressions import TagExpression, parse_tag_expression
from lakemesh.policy.tag_index import TableTagIndex

SCOPE_CACHE_SIZE = 1024
_BY_ID = attrgetter("id")


class PolicyIndex:
    """Grants, masks, principals and catalog tags, indexed for decisions."""

    def __init__(self, *, settings: PolicySettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self.version = 0
        self._lock = threading.RLock()
        self._tables = TableTagIndex()
        self._grants: dict[int, GrantRule] = {}
        self._by_grantee: dict[PrincipalName, dict[int, GrantRule]] = {}
        self._masks: dict[str, MaskRule] = {}
        self._principals = PrincipalIndex()
        self._scopes: OrderedDict[str, int] = OrderedDict()

    @classmethod
    def build(
        cls,
        *,
        tables: Iterable[CatalogTable] = (),
        tags: Iterable[TagAssignment] = (),
        grants: Iterable[GrantRule] = (),
        masks: Iterable[MaskRule] = (),
        principals: Iterable[PrincipalFacts] = (),
        memberships: Iterable[Membership] = (),
        settings: PolicySettings = DEFAULT_SETTINGS,
    ) -> PolicyIndex:
        """An index over a whole mesh, loaded in bulk."""
        index = cls(settings=settings)
        index._tables.load(tables, tags)
        for rule in grants:
            index._put_grant(rule)
        for mask in masks:
            index._masks[mask.name] = mask
        index._principals.load(principals, memberships)
        return index

    def fork(self, *, tables: bool = False) -> PolicyIndex:
        """A copy whose grants, masks and principals change on their own, for a transaction to
        decide on its uncommitted changes. It shares this index's lock, and its tables and tags
        unless ``tables`` (a copy, for a transaction that changes those too: change shared
        tables on a fork and the original changes with them)."""
        with self._lock:
            fork = PolicyIndex(settings=self.settings)
            fork.version = self.version
            fork._lock = self._lock
            if tables:
                fork._tables = self._tables.copy()
            else:
                fork._tables = self._tables
                fork._scopes = self._scopes
            fork._grants = dict(self._grants)
            fork._by_grantee = {name: dict(rules) for name, rules in self._by_grantee.items()}
            fork._masks = dict(self._masks)
            fork._principals = self._principals.copy()
            return fork

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the index for a series of changes: no decision sees them half applied."""
        with self._lock:
            yield

    def _changed(self, *, tags: bool = False) -> None:
        self.version += 1
        if tags:
            self._scopes.clear()

    # -- catalog ---------------------------------------------------------------------------

    def upsert_table(self, table: CatalogTable) -> None:
        """Add a table or change its columns or published flag."""
        with self._lock:
            self._tables.upsert_table(table)
            self._changed(tags=True)

    def remove_table(self, name: ResourceName) -> None:
        with self._lock:
            self._tables.remove_table(name)
            self._changed(tags=True)

    def set_tag(self, *, resource: ResourceName, key: str, value: str | None) -> None:
        """Assign ``key=value`` on a database, table or column; ``value`` None removes the key."""
        with self._lock:
            self._tables.set_tag(resource, key, value)
            self._changed(tags=True)

    def set_tags(self, *, resource: ResourceName, tags: Mapping[str, str]) -> None:
        """Make ``tags`` exactly the tags assigned on a database, table or column itself."""
        with self._lock:
            current = self._tables.own_tags(resource)
            for key in current.keys() - tags.keys():
                self._tables.set_tag(resource, key, None)
            for key, value in tags.items():
                if current.get(key) != value:
                    self._tables.set_tag(resource, key, value)
            self._changed(tags=True)

    def has_table(self, name: ResourceName) -> bool:
        with self._lock:
            return self._tables.table_id(name) is not None

    def table_facts(self, name: ResourceName) -> TableFacts:
        """A table's columns and effective tags.

        Raises:
            NotFoundError: ``Table does not exist: sales.crm.customers``.
        """
        with self._lock:
            return self._tables.facts(name.table_name)

    def tables_matching(self, expression: TagExpression) -> list[ResourceName]:
        """Tables with at least one column satisfying ``expression`` (``table search --tags``)."""
        with self._lock:
            return self._tables.names(self._scope(expression))

    def _scope(self, expression: TagExpression) -> int:
        key = str(expression)
        bits = self._scopes.get(key)
        if bits is None:
            bits = self._tables.matching(expression)
            self._scopes[key] = bits
            if len(self._scopes) > SCOPE_CACHE_SIZE:
                self._scopes.popitem(last=False)
        else:
            self._scopes.move_to_end(key)
        return bits

    def content(self) -> dict[str, object]:
        """Everything the index holds, in a form equal for any two indexes of the same state
        however they were built: tests compare an index kept up to date change by change with
        a fresh load of the same store."""
        with self._lock:
            tables = {
                name: self._tables.facts(name) for name in self._tables.names(self._tables.live)
            }
            items = sorted(
                {
                    item
                    for facts in tables.values()
                    for tags in (facts.table_tags, *facts.column_tags.values())
                    for item in tags.items()
                }
            )
            matching = {
                # Sorted: a table's slot, hence its place in tables_matching, depends on the
                # order the index met the tables in (PostgreSQL returns updated rows last).
                f"{key}={value}": sorted(
                    self.tables_matching(parse_tag_expression(f"{key}={value}")), key=str
                )
                for key, value in items
            }
            return {
                "settings": self.settings,
                "tables": tables,
                "database_tags": self._tables.database_tag_map(),
                "matching": matching,
                "grants": sorted(self._grants.values(), key=_BY_ID),
                "masks": dict(self._masks),
                **self._principals.content(),
            }

    # -- grants and masks ------------------------------------------------------------------

    def _put_grant(self, rule: GrantRule) -> None:
        old = self._grants.get(rule.id)
        if old is not None:
            self._by_grantee.get(old.grantee, {}).pop(rule.id, None)
        self._grants[rule.id] = rule
        self._by_grantee.setdefault(rule.grantee, {})[rule.id] = rule

    def add_grant(self, rule: GrantRule) -> None:
        """Add a grant (or replace the grant with the same id)."""
        with self._lock:
            self._put_grant(rule)
            self._changed()

    def remove_grant(self, grant_id: int) -> GrantRule | None:
        """Remove a grant; returns it, or None when it was not there."""
        with self._lock:
            rule = self._grants.pop(grant_id, None)
            if rule is not None:
                self._by_grantee.get(rule.grantee, {}).pop(grant_id, None)
                self._changed()
            return rule

    def grants(self) -> list[GrantRule]:
        """Every grant, by id."""
        with self._lock:
            return sorted(self._grants.values(), key=_BY_ID)

    def add_mask(self, mask: MaskRule) -> None:
        with self._lock:
            self._masks[mask.name] = mask
            self._changed()

    def remove_mask(self, name: str) -> None:
        with self._lock:
            self._masks.pop(name, None)
            self._changed()

    # -- principals ------------------------------------------------------------------------

    def set_principal(self, facts: PrincipalFacts) -> None:
        """Record a principal's attributes and roles."""
        with self._lock:
            self._principals.set_facts(facts)
            self._changed()

    def remove_principal(self, name: PrincipalName) -> None:
        """Forget a principal and its memberships (its grants stay until revoked)."""
        with self._lock:
            self._principals.remove(name)
            self._changed()

    def set_groups(self, *, member: PrincipalName, groups: Iterable[PrincipalName]) -> None:
        """Make ``groups`` exactly the groups ``member`` belongs to directly."""
        with self._lock:
            self._principals.set_groups(member, groups)
            self._changed()

    def subject(self, principal: PrincipalName) -> Subject:
        """The subject for ``principal``: transitive groups, attributes, roles (groups' too)."""
        with self._lock:
            return self._principals.subject(principal)

    # -- decisions -------------------------------------------------------------------------

    def grants_reaching(self, subject: Subject) -> list[GrantRule]:
        """The grants of the subject's grantees, by id."""
        with self._lock:
            rules = [
                rule
                for grantee in subject.grantees
                for rule in self._by_grantee.get(grantee, {}).values()
            ]
        rules.sort(key=_BY_ID)
        return rules

    def decide(self, *, subject: Subject, permission: Permission, resource: Resource) -> Decision:
        """:func:`lakemesh.policy.decide.decide` over this index's grants, tags and masks.

        Raises:
            NotFoundError: for a table or column that is not in the index.
        """
        with self._lock:
            rules = self.grants_reaching(subject)
            table = database_tags = None
            if isinstance(resource, ResourceName):
                if resource.level in ("table", "column"):
                    table = self._tables.facts(resource.table_name)
                elif resource.level == "database":
                    database_tags = self._tables.database_tags(
                        resource.domain, resource.database or ""
                    )
            masks = list(self._masks.values())
        return decide_reached(
            subject=subject,
            permission=permission,
            resource=resource,
            rules=rules,
            table=table,
            database_tags=database_tags,
            masks=masks,
            settings=self.settings,
        )

    def explain(
        self, *, principal: PrincipalName, permission: Permission, resource: Resource
    ) -> Decision:
        """The decision for ``principal`` as the index knows it (``lakemesh explain``)."""
        return self.decide(
            subject=self.subject(principal), permission=permission, resource=resource
        )

    def can_grant(self, *, subject: Subject, rule: GrantRule) -> Decision:
        """:func:`lakemesh.policy.grant_option.can_grant` over this index's grants."""
        return can_grant(subject=subject, rule=rule, grants=self.grants_reaching(subject))

    def selectable_tables(self, *, subject: Subject) -> list[ResourceName]:
        """Every table of which ``subject`` may SELECT at least one column, in catalog order."""
        with self._lock:
            return self._tables.names(self._selectable_bits(subject))

    def _selectable_bits(self, subject: Subject) -> int:
        tables = self._tables
        bits = 0
        for domain in subject.admin_of_domains:
            bits |= tables.domain_bits(domain)
        for rule in self.grants_reaching(subject):
            if Permission.SELECT not in rule.table_permissions:
                continue
            target = rule.target
            if isinstance(target, TagTarget):
                if target.resource_type == "table":
                    scope = self._scope(target.expression)
                    if target.scope is not None:
                        scope &= tables.scope_bits(target.scope)
                    bits |= scope
            elif isinstance(target, ResourceTarget):
                resource = target.resource
                if resource.level in ("domain", "database"):
                    bits |= tables.scope_bits(resource)
                else:
                    bits |= self._named_table_bit(resource.table_name, rule)
            elif isinstance(target, FilterTarget):
                bits |= self._named_table_bit(target.data_filter.table, rule)
        return bits & tables.with_columns

    def _named_table_bit(self, name: ResourceName, rule: GrantRule) -> int:
        columns = self._tables.columns_of(name)
        table_id = self._tables.table_id(name)
        if columns is None or table_id is None:
            return 0
        facts = TableFacts(name, columns)
        return 1 << table_id if grant_columns(rule, facts, ()) else 0
