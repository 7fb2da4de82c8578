"""The effect of a plan on access: which principals gain or lose columns, rows or masks of which
tables, read from the policy engine's decisions (what ``explain`` says) before and after."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import NotFoundError
from lakemesh.meshfile.resources import Resource
from lakemesh.model.names import parse_principal, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import PolicyIndex
from lakemesh.store.schema import Database, Domain, Principal, Table

MAX_PAIRS = 20_000
"""Past this many (principal, table) pairs a plan names the effect's size instead (a rebuild of a
whole mesh changes everyone's access)."""
ACCESS_KINDS = frozenset(
    {
        "mask",
        "principal",
        "member",
        "table",
        "tag_assignment",
        "filter",
        "grant",
        "share",
        "subscription",
        "setting",
    }
)
"""Kinds whose changes can change a decision."""

Access = dict[str, Any]
Pair = tuple[str, str]


@dataclass(frozen=True)
class Pairs:
    """The (principal, table) pairs whose decisions a plan compares, or why none."""

    pairs: tuple[Pair, ...] = ()
    skipped: str | None = None


def _tables(session: Session) -> list[str]:
    rows = session.execute(
        select(Domain.name, Database.name, Table.name)
        .join(Database, Database.domain_id == Domain.id)
        .join(Table, Table.database_id == Database.id)
    )
    return sorted(f"{d}.{db}.{t}" for d, db, t in rows)


def _readers(session: Session) -> list[str]:
    return sorted(
        session.execute(
            select(Principal.ref).where(Principal.kind.in_(("user", "service")))
        ).scalars()
    )


def affected_pairs(session: Session, changed: Sequence[Resource]) -> Pairs:
    """The pairs changes to ``changed`` can affect: every reader on every table a change touches
    (capped)."""
    touching = [resource for resource in changed if resource.kind in ACCESS_KINDS]
    if not touching:
        return Pairs()
    all_tables = _tables(session)
    tables: set[str] = set()
    for resource in touching:
        refs = [resource.ref, *resource.refs]
        if resource.kind in ("mask", "principal", "member", "setting", "share", "subscription") or (
            resource.kind == "grant" and "on_tags" in json.loads(resource.key)
        ):
            tables.update(all_tables)
            break
        for kind, key in refs:
            name = key.split("|")[0]
            if kind in ("table", "filter", "tag_assignment"):
                tables.add(str(parse_resource(name).table_name) if "." in name else name)
            elif kind in ("database", "domain"):
                tables.update(t for t in all_tables if t.startswith(name + "."))
        if resource.kind == "grant":
            on = json.loads(resource.key).get("on")
            if on is not None:
                tables.update(t for t in all_tables if t == on or t.startswith(on + "."))
        if resource.kind == "table":
            tables.add(resource.key)
    readers = _readers(session)
    new_readers = {r.key for r in touching if r.kind == "principal"}
    people = sorted(set(readers) | {r for r in new_readers if parse_principal(r).kind != "group"})
    size = len(people) * len(tables)
    if size > MAX_PAIRS:
        return Pairs(
            skipped=f"{len(people)} principals x {len(tables)} tables: too many to compare"
        )
    return Pairs(tuple((p, t) for p in people for t in sorted(tables)))


def snapshot(index: PolicyIndex, pairs: Pairs) -> dict[Pair, Access]:
    """Each pair's SELECT decision as the policy engine (``index``) makes it."""
    found: dict[Pair, Access] = {}
    for principal, table in pairs.pairs:
        name = parse_resource(table)
        try:
            decision = index.explain(
                principal=parse_principal(principal), permission=Permission.SELECT, resource=name
            )
        except NotFoundError:
            continue
        if decision.allowed:
            found[(principal, table)] = {
                "columns": list(decision.columns),
                "row_filter": decision.row_filter,
                "masks": dict(decision.masks),
            }
    return found


@dataclass
class AccessEffects:
    """Principals gaining or losing access to tables."""

    effects: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    @classmethod
    def between(
        cls, before: dict[Pair, Access], after: dict[Pair, Access], pairs: Pairs
    ) -> AccessEffects:
        effects: list[dict[str, Any]] = []
        for pair in sorted(set(before) | set(after)):
            old, new = before.get(pair), after.get(pair)
            if old == new:
                continue
            old_columns = set(old["columns"]) if old else set()
            new_columns = set(new["columns"]) if new else set()
            effect: dict[str, Any] = {
                "principal": pair[0],
                "table": pair[1],
                "access": "gained" if old is None else "lost" if new is None else "changed",
                "columns_gained": sorted(new_columns - old_columns),
                "columns_lost": sorted(old_columns - new_columns),
            }
            old_rows = old["row_filter"] if old else None
            new_rows = new["row_filter"] if new else None
            if old and new and old_rows != new_rows:
                effect["rows"] = {"before": old_rows or "all", "after": new_rows or "all"}
            elif new and old is None:
                effect["rows"] = {"before": None, "after": new_rows or "all"}
            old_masks = old["masks"] if old else {}
            new_masks = new["masks"] if new else {}
            if old_masks != new_masks:
                effect["masks"] = {"before": old_masks, "after": new_masks}
            effects.append(effect)
        return cls(effects, pairs.skipped)

    def to_dict(self) -> dict[str, Any]:
        return {"changes": self.effects, "skipped": self.skipped}
