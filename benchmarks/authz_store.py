"""The synthetic mesh of ``authz.py`` written into a real hub store, and timings through the
governance services (the path a request takes: a transaction, the policy version check, the
policy index kept up to date from the change log).

Used by ``authz.py``; the store is built once per size and seed under ``benchmarks/.data`` and
copied for each run, since the run adds grants and tags to it.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.authz import decisions
from lakemesh.authz.state import full_loads, policy_index
from lakemesh.bootstrap import init_home
from lakemesh.governance import grants, tag_assignments
from lakemesh.governance.grants import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.identity.tokens import authenticate
from lakemesh.model.actors import Actor
from lakemesh.model.names import PrincipalName, ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy import FilterTarget, MaskRule, ResourceTarget, TagTarget
from lakemesh.store.schema import (
    Column,
    Database,
    DataFilterRow,
    Domain,
    Grant,
    GroupMember,
    Principal,
    Table,
    TagAssignment,
    TagKey,
    TagValue,
)
from lakemesh.store.schema import MaskRule as MaskRow

DATA = Path(__file__).parent / ".data"
CHUNK = 20_000


def _insert(session: Session, model: type[Any], rows: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            session.execute(insert(model), batch)
            batch = []
    if batch:
        session.execute(insert(model), batch)


class StoreWriter:
    """Writes the mesh with explicit ids, so references need no lookups."""

    def __init__(self, session: Session, mesh: Any, keys: list[str], masks: list[MaskRule]):
        self.session = session
        self.mesh = mesh
        self.keys = keys
        self.masks = masks
        self.now = clock.now()
        self.domains: dict[str, int] = {}
        self.databases: dict[tuple[str, str], int] = {}
        self.tables: dict[ResourceName, int] = {}
        self.principals: dict[PrincipalName, int] = {}
        self.values: dict[tuple[str, str], tuple[int, int]] = {}

    def write(self, columns: tuple[str, ...], values_of: Callable[[str], list[str]]) -> None:
        names = list(self.mesh.table_names())
        for name in names:
            self.domains.setdefault(name.domain, 1000 + len(self.domains))
            key = (name.domain, name.database or "")
            self.databases.setdefault(key, len(self.databases) + 1)
        self.tables = {name: number + 1 for number, name in enumerate(names)}
        for principal in [*self.mesh.groups, *self.mesh.users]:
            self.domains.setdefault(principal.domain, 1000 + len(self.domains))
        now = self.now
        _insert(
            self.session,
            Domain,
            (
                {"id": i, "name": n, "producer": True, "consumer": True, "created_at": now}
                for n, i in self.domains.items()
            ),
        )
        self._principals()
        _insert(
            self.session,
            Database,
            (
                {"id": i, "domain_id": self.domains[d], "name": db, "created_at": now}
                for (d, db), i in self.databases.items()
            ),
        )
        _insert(
            self.session,
            Table,
            (
                {
                    "id": i,
                    "database_id": self.databases[(n.domain, n.database or "")],
                    "name": n.table,
                    "location": f"/bench/{n.domain}/{n.database}/{n.table}",
                    "format": "parquet",
                    "properties": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for n, i in self.tables.items()
            ),
        )
        width = len(columns)
        _insert(
            self.session,
            Column,
            (
                {
                    "id": (table_id - 1) * width + position + 1,
                    "table_id": table_id,
                    "name": column,
                    "type": "VARCHAR",
                    "position": position,
                }
                for table_id in self.tables.values()
                for position, column in enumerate(columns)
            ),
        )
        self._tags(columns, values_of)
        self._grants(columns)
        _insert(
            self.session,
            MaskRow,
            (
                {
                    "name": m.name,
                    "tag_expression": str(m.expression),
                    "function": m.function,
                    "created_by": "benchmark",
                    "created_at": now,
                }
                for m in self.masks
            ),
        )

    def _principals(self) -> None:
        mesh, now = self.mesh, self.now
        everyone = [*mesh.groups, *mesh.users]
        self.principals = {p: 10_000 + number for number, p in enumerate(everyone)}
        _insert(
            self.session,
            Principal,
            (
                {
                    "id": i,
                    "ref": str(p),
                    "kind": p.kind,
                    "name": p.name,
                    "domain_id": self.domains[p.domain],
                    "attributes": (
                        {"region": random.Random(p.name).choice(["EU", "US"])}
                        if p.kind == "user"
                        else {}
                    ),
                    "created_at": now,
                }
                for p, i in self.principals.items()
            ),
        )
        _insert(
            self.session,
            GroupMember,
            (
                {"group_id": self.principals[group], "member_id": self.principals[member]}
                for member, group in mesh.memberships
            ),
        )

    def _tags(self, columns: tuple[str, ...], values_of: Callable[[str], list[str]]) -> None:
        now = self.now
        _insert(
            self.session,
            TagKey,
            ({"id": n + 1, "key": k, "created_at": now} for n, k in enumerate(self.keys)),
        )
        rows = []
        for key_id, key in enumerate(self.keys, start=1):
            for value in values_of(key):
                rows.append({"id": len(rows) + 1, "key_id": key_id, "value": value})
                self.values[(key, value)] = (key_id, len(rows))
        _insert(self.session, TagValue, rows)
        position = {column: number for number, column in enumerate(columns)}

        def assignment(resource: ResourceName, key: str, value: str) -> dict[str, Any]:
            key_id, value_id = self.values[(key, value)]
            row: dict[str, Any] = {"key_id": key_id, "value_id": value_id}
            if resource.level == "database":
                row["database_id"] = self.databases[(resource.domain, resource.database or "")]
            elif resource.level == "table":
                row["table_id"] = self.tables[resource]
            else:
                table_id = self.tables[resource.table_name]
                row["column_id"] = (
                    (table_id - 1) * len(columns) + position[resource.column or ""] + 1
                )
            return row

        seen: set[tuple[ResourceName, str]] = set()
        unique = []
        for tag in self.mesh.tags():
            if (tag.resource, tag.key) not in seen:  # one value per key per resource
                seen.add((tag.resource, tag.key))
                unique.append(assignment(tag.resource, tag.key, tag.value))
        _insert(self.session, TagAssignment, unique)

    def _grants(self, columns: tuple[str, ...]) -> None:
        now = self.now
        filters, rows = [], []
        for rule in self.mesh.grants:
            row: dict[str, Any] = {
                "id": rule.id,
                "grantee_id": self.principals[rule.grantee],
                "permissions": sorted(p.value for p in rule.permissions),
                "with_grant_option": False,
                "excluded_columns": [],
                "granted_by": "benchmark",
                "created_at": now,
            }
            target = rule.target
            if isinstance(target, TagTarget):
                row |= {
                    "target_kind": "tag",
                    "tag_expression": str(target.expression),
                    "tag_resource_type": target.resource_type,
                }
            elif isinstance(target, ResourceTarget):
                resource = target.resource
                row["target_kind"] = "resource"
                if resource.level == "database":
                    row["database_id"] = self.databases[(resource.domain, resource.database or "")]
                else:
                    row["table_id"] = self.tables[resource]
                    included = target.choice.columns
                    row["columns"] = sorted(included) if included is not None else None
            elif isinstance(target, FilterTarget):
                data_filter = target.data_filter
                included = data_filter.choice.columns
                filters.append(
                    {
                        "id": len(filters) + 1,
                        "table_id": self.tables[data_filter.table],
                        "name": data_filter.name,
                        "predicate": data_filter.predicate,
                        "columns": sorted(included) if included is not None else None,
                        "excluded_columns": [],
                        "created_by": "benchmark",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                row |= {"target_kind": "filter", "filter_id": len(filters)}
            rows.append(row)
        _insert(self.session, DataFilterRow, filters)
        # Every row of one executemany must name the same columns.
        keys = sorted({key for row in rows for key in row})
        _insert(self.session, Grant, ({key: row.get(key) for key in keys} for row in rows))


def build_store(
    home: Path,
    mesh: Any,
    *,
    keys: list[str],
    columns: tuple[str, ...],
    values_of: Callable[[str], list[str]],
    masks: list[MaskRule],
) -> str:
    """The hub home with the mesh in its store (reused when built before); the admin token."""
    domains = len({name.domain for name in mesh.table_names()})
    shape = "" if domains == 1 else f"-{domains}d"  # one domain: the name of earlier runs
    cached = DATA / f"authz-store-{mesh.tables}-{mesh.seed}{shape}"
    token_file = cached / "admin-token"
    if not token_file.exists():
        shutil.rmtree(cached, ignore_errors=True)
        started = time.perf_counter()
        initialised = init_home(cached / "home")
        with initialised.hub.transaction() as session:
            StoreWriter(session, mesh, keys, masks).write(columns, values_of)
        initialised.hub.close()
        token_file.write_text(initialised.token.token)
        print(f"store written once to {cached} in {time.perf_counter() - started:.1f} s")
    shutil.copytree(cached / "home", home)
    return token_file.read_text()


def _actor(hub: Hub, ref: str, cache: dict[str, Actor]) -> Actor:
    if ref not in cache:
        with hub.read() as session:
            cache[ref] = load_actor(session, get_principal(session, ref))
    return cache[ref]


def run_service(
    home: Path,
    token: str,
    mesh: Any,
    *,
    samples: list[tuple[PrincipalName, ResourceName]],
    changes: int,
    percentiles: Callable[[list[float]], str],
    seed: int,
) -> None:
    """Decisions and changes through the services, on two hubs sharing one store: ``writer``
    (another hub process) makes each change, ``reader`` decides the next request."""
    reader, writer = Hub(home=home), Hub(home=home)
    rng = random.Random(seed)
    try:
        with writer.read() as session:
            admin = authenticate(session, token)
        started = time.perf_counter()
        with reader.read() as session:
            policy_index(session)
        print(
            f"service: policy index loaded from the store in {time.perf_counter() - started:.1f} s"
        )
        with writer.read() as session:  # the other hub process is running already too
            policy_index(session)
        actors: dict[str, Actor] = {}

        def decide(user: PrincipalName, table: ResourceName) -> bool:
            actor = _actor(reader, str(user), actors)
            with reader.read() as session:
                decision = decisions.decide(
                    session, actor=actor, permission=Permission.SELECT, resource=table
                )
            return decision.allowed

        for user, table in samples[:200]:  # warm up
            decide(user, table)
        timings = []
        for user, table in samples:
            start = time.perf_counter()
            decide(user, table)
            timings.append(time.perf_counter() - start)
        print(
            f"service: SELECT decision in a read transaction ({len(timings):,}): "
            f"{percentiles(timings)}"
        )

        names = list(mesh.table_names())
        granting, visible, tagging, retagged = [], [], [], []
        for _ in range(changes):
            user, table = rng.choice(mesh.users), rng.choice(names)
            _actor(reader, str(user), actors)
            request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=str(table))
            start = time.perf_counter()
            with writer.transaction() as session:
                grants.grant(session, actor=admin, grantee=str(user), request=request)
            committed = time.perf_counter()
            allowed = decide(user, table)
            visible.append(time.perf_counter() - committed)
            granting.append(committed - start)
            assert allowed, f"the grant on {table} to {user} is not visible"
            database = f"{table.domain}.{table.database}"
            start = time.perf_counter()
            with writer.transaction() as session:
                tag_assignments.assign_tags(
                    session,
                    actor=admin,
                    resource=database,
                    tags={"k01": rng.choice(["v00", "v01"])},
                )
            committed = time.perf_counter()
            decide(user, table)
            retagged.append(time.perf_counter() - committed)
            tagging.append(committed - start)
        print(f"service: grant transaction (another hub): {percentiles(granting)}")
        print(
            f"service: new grant visible to the next decision on this hub: "
            f"{percentiles(visible)} (target 50 ms)"
        )
        print(f"service: database tag transaction (another hub): {percentiles(tagging)}")
        print(f"service: database tag change visible to the next decision: {percentiles(retagged)}")
        inside = []
        for _ in range(max(1, changes // 5)):
            user, table = rng.choice(mesh.users), rng.choice(names)
            actor = _actor(reader, str(user), actors)
            request = GrantRequest(permissions=frozenset({Permission.SELECT}), on=str(table))
            start = time.perf_counter()
            with writer.transaction() as session:
                grants.grant(session, actor=admin, grantee=str(user), request=request)
                decision = decisions.decide(
                    session, actor=actor, permission=Permission.SELECT, resource=table
                )
            inside.append(time.perf_counter() - start)
            assert decision.allowed
        print(
            f"service: a grant and a decision on it in one transaction (as approving a "
            f"subscription does): {percentiles(inside)}"
        )
        retag_inside = []
        for _ in range(max(1, changes // 5)):
            user, table = rng.choice(mesh.users), rng.choice(names)
            actor = _actor(reader, str(user), actors)
            start = time.perf_counter()
            with writer.transaction() as session:
                tag_assignments.assign_tags(
                    session,
                    actor=admin,
                    resource=f"{table.domain}.{table.database}",
                    tags={"k02": rng.choice(["v00", "v01"])},
                )
                decisions.decide(session, actor=actor, permission=Permission.SELECT, resource=table)
            retag_inside.append(time.perf_counter() - start)
        print(
            f"service: a tag change and a decision in one transaction (the index's tables "
            f"copied for it): {percentiles(retag_inside)}"
        )
        print(
            f"service: full loads of the policy index: {full_loads(reader)} on this hub, "
            f"{full_loads(writer)} on the other"
        )
    finally:
        reader.close()
        writer.close()
