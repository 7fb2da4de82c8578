"""SELECT and UNMASK on one table: cell pairs, their union, masks (DESIGN §4, LF cell semantics).

Each SELECT grant contributes a pair (row predicate, column set): a named or tag grant reads every
row of its columns, a filter grant the rows of its predicate. Rows returned are those some
predicate holds for; a cell is its value only when some pair covers both its row and its column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lakemesh.model.access import CellPair, ColumnAccess
from lakemesh.model.permissions import Permission
from lakemesh.policy.coverage import TagGroups, grant_columns, tag_columns
from lakemesh.policy.facts import TableFacts
from lakemesh.policy.rules import (
    MASK_STRENGTH,
    FilterTarget,
    GrantRule,
    MaskRule,
    Subject,
    TagTarget,
)

MAX_NEAR_MISSES = 5
RawPair = tuple[str | None, tuple[str, ...]]


def domain_admin_reason(domain: str) -> str:
    return f"role: domain admin of {domain} (ALL with grant option on {domain} objects)"


def _excluded_by_tags(target: TagTarget, table: TableFacts, columns: tuple[str, ...]) -> str:
    shown = set(columns)
    keys = target.expression.keys
    parts = []
    for column in table.columns:
        if column not in shown:
            tags = table.tags_of(column)
            found = ", ".join(f"{key}={tags[key]}" for key in sorted(keys) if key in tags)
            parts.append(f"{column} [{found or 'no matching tags'}]")
    return f"; excluded by tags: {', '.join(parts)}" if parts else ""


def near_misses(subject: Subject, misses: Sequence[GrantRule], table: TableFacts) -> list[str]:
    """Reasons for tag grants that reach the subject but match no column (for denials)."""
    return [
        f"{rule.describe()} to {subject.via(rule.grantee)} matches no column of {table.name}"
        for rule in misses[:MAX_NEAR_MISSES]
    ]


def collect_pairs(
    *, subject: Subject, rules: Sequence[GrantRule], table: TableFacts, groups: TagGroups
) -> tuple[list[RawPair], list[str], list[GrantRule]]:
    """The raw SELECT pairs reaching ``subject``, the reasons for them, and the tag grants that
    matched no column (near misses, for :func:`near_misses`)."""
    pairs: list[RawPair] = []
    reasons: list[str] = []
    misses: list[GrantRule] = []
    if table.name.domain in subject.admin_of_domains and table.columns:
        pairs.append((None, table.columns))
        reasons.append(domain_admin_reason(table.name.domain))
    select = Permission.SELECT
    for rule in rules:
        if select not in rule.table_permissions:
            continue
        target = rule.target
        if isinstance(target, TagTarget):
            columns = tag_columns(target, table, groups)
            if not columns:
                misses.append(rule)
                continue
        else:
            columns = grant_columns(rule, table, groups)
            if not columns:
                continue
        shown = ", ".join(columns)
        if isinstance(target, FilterTarget) and target.data_filter.predicate is not None:
            # Imported here for the CLI's startup time: the predicate grammar loads sqlglot, and
            # only a decision with a row filter needs it (not loading the policy index).
            from lakemesh.policy.predicates import bind_predicate

            bound = bind_predicate(target.data_filter.predicate, attributes=subject.attributes)
            pairs.append((bound, columns))
            detail = f"rows: {bound}; columns: {shown}"
        else:
            pairs.append((None, columns))
            detail = f"columns: {shown}"
            if isinstance(target, TagTarget):
                detail += _excluded_by_tags(target, table, columns)
        reasons.append(f"{rule.describe()} to {subject.via(rule.grantee)} ({detail})")
    return pairs, reasons, misses


def merge_pairs(raw: Iterable[RawPair]) -> tuple[CellPair, ...]:
    """One all-rows pair, then one pair per distinct predicate for columns not read in full.

    A column the all-rows pair covers needs no filtered pair: its cells are values anyway.

    >>> [(p.predicate, sorted(p.columns)) for p in merge_pairs(
    ...     [(None, ("a",)), ("x > 1", ("a", "b")), ("x > 1", ("c",))])]
    [(None, ['a']), ('x > 1', ['b', 'c'])]
    """
    every_row: set[str] = set()
    filtered: dict[str, set[str]] = {}
    for predicate, columns in raw:
        if predicate is None:
            every_row.update(columns)
        else:
            filtered.setdefault(predicate, set()).update(columns)
    pairs = [CellPair(None, frozenset(every_row))] if every_row else []
    for predicate, wanted in filtered.items():
        rest = wanted - every_row
        if rest:
            pairs.append(CellPair(predicate, frozenset(rest)))
    return tuple(pairs)


def row_filter_of(raw: Iterable[RawPair]) -> str | None:
    """The union of the pairs' predicates; None when some pair reads every row."""
    predicates: list[str] = []
    for predicate, _ in raw:
        if predicate is None:
            return None
        if predicate not in predicates:
            predicates.append(predicate)
    return " OR ".join(f"({predicate})" for predicate in predicates)


def unmasked_columns(
    *, subject: Subject, rules: Sequence[GrantRule], table: TableFacts, groups: TagGroups
) -> dict[str, str]:
    """Columns whose masks ``subject`` may lift, each with the reason it may."""
    if table.name.domain in subject.admin_of_domains:
        reason = domain_admin_reason(table.name.domain)
        return dict.fromkeys(table.columns, reason)
    result: dict[str, str] = {}
    for rule in rules:
        if Permission.UNMASK not in rule.table_permissions:
            continue
        for column in grant_columns(rule, table, groups):
            result.setdefault(column, f"{rule.describe()} to {subject.via(rule.grantee)}")
    return result


def apply_masks(
    *,
    subject: Subject,
    rules: Sequence[GrantRule],
    table: TableFacts,
    groups: TagGroups,
    mask_rules: Iterable[MaskRule],
    visible: Iterable[str],
) -> tuple[dict[str, str], list[str]]:
    """The mask of each visible column (strongest matching mask, unless UNMASK) and reasons."""
    shown = set(visible)
    chosen: dict[str, MaskRule] = {}
    for mask in mask_rules:
        for tags, columns in groups:
            if not mask.expression.matches(tags):
                continue
            for column in columns:
                current = chosen.get(column)
                if column in shown and (
                    current is None
                    or (MASK_STRENGTH[mask.function], mask.name)
                    < (MASK_STRENGTH[current.function], current.name)
                ):
                    chosen[column] = mask
    if not chosen:
        return {}, []
    lifted = unmasked_columns(subject=subject, rules=rules, table=table, groups=groups)
    masks: dict[str, str] = {}
    applied: dict[str, list[str]] = {}
    lifted_by: dict[tuple[str, str], list[str]] = {}
    for column in table.columns:
        chosen_mask = chosen.get(column)
        if chosen_mask is None:
            continue
        if column in lifted:
            lifted_by.setdefault((chosen_mask.name, lifted[column]), []).append(column)
        else:
            masks[column] = chosen_mask.function
            applied.setdefault(chosen_mask.name, []).append(column)
    by_name = {mask.name: mask for mask in chosen.values()}
    reasons = [
        f"mask {name} ({by_name[name].function}) on {', '.join(columns)}: "
        f"tags match {by_name[name].expression}"
        for name, columns in applied.items()
    ]
    reasons.extend(
        f"mask {name} lifted on {', '.join(columns)} by UNMASK: {source}"
        for (name, source), columns in lifted_by.items()
    )
    return masks, reasons


def column_access(
    raw: Sequence[RawPair], masks: dict[str, str], table: TableFacts, column: str | None
) -> tuple[tuple[str, ...], str | None, ColumnAccess]:
    """Visible columns (table order), row filter and the gateway's access for a table (or one
    column of it)."""
    if column is not None:
        raw = [(predicate, (column,)) for predicate, columns in raw if column in columns]
        masks = {name: function for name, function in masks.items() if name == column}
    pairs = merge_pairs(raw)
    access = ColumnAccess(pairs, masks)
    available = access.columns
    visible = tuple(name for name in table.columns if name in available)
    return visible, row_filter_of(raw), access
