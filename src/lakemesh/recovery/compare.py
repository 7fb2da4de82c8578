"""Comparing two decision snapshots: every principal, table and decision that differs.

A difference names the principal and the table (either may be absent for a difference of the
hub's principals or tables themselves), the aspect that changed and its value before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from lakemesh.recovery.decisions import HubDecisions
from lakemesh.recovery.snapshot import DecisionSnapshot, TableDecision

ASPECTS = (
    "principal",
    "table",
    "describe",
    "access",
    "columns",
    "row_filter",
    "cells",
    "masks",
    "reasons",
)
"""Every aspect a difference may name, in the order they are reported."""
DENIED = "denied"


@dataclass(frozen=True)
class Difference:
    """One thing that is not the same in ``before`` and ``after``."""

    principal: str | None
    table: str | None
    aspect: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "table": self.table,
            "aspect": self.aspect,
            "before": self.before,
            "after": self.after,
        }

    def sort_key(self) -> tuple[str, str, int]:
        return (self.principal or "", self.table or "", ASPECTS.index(self.aspect))


def compare_snapshots(before: DecisionSnapshot, after: DecisionSnapshot) -> list[Difference]:
    """Every difference between two snapshots, ordered by principal, table and aspect.

    A principal or table present on one side only is one difference (its decisions are not
    listed one by one); a table whose columns differ is one, and its decisions are compared too.
    """
    differences = _catalog_differences(
        before.principals, after.principals, before.tables, after.tables
    )
    principals = set(before.principals) & set(after.principals)
    tables = before.tables.keys() & after.tables.keys()
    for principal, table in before.decisions.keys() | after.decisions.keys():
        if principal in principals and table in tables:
            differences.extend(
                decision_differences(
                    principal,
                    table,
                    before.decision(principal, table),
                    after.decision(principal, table),
                )
            )
    for principal in principals:
        old, new = (set(side.describable.get(principal, ())) for side in (before, after))
        differences.extend(
            describe_difference(principal, table, table in old, table in new)
            for table in sorted((old ^ new) & tables)
        )
    return sorted(differences, key=Difference.sort_key)


def describe_difference(principal: str, table: str, before: bool, after: bool) -> Difference:
    """A principal that may DESCRIBE a table on one side only."""
    return Difference(principal, table, "describe", _allowed(before), _allowed(after))


def _allowed(allowed: bool) -> str:
    return "allowed" if allowed else DENIED


def _describe_differences(
    before: HubDecisions, after: HubDecisions, ref: str, tables: Iterable[str]
) -> list[Difference]:
    found: list[Difference] = []
    for table in tables:
        old, new = before.describes(ref, table), after.describes(ref, table)
        if old != new:
            found.append(describe_difference(ref, table, old, new))
    return found


def compare_hubs(before: HubDecisions, after: HubDecisions) -> list[Difference]:
    """:func:`compare_snapshots` of two hubs, deciding only where the inputs differ.

    Where a principal's inputs (groups, attributes, roles, the grants reaching it) and a table's
    (columns, effective tags, published) are the same in both hubs, and the mesh's masks and
    settings too, the kernel's decision is the same: only the other pairs are decided, on both
    sides. A table whose inputs differ is decided for every principal; a principal whose grants
    differ, on the tables those grants reach (the kernel's ``tables_reached``) in either hub; a
    principal whose groups, attributes or roles differ (or every principal, when masks or
    settings do), on every table it may read in either hub.
    """
    differences = _catalog_differences(
        before.principals, after.principals, before.tables, after.tables
    )
    principals = sorted(set(before.principals) & set(after.principals))
    tables = sorted(before.tables.keys() & after.tables.keys())
    common = set(tables)
    if before.mesh_inputs != after.mesh_inputs:
        for ref in principals:
            differences.extend(_every_table(before, after, ref, common))
        return sorted(differences, key=Difference.sort_key)
    changed_tables = [
        table for table in tables if before.table_facts(table) != after.table_facts(table)
    ]
    for ref in principals:
        old, new = before.principal_inputs(ref), after.principal_inputs(ref)
        if old == new:
            wanted: set[str] | None = set(changed_tables)
        elif replace(old, rules=new.rules) != new:
            wanted = None  # groups, attributes or roles differ: every table
        else:
            old_rules, new_rules = before.rules_of(ref), after.rules_of(ref)
            reached_before = before.tables_reached(
                rule for key, rule in old_rules.items() if key not in new_rules
            )
            reached_after = after.tables_reached(
                rule for key, rule in new_rules.items() if key not in old_rules
            )
            wanted = (
                None
                if reached_before is None or reached_after is None
                else reached_before | reached_after | set(changed_tables)
            )
        if wanted is None:
            differences.extend(_every_table(before, after, ref, common))
            continue
        differences.extend(_describe_differences(before, after, ref, sorted(wanted & common)))
        for table in sorted(wanted & common):
            differences.extend(
                decision_differences(
                    ref, table, before.decision(ref, table), after.decision(ref, table)
                )
            )
    return sorted(differences, key=Difference.sort_key)


def _every_table(
    before: HubDecisions, after: HubDecisions, ref: str, common: set[str]
) -> list[Difference]:
    """``ref``'s differences on every table it may read (or DESCRIBE) in either hub."""
    old, new = before.decisions_of(ref), after.decisions_of(ref)
    return _describe_differences(before, after, ref, sorted(common)) + [
        difference
        for table in sorted((old.keys() | new.keys()) & common)
        for difference in decision_differences(ref, table, old.get(table), new.get(table))
    ]


def _catalog_differences(
    principals_before: tuple[str, ...],
    principals_after: tuple[str, ...],
    tables_before: dict[str, tuple[str, ...]],
    tables_after: dict[str, tuple[str, ...]],
) -> list[Difference]:
    """Principals and tables on one side only, and tables whose columns differ."""
    differences: list[Difference] = []
    for principal in sorted(set(principals_before) ^ set(principals_after)):
        present = principal in principals_before
        differences.append(
            Difference(principal, None, "principal", _presence(present), _presence(not present))
        )
    for table in sorted(tables_before.keys() | tables_after.keys()):
        old, new = tables_before.get(table), tables_after.get(table)
        if old != new:
            differences.append(
                Difference(None, table, "table", _columns_or_absent(old), _columns_or_absent(new))
            )
    return differences


def _presence(present: bool) -> str:
    return "present" if present else "absent"


def _columns_or_absent(columns: tuple[str, ...] | None) -> list[str] | str:
    return "absent" if columns is None else list(columns)


def decision_differences(
    principal: str, table: str, before: TableDecision | None, after: TableDecision | None
) -> list[Difference]:
    """How ``principal``'s decisions on ``table`` differ (None: denied)."""
    if before is None or after is None:
        if before is None and after is None:
            return []
        return [
            Difference(
                principal,
                table,
                "access",
                _summary(before),
                _summary(after),
            )
        ]
    old, new = before.to_dict(), after.to_dict()
    return [
        Difference(principal, table, aspect, old[aspect], new[aspect])
        for aspect in ASPECTS[4:]
        if old[aspect] != new[aspect]
    ]


def _summary(decision: TableDecision | None) -> dict[str, Any] | str:
    """An allowed decision in full, or ``denied``."""
    return DENIED if decision is None else decision.to_dict()


ASPECT_LABELS = {"row_filter": "row filter"}
ARROW = " -> "


def describe(difference: Difference) -> list[str]:
    """A difference in readable lines: what, and its value before and after.

    >>> describe(Difference("user:a@x", "x.db.t", "columns", ["id", "email"], ["id"]))
    ['user:a@x on x.db.t: columns: id, email -> id (lost email)']
    """
    d = difference
    if d.aspect == "principal":
        return [f"principal {d.principal}: {d.before}{ARROW}{d.after}"]
    if d.aspect == "table":
        return [f"table {d.table}: columns {_text(d.before)}{ARROW}{_text(d.after)}"]
    head = f"{d.principal} on {d.table}: {ASPECT_LABELS.get(d.aspect, d.aspect)}"
    if d.aspect in ("access", "describe"):
        return [f"{head}: {_access(d.before)}{ARROW}{_access(d.after)}"]
    if d.aspect == "columns":
        lost = [c for c in d.before if c not in d.after]
        gained = [c for c in d.after if c not in d.before]
        changes = [f"lost {', '.join(lost)}"] * bool(lost) + [f"gained {', '.join(gained)}"] * bool(
            gained
        )
        return [f"{head}: {_text(d.before)}{ARROW}{_text(d.after)} ({'; '.join(changes)})"]
    if d.aspect == "row_filter":
        return [f"{head}: {d.before or 'every row'}{ARROW}{d.after or 'every row'}"]
    old, new = _items(d.before), _items(d.after)
    return [
        f"{head}:",
        *(f"  - {item}" for item in old if item not in new),
        *(f"  + {item}" for item in new if item not in old),
    ]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "(none)"
    return str(value)


def _access(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    shown = f"allowed (columns {_text(value['columns'])}"
    if value["row_filter"]:
        shown += f"; rows {value['row_filter']}"
    if value["masks"]:
        shown += "; masked " + ", ".join(f"{c}={f}" for c, f in value["masks"].items())
    return shown + ")"


def _items(value: Any) -> list[str]:
    """Masks (``column=function``), cells (``rows: columns``) or reasons, one string each."""
    if isinstance(value, dict):
        return [
            f"{key}: {_text(item)}" if isinstance(item, list) else f"{key}={item}"
            for key, item in value.items()
        ]
    return [str(item) for item in value]
