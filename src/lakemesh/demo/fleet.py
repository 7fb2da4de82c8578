"""Onboarding at scale from files: a generated mesh of many producer and consumer domains, written
as mesh files (``lakemesh apply DIR`` onboards them all in one command) beside real Parquet data.

Domains alternate: ``p01`` (producer), ``c02`` (consumer), ``p03``, ... Every domain has an admin,
two analysts in ``group:analysts@<domain>`` (region EU and NA) and an ETL service. A producer
owns a location with a database ``core`` of small Parquet tables (``id, region, email, amount,
day``; ``email`` tagged pii), publishes them as the product ``<domain>_core``, lets its own
analysts read the database, and lets the next consumer's analysts read the first table through
the regional filter ``by_region``. Each consumer subscribes (approved, without ``email``) to the
products of the two producers before it; every consumer analyst reads the mesh's public tables
through one tag grant. The files are deterministic: the same arguments give the same bytes. They
are laid out by ``lakemesh.demo.mesh_builder.MeshBuilder``, as the random meshes are.

>>> from pathlib import Path
>>> fleet = generate_fleet(Path("/tmp/fleet/files"), data=Path("/tmp/fleet/data"))  # doctest: +SKIP
>>> fleet.producers[:2], fleet.tables  # doctest: +SKIP
(['p01', 'p03'], 75)
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from lakemesh.demo.mesh_builder import MeshBuilder
from lakemesh.demo.synth import write_parquet
from lakemesh.meshfile import write_files
from lakemesh.meshfile.model import (
    AttributeSpec,
    ColumnSpec,
    FilterSpec,
    GrantSpec,
    MaskSpec,
    MeshFile,
    PrincipalSpec,
    ProductSpec,
    SubscriptionSpec,
    TagSpec,
)
from lakemesh.model.actors import GOVERNANCE

REGIONS = ["APAC", "EU", "NA"]
COLUMNS = (("id", "BIGINT"), ("region", "VARCHAR"), ("email", "VARCHAR"), ("amount", "DOUBLE"))
DAY = ("day", "DATE")
MESH_ADMIN = "user:admin@governance"
SUBSCRIPTIONS_PER_CONSUMER = 2


@dataclass(frozen=True)
class Fleet:
    """What was generated: the domains and how many tables and grants the files hold."""

    files: Path
    data: Path
    producers: list[str]
    consumers: list[str]
    tables: int
    grants: int


def domain_names(domains: int) -> tuple[list[str], list[str]]:
    """``(producers, consumers)``: odd numbers produce, even ones consume.

    >>> domain_names(4)
    (['p01', 'p03'], ['c02', 'c04'])
    """
    producers = [f"p{n:02d}" for n in range(1, domains + 1, 2)]
    consumers = [f"c{n:02d}" for n in range(2, domains + 1, 2)]
    return producers, consumers


def generate_fleet(
    files: Path,
    *,
    data: Path,
    domains: int = 50,
    tables_per_producer: int = 3,
    rows: int = 20,
    seed: int = 7,
) -> Fleet:
    """Write the mesh files of ``domains`` domains under ``files`` and their Parquet data under
    ``data`` (both folders are created; existing files are overwritten)."""
    producers, consumers = domain_names(domains)
    builder = MeshBuilder(data.absolute(), steward=MESH_ADMIN, description="Mesh administration.")
    for number, producer in enumerate(producers):
        reader = consumers[number] if number < len(consumers) else None
        _producer(builder, producer, tables_per_producer, rows, seed, reader)
    subscriptions = 0
    for number, consumer in enumerate(consumers):
        sources = producers[max(0, number + 1 - SUBSCRIPTIONS_PER_CONSUMER) : number + 1]
        _consumer(builder, consumer, sources)
        subscriptions += len(sources)
    mesh = MeshFile(
        tags=[
            TagSpec(key="owner", values=sorted([GOVERNANCE, *producers, *consumers])),
            TagSpec(key="sensitivity", values=["internal", "pii", "public"]),
        ],
        attributes=[AttributeSpec(key="region", values=REGIONS)],
        masks=[MaskSpec(name="pii_hash", on_tags="sensitivity=pii", function="hash")],
    )
    write_files(builder.files(mesh), files)
    tables = len(producers) * tables_per_producer
    return Fleet(files, data, producers, consumers, tables, builder.grants + subscriptions)


def _people(domain: str) -> list[PrincipalSpec]:
    return [
        PrincipalSpec(name=f"group:analysts@{domain}", members=_analysts(domain)),
        PrincipalSpec(name=f"service:etl@{domain}"),
        PrincipalSpec(name=f"user:admin@{domain}"),
        PrincipalSpec(name=f"user:analyst1@{domain}", attributes={"region": "EU"}),
        PrincipalSpec(name=f"user:analyst2@{domain}", attributes={"region": "NA"}),
    ]


def _analysts(domain: str) -> list[str]:
    return [f"user:analyst1@{domain}", f"user:analyst2@{domain}"]


def _producer(
    builder: MeshBuilder, domain: str, tables: int, rows: int, seed: int, reader: str | None
) -> None:
    folder = builder.domain(
        domain, principals=_people(domain), producer=True, description=f"Producer {domain}."
    )
    builder.database(domain, "core", tags={"owner": domain, "sensitivity": "internal"})
    names = [f"t{number}" for number in range(1, tables + 1)]
    for name in names:
        rng = random.Random(f"{seed}/{domain}/{name}")
        _write_table(builder.location(domain, "core", name), rows, rng)
        builder.table(
            f"{domain}.core",
            name,
            [
                ColumnSpec(
                    name=column,
                    type=kind,
                    tags={"sensitivity": "pii"} if column == "email" else {},
                )
                for column, kind in (*COLUMNS, DAY)
            ],
            tags={"sensitivity": "public"} if name == "t1" else {},
        )
    first = f"{domain}.core.t1"
    builder.filter(
        FilterSpec(name="by_region", table=first, rows="region = principal_attribute('region')")
    )
    builder.grant(
        GrantSpec(on=f"{domain}.core", to=f"group:analysts@{domain}", permissions=["SELECT"])
    )
    if reader is not None:
        builder.grant(
            GrantSpec(
                on=first, filter="by_region", to=f"group:analysts@{reader}", permissions=["SELECT"]
            )
        )
    folder.products.products.append(
        ProductSpec(
            name=f"{domain}_core",
            title=f"Core tables of {domain}",
            owner=f"user:admin@{domain}",
            tags={"owner": domain, "sensitivity": "internal"},
            version="1.0.0",
            tables=[f"{domain}.core.{name}" for name in names],
        )
    )


def _consumer(builder: MeshBuilder, domain: str, sources: list[str]) -> None:
    """A consumer domain (no location) subscribed to ``sources``' products, whose analysts read
    the mesh's public tables."""
    folder = builder.domain(
        domain,
        principals=_people(domain),
        consumer=True,
        description=f"Consumer {domain}.",
        location=False,
    )
    folder.products.subscriptions.extend(
        SubscriptionSpec(
            product=f"{source}_core",
            principal=f"group:analysts@{domain}",
            reason=f"{domain} reports on {source}",
            exclude_columns=["email"],
            status="approved",
        )
        for source in sources
    )
    builder.grant(
        GrantSpec(
            on_tags="sensitivity=public", to=f"group:analysts@{domain}", permissions=["SELECT"]
        )
    )


def _write_table(folder: Path, rows: int, rng: random.Random) -> None:
    start = datetime.date(2025, 1, 1)
    table = pa.table(
        {
            "id": pa.array(range(1, rows + 1), pa.int64()),
            "region": pa.array([rng.choice(REGIONS) for _ in range(rows)], pa.string()),
            "email": pa.array([f"user{rng.randrange(10**6)}@example.com" for _ in range(rows)]),
            "amount": pa.array([round(rng.uniform(1, 500), 2) for _ in range(rows)], pa.float64()),
            "day": pa.array(
                [start + datetime.timedelta(days=rng.randrange(365)) for _ in range(rows)],
                pa.date32(),
            ),
        }
    )
    write_parquet(table, folder)
