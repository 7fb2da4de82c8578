"""In what order a plan's changes run: folders in transactions after the folders whose new
resources they refer to, changes stage by stage within one, and which changes fall with a refused
one.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Sequence

from lakemesh.meshfile.diff import Change
from lakemesh.meshfile.resources import STAGE, Ref

REMOVAL_STAGE = {**STAGE, "share": STAGE["grant"] - 0.5}
"""A share is declined after the grants derived from it are revoked (declining refuses while
delegations rely on it)."""


def transaction_groups(found: Sequence[Change]) -> list[list[str]]:
    """The folders in the order their transactions run: a folder after those whose new
    resources it refers to; folders that refer to each other's share one transaction."""
    creating = {c.resource.ref: c.resource.folder for c in found if c.action != "remove"}
    folders = sorted({c.resource.folder for c in found})
    needs: dict[str, set[str]] = {folder: set() for folder in folders}
    for change in found:
        if change.action == "remove":
            continue
        for ref in change.resource.refs:
            other = creating.get(ref)
            if other is not None and other != change.resource.folder:
                needs[change.resource.folder].add(other)
    reach = {folder: _reachable(folder, needs) for folder in folders}
    component = {
        folder: tuple(
            sorted(f for f in folders if f == folder or (f in reach[folder] and folder in reach[f]))
        )
        for folder in folders
    }
    sorter: graphlib.TopologicalSorter[tuple[str, ...]] = graphlib.TopologicalSorter()
    for folder in folders:
        sorter.add(
            component[folder],
            *(component[other] for other in needs[folder] if component[other] != component[folder]),
        )
    order: list[list[str]] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(list(group) for group in ready)
        sorter.done(*ready)
    return order


def _reachable(start: str, needs: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        for other in needs[frontier.pop()]:
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return seen


def ordered(found: Iterable[Change]) -> list[Change]:
    """Removals first, the last stage first (derived grants before their parents), then creations
    and changes stage by stage (parent grants before the grants derived from them), by key."""
    removals = sorted(
        (c for c in found if c.action == "remove"),
        key=lambda c: (
            -REMOVAL_STAGE[c.resource.kind],
            c.resource.body.get("derived_from") is None,
        ),
    )
    rest = [c for c in found if c.action != "remove"]
    depth = _derivation_depth(rest)
    # By key within a stage: one transaction creating several tables creates them in name order,
    # the order the policy index replays them in (so replayed and freshly loaded indexes agree).
    rest.sort(key=lambda c: (STAGE[c.resource.kind], depth.get(c.resource.key, 0), c.resource.key))
    return removals + rest


def _derivation_depth(found: Sequence[Change]) -> dict[str, int]:
    parents = {
        c.resource.key: c.resource.body.get("derived_from")
        for c in found
        if c.resource.kind == "grant"
    }
    depth: dict[str, int] = {}
    for key in parents:
        level, seen, parent = 0, {key}, parents.get(key)
        while parent is not None and parent in parents and parent not in seen:
            level, parent = level + 1, parents.get(parent)
            seen.add(parent or "")
        depth[key] = level
    return depth


def without(found: Sequence[Change], refs: set[Ref]) -> list[Change]:
    """``found`` less the changes of ``refs`` and those that need them (a grant on a refused
    table, a grant derived from a refused grant, ...), transitively."""
    dropped = set(refs)
    remaining = list(found)
    while True:
        kept = [
            change
            for change in remaining
            if change.resource.ref not in dropped
            and (change.action == "remove" or not dropped.intersection(change.resource.refs))
        ]
        if len(kept) == len(remaining):
            return kept
        dropped.update(c.resource.ref for c in remaining if c not in kept)
        remaining = kept
