"""Authorization benchmark: the policy index on a synthetic mesh, and cedarpy on the same grants.

A script that prints figures (not a test). Defaults follow issue 3: 100,000 tables of 10 columns,
tags on databases, tables and some columns; 1,000 principals in 100 groups; 50 tag keys of 20
values; 5,000 grants, mostly on tag expressions. Targets on this machine: SELECT decision p99
<= 0.5 ms, listing the tables a principal may SELECT <= 100 ms, a new grant visible to the next
decision <= 50 ms.

    .venv/bin/python benchmarks/authz.py                 # full size
    .venv/bin/python benchmarks/authz.py --tables 5000   # quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakemesh.model.names import PrincipalName, ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy import (
    CatalogTable,
    ColumnChoice,
    DataFilter,
    Decision,
    FilterTarget,
    GrantRule,
    MaskRule,
    PolicyIndex,
    PrincipalFacts,
    ResourceTarget,
    Subject,
    TagAssignment,
    TagTarget,
    parse_tag_expression,
)
from lakemesh.policy.predicates import validate_predicate
from lakemesh.policy.tag_expressions import TagAnd, TagAtom, TagNode, TagNot, TagOr

sys.path.insert(0, str(Path(__file__).parent))
from authz_store import build_store, run_service

SELECT = frozenset({Permission.SELECT})
KEYS = ["sensitivity", *(f"k{number:02d}" for number in range(1, 50))]
SENSITIVITY = ["public", "internal", "confidential", "pii", *(f"s{n:02d}" for n in range(16))]
VALUES = [f"v{number:02d}" for number in range(20)]
COLUMNS = ("id", "region", "name", "email", "phone", "amount", "created", "status", "note", "ref")


@dataclass
class Mesh:
    """The synthetic mesh, generated lazily so the index build can be measured end to end."""

    tables: int
    seed: int
    databases_per_domain: int = 50
    tables_per_database: int = 100
    users: list[PrincipalName] = field(default_factory=list)
    groups: list[PrincipalName] = field(default_factory=list)
    memberships: list[tuple[PrincipalName, PrincipalName]] = field(default_factory=list)
    grants: list[GrantRule] = field(default_factory=list)

    def table_names(self) -> Iterator[ResourceName]:
        for number in range(self.tables):
            database = number // self.tables_per_database
            domain = database // self.databases_per_domain
            yield ResourceName(f"d{domain:02d}", f"db{database:04d}", f"t{number:06d}")

    def catalog(self) -> Iterator[CatalogTable]:
        for name in self.table_names():
            yield CatalogTable(name, COLUMNS)

    def tags(self) -> Iterator[TagAssignment]:
        rng = random.Random(self.seed)
        seen: set[tuple[str, str]] = set()
        for name in self.table_names():
            database = ResourceName(name.domain, name.database)
            if (name.domain, name.database or "") not in seen:
                seen.add((name.domain, name.database or ""))
                for key in ("k01", "k02", "k03"):
                    yield TagAssignment(database, key, rng.choice(VALUES))
            level = rng.choices(SENSITIVITY[:4], weights=(45, 35, 15, 5))[0]
            yield TagAssignment(name, "sensitivity", level)
            for key in rng.sample(KEYS[4:], 2):
                yield TagAssignment(name, key, rng.choice(VALUES))
            for column in COLUMNS:
                draw = rng.random()
                if draw < 0.10:
                    yield TagAssignment(
                        ResourceName(name.domain, name.database, name.table, column),
                        "sensitivity",
                        "pii",
                    )
                elif draw < 0.13:
                    yield TagAssignment(
                        ResourceName(name.domain, name.database, name.table, column),
                        rng.choice(KEYS[4:]),
                        rng.choice(VALUES),
                    )

    def principals(self) -> None:
        rng = random.Random(self.seed + 1)
        self.groups = [PrincipalName("group", f"g{n:03d}", f"d{n % 20:02d}") for n in range(100)]
        self.users = [PrincipalName("user", f"u{n:04d}", f"d{n % 20:02d}") for n in range(1000)]
        for user in self.users:
            for group in rng.sample(self.groups, rng.randint(1, 3)):
                self.memberships.append((user, group))
        for inner in self.groups[:10]:  # nested groups
            self.memberships.append((inner, rng.choice(self.groups[10:])))

    def expression(self, rng: random.Random) -> str:
        v = rng.choice
        kx, ky = rng.sample(KEYS[4:], 2)
        return rng.choice(
            [
                f"sensitivity=public|internal AND k01={v(VALUES)}",
                f"k01={v(VALUES)}|{v(VALUES)} AND k02={v(VALUES)}",
                f"sensitivity=public AND ({kx}={v(VALUES)} OR {ky}={v(VALUES)})",
                f"k01={v(VALUES)} AND NOT sensitivity=pii",
                f"{kx}!={v(VALUES)} AND k03={v(VALUES)}|{v(VALUES)}",
                f"sensitivity=public|internal|confidential AND k02={v(VALUES)}",
            ]
        )

    def make_grants(self, count: int) -> None:
        rng = random.Random(self.seed + 2)
        names = self.tables
        for number in range(1, count + 1):
            grantee = rng.choice(self.groups) if rng.random() < 0.4 else rng.choice(self.users)
            draw = rng.random()
            table_number = rng.randrange(names)
            database = table_number // self.tables_per_database
            domain = f"d{database // self.databases_per_domain:02d}"
            table = ResourceName(domain, f"db{database:04d}", f"t{table_number:06d}")
            if draw < 0.80:
                target: Any = TagTarget(parse_tag_expression(self.expression(rng)))
            elif draw < 0.88:
                target = ResourceTarget(ResourceName(domain, f"db{database:04d}"))
            elif draw < 0.92:
                choice = ColumnChoice(frozenset(rng.sample(COLUMNS, 4)))
                target = ResourceTarget(table, choice)
            else:
                predicate = validate_predicate(
                    "region = principal_attribute('region') AND amount > 10", columns=COLUMNS
                )
                choice = ColumnChoice(frozenset(rng.sample(COLUMNS, 5)))
                target = FilterTarget(DataFilter(f"f{number}", table, predicate, choice))
            self.grants.append(GrantRule(number, grantee, SELECT, target))


MASKS = [
    MaskRule("pii_hash", parse_tag_expression("sensitivity=pii"), "hash"),
    MaskRule("confidential_redact", parse_tag_expression("sensitivity=confidential"), "redact"),
]


def build_index(mesh: Mesh) -> PolicyIndex:
    return PolicyIndex.build(
        tables=mesh.catalog(),
        tags=mesh.tags(),
        grants=mesh.grants,
        masks=MASKS,
        principals=[
            PrincipalFacts(user, {"region": random.Random(user.name).choice(["EU", "US"])})
            for user in mesh.users
        ],
        memberships=mesh.memberships,
    )


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms, max {ordered[-1] * 1e3:.3f} ms"


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


# -- cedar -------------------------------------------------------------------------------------


def cedar_condition(node: TagNode) -> str:
    if isinstance(node, TagAtom):
        values = ", ".join(json.dumps(value) for value in node.values)
        test = (
            f'(resource.tags has "{node.key}" && [{values}].contains(resource.tags["{node.key}"]))'
        )
        return f"!{test}" if node.negated else test
    if isinstance(node, TagNot):
        return f"!({cedar_condition(node.operand)})"
    joiner = " && " if isinstance(node, TagAnd) else " || "
    assert isinstance(node, TagAnd | TagOr)
    return "(" + joiner.join(cedar_condition(operand) for operand in node.operands) + ")"


def cedar_uid(kind: str, name: object) -> str:
    return f"{kind}::{json.dumps(str(name))}"


def cedar_policy(rule: GrantRule) -> str:
    kind = "Group" if rule.grantee.kind == "group" else "User"
    head = f"permit(principal in {cedar_uid(kind, rule.grantee)}, "
    head += 'action == Action::"SELECT", resource)'
    target = rule.target
    if isinstance(target, TagTarget):
        return f"{head} when {{ {cedar_condition(target.expression.root)} }};"
    if isinstance(target, FilterTarget):
        table, choice = target.data_filter.table, target.data_filter.choice
    else:
        assert isinstance(target, ResourceTarget)
        if not target.choice.restricted:
            kind = "Database" if target.resource.level == "database" else "Table"
            return f"{head} when {{ resource in {cedar_uid(kind, target.resource)} }};"
        table, choice = target.resource, target.choice
    columns = ", ".join(cedar_uid("Column", f"{table}.{c}") for c in sorted(choice.columns or ()))
    return f"{head} when {{ resource in [{columns}] }};"


def cedar_entities(index: PolicyIndex, mesh: Mesh, user: PrincipalName, table: ResourceName) -> str:
    subject = index.subject(user)
    direct: dict[PrincipalName, list[PrincipalName]] = {}
    for member, group in mesh.memberships:
        direct.setdefault(member, []).append(group)
    entities: list[dict[str, Any]] = []

    def uid(kind: str, name: object) -> dict[str, str]:
        return {"type": kind, "id": str(name)}

    for principal in (user, *subject.groups):
        kind = "User" if principal.kind == "user" else "Group"
        parents = [uid("Group", group) for group in direct.get(principal, [])]
        entities.append({"uid": uid(kind, principal), "attrs": {}, "parents": parents})
    facts = index.table_facts(table)
    database = ResourceName(table.domain, table.database)
    entities.append({"uid": uid("Database", database), "attrs": {}, "parents": []})
    entities.append(
        {"uid": uid("Table", table), "attrs": {}, "parents": [uid("Database", database)]}
    )
    for column in facts.columns:
        entities.append(
            {
                "uid": uid("Column", f"{table}.{column}"),
                "attrs": {"tags": dict(facts.tags_of(column))},
                "parents": [uid("Table", table)],
            }
        )
    return json.dumps(entities)


def run_cedar(
    index: PolicyIndex, mesh: Mesh, samples: list[tuple[PrincipalName, ResourceName]]
) -> tuple[list[float], int]:
    import cedarpy

    text = "\n".join(cedar_policy(rule) for rule in mesh.grants)
    parse_time, policies = timed(lambda: cedarpy.PolicySet.from_str(text))
    print(f"cedar: {len(mesh.grants)} policies parsed in {parse_time:.2f} s")
    timings: list[float] = []
    agree = 0
    for user, table in samples:
        entities = cedarpy.Entities.from_json_str(cedar_entities(index, mesh, user, table))
        facts = index.table_facts(table)
        requests = [
            {
                "principal": cedar_uid("User", user),
                "action": 'Action::"SELECT"',
                "resource": cedar_uid("Column", f"{table}.{column}"),
                "context": {},
            }
            for column in facts.columns
        ]
        elapsed, results = timed(
            lambda r=requests, e=entities: cedarpy.is_authorized_batch(r, policies, e)
        )
        timings.append(elapsed)
        cedar_columns = tuple(
            c for c, result in zip(facts.columns, results, strict=True) if result.allowed
        )
        ours = index.decide(
            subject=index.subject(user), permission=Permission.SELECT, resource=table
        )
        agree += cedar_columns == ours.columns
    return timings, agree


# -- the run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=5_000)
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument("--listings", type=int, default=50)
    parser.add_argument("--cedar-decisions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--changes", type=int, default=50, help="grants and tag changes timed through the service"
    )
    parser.add_argument(
        "--skip-service", action="store_true", help="time the policy index alone, not the hub"
    )
    args = parser.parse_args()

    mesh = Mesh(args.tables, args.seed)
    mesh.principals()
    mesh.make_grants(args.grants)
    print(
        f"mesh: {args.tables:,} tables x {len(COLUMNS)} columns, {len(mesh.users):,} users in "
        f"{len(mesh.groups)} groups, {len(KEYS)} tag keys x 20 values, {len(mesh.grants):,} grants"
    )

    gc.collect()
    build_time, index = timed(lambda: build_index(mesh))
    print(f"index build: {build_time:.2f} s")
    del index
    gc.collect()
    tracemalloc.start()
    index = build_index(mesh)
    gc.collect()
    memory, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"index memory (tracemalloc, tables and tags included): {memory / 2**20:.1f} MiB")
    # A long-lived index should leave the cyclic collector's scans: without this, a full
    # collection over its millions of objects pauses the process for ~100 ms now and then.
    gc.collect()
    gc.freeze()

    rng = random.Random(args.seed + 3)
    names = list(mesh.table_names())
    subject_times: list[float] = []
    subjects: dict[PrincipalName, Subject] = {}
    for user in mesh.users:
        elapsed, subjects[user] = timed(lambda u=user: index.subject(u))
        subject_times.append(elapsed)

    readable: dict[PrincipalName, list[ResourceName]] = {}

    def draw(count: int) -> list[tuple[PrincipalName, ResourceName]]:
        """Half random tables, half tables the principal may read (allowed decisions)."""
        picked = []
        for number in range(count):
            user = rng.choice(mesh.users)
            if number % 2 and user not in readable:
                readable[user] = index.selectable_tables(subject=subjects[user])
            choices = readable.get(user) if number % 2 else None
            picked.append((user, rng.choice(choices or names)))
        return picked

    def decide(user: PrincipalName, table: ResourceName) -> Decision:
        return index.decide(subject=subjects[user], permission=Permission.SELECT, resource=table)

    for user, table in draw(2_000):  # warm up: lazy caches (bound predicates, descriptions)
        decide(user, table)
    samples = draw(args.decisions)
    timings: list[float] = []
    allowed_timings: list[float] = []
    for user, table in samples:
        elapsed, decision = timed(lambda u=user, t=table: decide(u, t))
        timings.append(elapsed)
        if decision.allowed:
            allowed_timings.append(elapsed)
    grants_per_subject = statistics.mean(len(index.grants_reaching(s)) for s in subjects.values())
    print(f"grants reaching a principal: {grants_per_subject:.1f} on average")
    print(
        f"SELECT decision, one table ({len(timings):,}): {percentiles(timings)} (target p99 0.5 ms)"
    )
    print(f"  allowed ones ({len(allowed_timings):,}): {percentiles(allowed_timings)}")
    print(f"  building a subject (transitive groups, roles): {percentiles(subject_times)}")

    cold: list[float] = []
    warm: list[float] = []
    sizes: list[int] = []
    for user in rng.sample(mesh.users, min(args.listings, len(mesh.users))):
        index.set_tag(resource=names[0], key="k49", value=rng.choice(VALUES))  # clears the cache
        elapsed, listed = timed(lambda u=user: index.selectable_tables(subject=subjects[u]))
        cold.append(elapsed)
        sizes.append(len(listed))
        warm.append(timed(lambda u=user: index.selectable_tables(subject=subjects[u]))[0])
    print(
        f"listing selectable tables ({len(cold)} principals, {statistics.mean(sizes):,.0f} tables "
        f"each on average): cold {percentiles(cold)}; warm {percentiles(warm)} (target 100 ms)"
    )

    visible: list[float] = []
    retag: list[float] = []
    for number in range(50):
        user, table = rng.choice(mesh.users), rng.choice(names)
        rule = GrantRule(10_000_000 + number, user, SELECT, ResourceTarget(table))
        start = time.perf_counter()
        index.add_grant(rule)
        decision = index.decide(
            subject=subjects[user], permission=Permission.SELECT, resource=table
        )
        visible.append(time.perf_counter() - start)
        assert decision.allowed
        database = ResourceName(table.domain, table.database)
        start = time.perf_counter()
        index.set_tag(resource=database, key="k01", value=rng.choice(VALUES))
        decide(user, table)
        retag.append(time.perf_counter() - start)
    print(f"new grant visible to the next decision: {percentiles(visible)} (target 50 ms)")
    print(f"database tag change visible to the next decision: {percentiles(retag)}")

    if args.cedar_decisions:
        picked = rng.sample(samples, min(args.cedar_decisions, len(samples)))
        cedar_timings, agree = run_cedar(index, mesh, picked)
        ours = [timed(lambda u=u, t=t: decide(u, t))[0] for u, t in picked]
        print(
            f"cedarpy, same decisions ({len(picked)}; 1 batch of {len(COLUMNS)} column requests "
            f"each, pre-parsed policies and entities): {percentiles(cedar_timings)}"
        )
        print(f"lakemesh on the same decisions: {percentiles(ours)}")
        ratio = statistics.median(cedar_timings) / statistics.median(ours)
        print(
            f"ratio cedarpy / lakemesh (median): {ratio:.1f}x; "
            f"visible columns agree on {agree}/{len(picked)}"
        )

    if not args.skip_service:
        del index, readable
        gc.unfreeze()
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="lakemesh-authz-") as scratch:
            home = Path(scratch) / "home"
            token = build_store(
                home,
                mesh,
                keys=KEYS,
                columns=COLUMNS,
                values_of=lambda key: SENSITIVITY if key == "sensitivity" else VALUES,
                masks=MASKS,
            )
            run_service(
                home,
                token,
                mesh,
                samples=samples[:2_000],
                changes=args.changes,
                percentiles=percentiles,
                seed=args.seed,
            )


if __name__ == "__main__":
    main()
