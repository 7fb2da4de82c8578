"""The SELECT decisions of one hub, computed on demand by the authorization kernel.

:class:`HubDecisions` holds a hub's policy index (:func:`lakemesh.authz.state.policy_index`, the
index behind ``lakemesh explain``) and answers every principal-table decision from it. It also
states the inputs of those decisions in a form two hubs can compare: for each principal its
groups, attributes, roles and the grants reaching it (without their ids); for each table its
columns, effective tags and published flag; for the mesh its masks and settings. The kernel
decides from these inputs alone, so where they are equal the decisions are equal, and a
comparison of two hubs decides only where they are not
(:func:`lakemesh.recovery.compare.compare_hubs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import CatalogNames, policy_index
from lakemesh.authz.grant_reach import tables_reached
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.policy import GrantRule, Subject, TableFacts, TagTarget
from lakemesh.policy.rules import GrantTarget
from lakemesh.recovery.snapshot import DecisionSnapshot, TableDecision
from lakemesh.settings import get_setting
from lakemesh.store.schema import MaskRule, Principal

RuleKey = tuple[str, frozenset[Permission], GrantTarget, bool]


def rule_key(rule: GrantRule) -> RuleKey:
    """A grant as decisions read it: everything but its id (which differs between hubs)."""
    return (str(rule.grantee), rule.permissions, rule.target, rule.with_grant_option)


@dataclass(frozen=True)
class PrincipalInputs:
    """Everything about a principal that a decision reads."""

    groups: frozenset[str]
    attributes: tuple[tuple[str, str], ...]
    is_mesh_admin: bool
    admin_of_domains: frozenset[str]
    rules: frozenset[RuleKey]


class HubDecisions:
    """Every principal-table SELECT decision of one hub, as of ``session``'s transaction.

    Use it inside that transaction: it reads the policy index once and the store for the names
    of principals and tables, masks and settings.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.index = policy_index(session)
        names, columns_of = CatalogNames.load_all(session)
        self.tables: dict[str, tuple[str, ...]] = dict(
            sorted(
                (str(name), tuple(columns_of.get(table_id, ())))
                for table_id, name in names.tables.items()
            )
        )
        self._table_names = {str(name): name for name in names.tables.values()}
        self.principals: tuple[str, ...] = tuple(
            sorted(session.execute(select(Principal.ref)).scalars())
        )
        self.mesh_inputs = (
            frozenset(
                (row.name, row.tag_expression, row.function)
                for row in session.execute(
                    select(MaskRule.name, MaskRule.tag_expression, MaskRule.function)
                )
            ),
            get_setting(session, "discovery"),
        )
        self._subjects: dict[str, Subject] = {}

    def subject(self, ref: str) -> Subject:
        found = self._subjects.get(ref)
        if found is None:
            found = self._subjects[ref] = self.index.subject(parse_principal(ref))
        return found

    def principal_inputs(self, ref: str) -> PrincipalInputs:
        """The inputs of ``ref``'s decisions."""
        subject = self.subject(ref)
        return PrincipalInputs(
            groups=frozenset(map(str, subject.groups)),
            attributes=tuple(sorted(subject.attributes.items())),
            is_mesh_admin=subject.is_mesh_admin,
            admin_of_domains=subject.admin_of_domains,
            rules=frozenset(self.rules_of(ref)),
        )

    def rules_of(self, ref: str) -> dict[RuleKey, GrantRule]:
        """The grants reaching ``ref``, by :func:`rule_key`."""
        return {rule_key(rule): rule for rule in self.index.grants_reaching(self.subject(ref))}

    def tables_reached(self, rules: Iterable[GrantRule]) -> set[str] | None:
        """The tables on which ``rules`` give a table permission today (the kernel's
        :func:`~lakemesh.authz.grant_reach.tables_reached`); only there can they change a
        decision. None when one of them reaches tables through their databases' tags."""
        found: set[str] = set()
        for rule in rules:
            target = rule.target
            if isinstance(target, TagTarget) and target.resource_type != "table":
                return None
            found.update(map(str, tables_reached(self.session, self.index, rule)))
        return found

    def table_facts(self, table: str) -> TableFacts:
        """The inputs of every decision on ``table``: columns, effective tags, published."""
        return self.index.table_facts(self._table_names[table])

    def decision(self, ref: str, table: str) -> TableDecision | None:
        """``ref``'s SELECT decision on ``table``, or None when denied."""
        decision = self.index.decide(
            subject=self.subject(ref),
            permission=Permission.SELECT,
            resource=self._table_names[table],
        )
        return TableDecision.of(decision) if decision.allowed else None

    def describes(self, ref: str, table: str) -> bool:
        """Whether ``ref`` may DESCRIBE ``table``."""
        return self.index.decide(
            subject=self.subject(ref),
            permission=Permission.DESCRIBE,
            resource=self._table_names[table],
        ).allowed

    def describable_of(self, ref: str) -> tuple[str, ...]:
        """Every table ``ref`` may DESCRIBE, sorted."""
        return tuple(table for table in self.tables if self.describes(ref, table))

    def decisions_on(self, ref: str, tables: Iterable[str]) -> dict[str, TableDecision]:
        """``ref``'s allowed decisions on ``tables`` (tables it may not SELECT are left out)."""
        found = {table: self.decision(ref, table) for table in tables}
        return {table: decision for table, decision in found.items() if decision is not None}

    def decisions_of(self, ref: str) -> dict[str, TableDecision]:
        """Every table ``ref`` may SELECT anything of, with the decision.

        The kernel lists those tables (a union of bitsets); every other table is denied and is
        not decided one by one.
        """
        subject = self.subject(ref)
        found: dict[str, TableDecision] = {}
        for table in self.index.selectable_tables(subject=subject):
            decision = self.index.decide(
                subject=subject, permission=Permission.SELECT, resource=table
            )
            if decision.allowed:
                found[str(table)] = TableDecision.of(decision)
        return found

    def snapshot(self) -> DecisionSnapshot:
        """Every decision, materialised (a principal per :meth:`decisions_of`)."""
        return DecisionSnapshot(
            principals=self.principals,
            tables=self.tables,
            decisions={
                (ref, table): decision
                for ref in self.principals
                for table, decision in self.decisions_of(ref).items()
            },
            describable={ref: self.describable_of(ref) for ref in self.principals},
        )


def take_snapshot(session: Session) -> DecisionSnapshot:
    """Every principal's SELECT decision on every table of the hub, as the kernel decides now."""
    return HubDecisions(session).snapshot()


def snapshot_for(session: Session, *, actor: Actor) -> DecisionSnapshot:
    """:func:`take_snapshot` for a mesh admin (the snapshot a running hub serves, so a drill can
    compare a rebuild with it over HTTP).

    Raises:
        AccessDeniedError: ``actor`` is not a mesh admin (audited).
    """
    actor.require_mesh_admin(action=Action.DECISIONS_SNAPSHOT, resource="mesh")
    return take_snapshot(session)
