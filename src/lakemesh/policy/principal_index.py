"""Principals as decisions see them: each one's attributes and roles, and the groups it belongs
to directly, from which its :class:`~lakemesh.policy.rules.Subject` is made (groups followed
transitively, roles held through a group count).

Like :class:`~lakemesh.policy.tag_index.TableTagIndex`, it holds no lock: the
:class:`~lakemesh.policy.index.PolicyIndex` that owns it does.
"""

from __future__ import annotations

from collections.abc import Iterable

from lakemesh.model.names import PrincipalName
from lakemesh.policy.rules import PrincipalFacts, Subject

Membership = tuple[PrincipalName, PrincipalName]
"""``(member, group)``: the member belongs to the group directly."""


class PrincipalIndex:
    """Principals' facts and direct memberships."""

    def __init__(self) -> None:
        self._facts: dict[PrincipalName, PrincipalFacts] = {}
        self._groups_of: dict[PrincipalName, set[PrincipalName]] = {}

    def load(self, principals: Iterable[PrincipalFacts], memberships: Iterable[Membership]) -> None:
        """Add principals and memberships in bulk."""
        for facts in principals:
            self._facts[facts.name] = facts
        for member, group in memberships:
            self._groups_of.setdefault(member, set()).add(group)

    def copy(self) -> PrincipalIndex:
        """A copy that changes on its own."""
        copied = PrincipalIndex()
        copied._facts = dict(self._facts)
        copied._groups_of = {name: set(groups) for name, groups in self._groups_of.items()}
        return copied

    def set_facts(self, facts: PrincipalFacts) -> None:
        """Record a principal's attributes and roles."""
        self._facts[facts.name] = facts

    def remove(self, name: PrincipalName) -> None:
        """Forget a principal and its memberships, as member and as group."""
        self._facts.pop(name, None)
        self._groups_of.pop(name, None)
        for groups in self._groups_of.values():
            groups.discard(name)

    def set_groups(self, member: PrincipalName, groups: Iterable[PrincipalName]) -> None:
        """Make ``groups`` exactly the groups ``member`` belongs to directly."""
        self._groups_of[member] = set(groups)

    def subject(self, principal: PrincipalName) -> Subject:
        """The subject for ``principal``: transitive groups, attributes, roles (groups' too)."""
        groups: set[PrincipalName] = set()
        pending = list(self._groups_of.get(principal, ()))
        while pending:
            group = pending.pop()
            if group not in groups and group != principal:
                groups.add(group)
                pending.extend(self._groups_of.get(group, ()))
        holders = [f for f in map(self._facts.get, [principal, *groups]) if f]
        own = self._facts.get(principal)
        return Subject(
            principal,
            frozenset(groups),
            dict(own.attributes) if own else {},
            any(facts.is_mesh_admin for facts in holders),
            frozenset(domain for facts in holders for domain in facts.admin_of_domains),
        )

    def content(self) -> dict[str, object]:
        """The principals with attributes or roles, and the memberships (see
        :meth:`PolicyIndex.content <lakemesh.policy.index.PolicyIndex.content>`)."""
        return {
            "principals": {
                name: facts
                for name, facts in self._facts.items()
                if facts.attributes or facts.admin_of_domains
            },
            "groups": {member: groups for member, groups in self._groups_of.items() if groups},
        }
