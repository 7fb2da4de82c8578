"""Generated meshes as mesh files: the one generator of the meshfile benchmark, the property-based
round-trip test and the onboarding fleet.

``MeshBuilder`` (:mod:`.mesh_builder`) holds the conventions every generated mesh follows; the
fleet lays out its structured onboarding mesh on it, and ``random_mesh`` draws a whole mesh on
it: its sizes and rates come from a ``MeshShape`` and every choice from a ``Source``, a seeded
``random.Random`` (``SeededSource``) for benchmarks or hypothesis draws for property tests, so
the same code makes a 50-domain benchmark mesh and a shrinkable three-domain example.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as storage:
...     files = random_mesh(SeededSource(7), BENCHMARK.scaled(domains=2, tables=8, grants=12),
...                         Path(storage))
>>> [folder.domain.name for folder in files.domains]
['d00', 'd01', 'governance']
>>> sum(len(folder.access.grants) for folder in files.domains)
12
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from lakemesh.demo.mesh_builder import MeshBuilder
from lakemesh.meshfile.model import (
    AttributeSpec,
    ColumnSpec,
    FilterSpec,
    GrantSpec,
    MaskSpec,
    MeshFile,
    MeshFiles,
    PrincipalSpec,
    TableSpec,
    TagSpec,
)

T = TypeVar("T")
Span = tuple[int, int]
"""A count drawn between its two bounds (both included)."""

REGIONS = ("EU", "NA")
REGIONAL_ROWS = "c1 = principal_attribute('region')"
"""The row filter every regional manager shares; column ``c1`` of a generated table is text."""
FILTER_ROWS: dict[str | None, str | None] = {
    None: None,
    "c0 IS NOT NULL": "c0",
    REGIONAL_ROWS: "c1",
}
"""The row predicates a generated filter may have, each with the column it reads."""
GRANT_KINDS = ("domain", "database", "table", "columns", "filter", "tags")


class Source(Protocol):
    """Where a generated mesh's choices come from."""

    def integer(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high``, both included."""
        ...

    def chance(self, probability: float) -> bool:
        """True with ``probability`` (never drawn when it is 0 or 1)."""
        ...

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options`` (not empty)."""
        ...

    def sample(self, options: Sequence[T], count: int) -> list[T]:
        """``count`` distinct ones of ``options`` (at most all of them)."""
        ...

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        """One of the options of positive weight, about as often as its weight says."""
        ...


class SeededSource:
    """A ``Source`` on ``random.Random``: the same seed gives the same mesh."""

    def __init__(self, seed: int | str) -> None:
        self.random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return low if low >= high else self.random.randint(low, high)

    def chance(self, probability: float) -> bool:
        if probability <= 0 or probability >= 1:
            return probability >= 1
        return self.random.random() < probability

    def choice(self, options: Sequence[T]) -> T:
        return self.random.choice(options)

    def sample(self, options: Sequence[T], count: int) -> list[T]:
        return self.random.sample(list(options), min(count, len(options)))

    def weighted(self, options: Sequence[tuple[T, float]]) -> T:
        kept = [(option, weight) for option, weight in options if weight > 0]
        point = self.random.random() * sum(weight for _, weight in kept)
        for option, weight in kept:
            point -= weight
            if point < 0:
                return option
        return kept[-1][0]


@dataclass(frozen=True)
class TagRule:
    """A tag a generated object carries with ``rate``, one of ``values`` when it does."""

    key: str
    values: tuple[str, ...]
    rate: float


@dataclass(frozen=True)
class MeshShape:
    """The sizes and rates of a random mesh.

    Users and groups are numbered across the mesh and spread over the domains in turn, so a
    domain may have none; each user joins ``memberships`` groups of any domain. Column ``c1``
    of a table is ``VARCHAR`` (the regional filters read it), the others have one of
    ``column_types``. ``grants`` counts distinct grants; a kind of grant with no object to be on
    (a filter grant in a mesh without filters) is not drawn.
    """

    domains: Span
    users: Span
    groups: Span
    memberships: Span
    databases: Span
    tables: Span
    columns: Span
    grants: Span
    vocabulary: dict[str, tuple[str, ...]]
    database_tags: tuple[TagRule, ...]
    table_tags: tuple[TagRule, ...]
    column_tags: tuple[TagRule, ...]
    column_types: tuple[str, ...] = ("BIGINT",)
    formats: tuple[str, ...] = ("parquet",)
    producer_rate: float = 1.0
    consumer_rate: float = 0.0
    attribute_rate: float = 1.0
    properties_rate: float = 0.0
    filter_rate: float = 0.1
    filter_rows: tuple[str | None, ...] = (REGIONAL_ROWS,)
    """Predicates of ``FILTER_ROWS``; a table lacking the column one reads draws another."""
    filter_columns: tuple[int | None, ...] = (6,)
    """How many leading columns a filter keeps (``None``: all)."""
    grant_kinds: dict[str, float] = field(default_factory=dict)
    grantees: dict[str, float] = field(default_factory=lambda: {"user": 0.6, "group": 0.4})
    grant_columns: Span = (4, 4)
    tag_expression_keys: Span = (2, 2)
    tag_expression_values: Span = (1, 1)
    describe_rate: float = 0.0
    """How often a whole-table SELECT grant also gives DESCRIBE."""
    grant_option_rate: float = 0.0
    mask_rate: float = 1.0
    mask_functions: tuple[str, ...] = ("hash",)

    def scaled(self, *, domains: int, tables: int, grants: int) -> MeshShape:
        """This shape with ``domains`` domains of two databases holding ``tables`` tables in
        all (rounded down to a multiple of twice the domains) and ``grants`` grants."""
        per_database = tables // domains // 2
        return dataclasses.replace(
            self,
            domains=(domains, domains),
            databases=(2, 2),
            tables=(per_database, per_database),
            grants=(grants, grants),
        )


BENCHMARK = MeshShape(
    domains=(50, 50),
    users=(1000, 1000),
    groups=(100, 100),
    memberships=(2, 2),
    databases=(2, 2),
    tables=(50, 50),
    columns=(10, 10),
    grants=(10_000, 10_000),
    vocabulary={
        "sensitivity": ("public", "internal", "pii", "confidential"),
        "owner": ("ops", "finance", "growth", "product"),
    },
    database_tags=(TagRule("owner", ("ops", "finance", "growth", "product"), 1.0),),
    table_tags=(TagRule("sensitivity", ("public", "internal"), 1.0),),
    column_tags=(TagRule("sensitivity", ("pii",), 0.1),),
    grant_kinds={"tags": 0.2, "database": 0.1, "columns": 0.2, "filter": 0.1, "table": 0.4},
)
"""The meshfile benchmark's mesh: 50 domains, 5,000 tables of 10 columns, 1,000 users in 100
groups, 10,000 grants, a data filter on about one table in ten."""


def random_mesh(source: Source, shape: MeshShape, storage: Path) -> MeshFiles:
    """A mesh of ``shape`` drawn from ``source``, its locations under ``storage``."""
    builder = MeshBuilder(storage)
    names = [f"d{number:02d}" for number in range(source.integer(*shape.domains))]
    users = [f"user:u{n:04d}@{names[n % len(names)]}" for n in range(source.integer(*shape.users))]
    groups = [
        f"group:g{n:03d}@{names[n % len(names)]}" for n in range(source.integer(*shape.groups))
    ]
    members: dict[str, list[str]] = {group: [] for group in groups}
    for user in users:
        for group in source.sample(groups, source.integer(*shape.memberships)):
            members[group].append(user)
    for name in names:
        principals = [
            PrincipalSpec(
                name=user,
                attributes={"region": source.choice(REGIONS)}
                if source.chance(shape.attribute_rate)
                else {},
            )
            for user in users
            if user.endswith(f"@{name}")
        ] + [
            PrincipalSpec(name=group, members=sorted(members[group]))
            for group in groups
            if group.endswith(f"@{name}")
        ]
        builder.domain(
            name,
            principals=principals,
            producer=source.chance(shape.producer_rate),
            consumer=source.chance(shape.consumer_rate),
        )
        _draw_catalog(source, shape, builder, name)
    wanted = source.integer(*shape.grants)
    # A small mesh may have fewer distinct grants to give than wanted: the draws are bounded.
    for _ in range(20 * wanted):
        if builder.grants == wanted:
            break
        builder.grant(_draw_grant(source, shape, builder, names, users, groups))
    mesh = MeshFile(
        tags=[TagSpec(key=key, values=list(values)) for key, values in shape.vocabulary.items()],
        attributes=[AttributeSpec(key="region", values=list(REGIONS))],
        masks=[
            MaskSpec(
                name="pii", on_tags="sensitivity=pii", function=source.choice(shape.mask_functions)
            )
        ]
        if source.chance(shape.mask_rate)
        else [],
    )
    return builder.files(mesh)


def _tags(source: Source, rules: tuple[TagRule, ...]) -> dict[str, str]:
    return {rule.key: source.choice(rule.values) for rule in rules if source.chance(rule.rate)}


def _draw_catalog(source: Source, shape: MeshShape, builder: MeshBuilder, domain: str) -> None:
    for number in range(source.integer(*shape.databases)):
        database = f"db{number}"
        builder.database(domain, database, tags=_tags(source, shape.database_tags))
        for table in range(source.integer(*shape.tables)):
            columns = [
                ColumnSpec(
                    name=f"c{column}",
                    type="VARCHAR" if column == 1 else source.choice(shape.column_types),
                    tags=_tags(source, shape.column_tags),
                )
                for column in range(source.integer(*shape.columns))
            ]
            spec = builder.table(
                f"{domain}.{database}",
                f"t{table:04d}",
                columns,
                format=source.choice(shape.formats),
                tags=_tags(source, shape.table_tags),
                properties={"owner": "team"} if source.chance(shape.properties_rate) else {},
            )
            if source.chance(shape.filter_rate):
                builder.filter(_draw_filter(source, shape, f"{domain}.{database}", spec))


def _draw_filter(source: Source, shape: MeshShape, database: str, table: TableSpec) -> FilterSpec:
    names = [column.name for column in table.columns]
    usable = [rows for rows in shape.filter_rows if FILTER_ROWS[rows] in (None, *names)]
    rows = source.choice(usable) if usable else None
    keep = source.choice(shape.filter_columns)
    return FilterSpec(
        name="regional" if rows == REGIONAL_ROWS else "rows",
        table=f"{database}.{table.name}",
        rows=rows,
        columns=None if keep is None else names[:keep],
    )


def _draw_grant(
    source: Source,
    shape: MeshShape,
    builder: MeshBuilder,
    domains: list[str],
    users: list[str],
    groups: list[str],
) -> GrantSpec:
    candidates = {"user": users, "group": groups, "domain": [f"domain:{d}" for d in domains]}
    grantee = source.choice(
        candidates[source.weighted([(k, w) for k, w in shape.grantees.items() if candidates[k]])]
    )
    option = source.chance(shape.grant_option_rate)
    possible = {
        "domain": True,
        "database": bool(builder.databases),
        "table": bool(builder.tables),
        "columns": bool(builder.tables),
        "filter": bool(builder.filters),
        "tags": True,
    }
    kind = source.weighted(
        [(k, w) for k, w in shape.grant_kinds.items() if possible[k]] or [("domain", 1.0)]
    )
    if kind == "tags":
        return GrantSpec(
            to=grantee,
            on_tags=_draw_tag_expression(source, shape),
            permissions=["SELECT"],
            with_grant_option=option,
        )
    if kind == "filter":
        chosen = source.choice(builder.filters)
        return GrantSpec(to=grantee, on=chosen.table, filter=chosen.name, permissions=["SELECT"])
    if kind in ("table", "columns"):
        table, spec = source.choice(builder.tables)
        if kind == "columns":
            names = [column.name for column in spec.columns]
            columns = sorted(source.sample(names, source.integer(*shape.grant_columns)))
            return GrantSpec(
                to=grantee,
                on=table,
                columns=columns,
                permissions=["SELECT"],
                with_grant_option=option,
            )
        # DESCRIBE applies to whole tables only.
        describe = source.chance(shape.describe_rate)
        return GrantSpec(
            to=grantee,
            on=table,
            permissions=["SELECT", "DESCRIBE"] if describe else ["SELECT"],
            with_grant_option=option,
        )
    target = source.choice(builder.databases) if kind == "database" else source.choice(domains)
    return GrantSpec(to=grantee, on=target, permissions=["DESCRIBE"], with_grant_option=option)


def _draw_tag_expression(source: Source, shape: MeshShape) -> str:
    """``key=value|value AND key=value``: keys and values of the shape's vocabulary."""
    keys = source.sample(list(shape.vocabulary), source.integer(*shape.tag_expression_keys))
    terms = []
    for key in sorted(keys):
        values = source.sample(shape.vocabulary[key], source.integer(*shape.tag_expression_values))
        terms.append(f"{key}={'|'.join(sorted(values))}")
    return " AND ".join(terms)
