"""Property: any mesh applied into a fresh hub exports files that rebuild, in another fresh hub, a
mesh exporting byte-identical files; and planning a hub's own export changes nothing.

The meshes are drawn by hypothesis: domains with users (with attributes), nested groups across
domains, locations, databases and tables with random columns, tags on databases, tables and
columns, data filters, masks, and grants on domains, databases, tables (column lists), filters and
tag expressions to users, groups and whole domains, with and without grant option.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakemesh import meshfile
from lakemesh.meshfile.model import (
    AttributeSpec,
    CatalogFile,
    ColumnSpec,
    DatabaseSpec,
    DomainFile,
    DomainFolder,
    FilterSpec,
    GrantSpec,
    MaskSpec,
    MeshFile,
    MeshFiles,
    PrincipalSpec,
    TableSpec,
    TagSpec,
)
from tests.conftest import assert_policy_index_current
from tests.meshfile.conftest import STEWARD, export_text, fresh_hub

TAGS = {"sensitivity": ["internal", "pii", "public"], "tier": ["gold", "silver"]}
TYPES = ["BIGINT", "VARCHAR", "DATE", "DOUBLE"]


def _tags(draw: Any, keys: list[str]) -> dict[str, str]:
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=2))
    return {key: draw(st.sampled_from(TAGS[key])) for key in chosen}


def _same_target(first: GrantSpec, second: GrantSpec) -> bool:
    """Two grants the files would hold twice (same grantee, target and grant option)."""
    fields = {"permissions", "derived_from"}
    return first.model_dump(exclude=fields) == second.model_dump(exclude=fields)


@st.composite
def meshes(draw: Any, storage: Path) -> MeshFiles:
    names = [f"d{i}" for i in range(draw(st.integers(1, 3)))]
    users = {name: [f"user:u{i}@{name}" for i in range(draw(st.integers(0, 3)))] for name in names}
    every_user = [ref for refs in users.values() for ref in refs]
    keys = list(TAGS)
    folders: list[DomainFolder] = []
    tables: list[tuple[str, list[str]]] = []
    filters: list[tuple[str, str]] = []
    for name in names:
        principals = [
            PrincipalSpec(
                name=ref,
                attributes=draw(st.sampled_from([{}, {"region": "EU"}, {"region": "NA"}])),
            )
            for ref in users[name]
        ]
        if draw(st.booleans()):
            principals.append(
                PrincipalSpec(
                    name=f"group:g@{name}",
                    members=sorted(draw(st.lists(st.sampled_from(every_user), unique=True)))
                    if every_user
                    else [],
                )
            )
        location = storage / name
        location.mkdir(parents=True, exist_ok=True)
        databases = []
        for d in range(draw(st.integers(0, 2))):
            database_tables = []
            for t in range(draw(st.integers(0, 2))):
                count = draw(st.integers(1, 4))
                columns = [
                    ColumnSpec(
                        name=f"c{c}",
                        type=draw(st.sampled_from(TYPES)),
                        tags=_tags(draw, keys),
                    )
                    for c in range(count)
                ]
                table = f"{name}.db{d}.t{t}"
                tables.append((table, [c.name for c in columns]))
                database_tables.append(
                    TableSpec(
                        name=f"t{t}",
                        location=(location / f"db{d}" / f"t{t}").as_uri(),
                        format=draw(st.sampled_from(["parquet", "csv"])),
                        properties=draw(st.sampled_from([{}, {"owner": "team"}])),
                        tags=_tags(draw, keys),
                        columns=columns,
                    )
                )
            databases.append(
                DatabaseSpec(name=f"db{d}", tags=_tags(draw, keys), tables=database_tables)
            )
        folders.append(
            DomainFolder(
                domain=DomainFile(
                    name=name,
                    producer=draw(st.booleans()),
                    consumer=draw(st.booleans()),
                    admins=[f"user:admin@{name}"],
                    principals=[*principals, PrincipalSpec(name=f"user:admin@{name}")],
                    locations=[location.as_uri()],
                ),
                catalog=CatalogFile(databases=databases),
            )
        )
    for table, columns in tables:
        if draw(st.booleans()):
            folder = next(f for f in folders if f.domain.name == table.split(".")[0])
            folder.access.filters.append(
                FilterSpec(
                    name="f",
                    table=table,
                    rows=draw(st.sampled_from([None, "c0 IS NOT NULL"])),
                    columns=draw(st.sampled_from([None, columns[:1]])),
                )
            )
            filters.append((table, "f"))
    grantees = [*every_user, *(f"domain:{n}" for n in names)] + [
        p.name for f in folders for p in f.domain.principals if p.name.startswith("group:")
    ]
    governance_grants: list[GrantSpec] = []
    for _ in range(draw(st.integers(0, 6))):
        grantee = draw(st.sampled_from(grantees))
        option = draw(st.booleans())
        kind = draw(st.sampled_from(["domain", "database", "table", "filter", "tags"]))
        if kind == "tags":
            key = draw(st.sampled_from(keys))
            values = draw(st.lists(st.sampled_from(TAGS[key]), min_size=1, unique=True))
            tag_grant = GrantSpec(
                to=grantee,
                on_tags=f"{key}={'|'.join(sorted(values))}",
                permissions=["SELECT"],
                with_grant_option=option,
            )
            if not any(_same_target(tag_grant, other) for other in governance_grants):
                governance_grants.append(tag_grant)
            continue
        if kind == "filter" and filters:
            table, filter_name = draw(st.sampled_from(filters))
            spec = GrantSpec(to=grantee, on=table, filter=filter_name, permissions=["SELECT"])
        elif kind in ("table", "filter") and tables:
            table, columns = draw(st.sampled_from(tables))
            chosen = draw(st.sampled_from([None, columns[-1:]]))
            spec = GrantSpec(
                to=grantee,
                on=table,
                columns=chosen,
                # DESCRIBE applies to whole tables only.
                permissions=draw(st.sampled_from([["SELECT"], ["SELECT", "DESCRIBE"]]))
                if chosen is None
                else ["SELECT"],
                with_grant_option=option,
            )
        else:
            domain = draw(st.sampled_from(names))
            spec = GrantSpec(
                to=grantee, on=domain, permissions=["DESCRIBE"], with_grant_option=option
            )
        folder = next(f for f in folders if f.domain.name == (spec.on or "").split(".")[0])
        if not any(_same_target(spec, other) for other in folder.access.grants):
            folder.access.grants.append(spec)
    folders.append(
        DomainFolder(
            domain=DomainFile(
                name="governance",
                description="Mesh administration: stewards, tags, guardrails.",
                admins=[STEWARD],
                principals=[PrincipalSpec(name=STEWARD)],
            ),
        )
    )
    folders[-1].access.grants = governance_grants
    mesh = MeshFile(
        tags=[TagSpec(key=key, values=values) for key, values in TAGS.items()],
        attributes=[AttributeSpec(key="region", values=["EU", "NA"])],
        masks=[MaskSpec(name="pii", on_tags="sensitivity=pii", function="redact")]
        if draw(st.booleans())
        else [],
    )
    return MeshFiles(mesh=mesh, domains=folders)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_random_mesh_rebuilds_from_its_export_byte_identical(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = data.draw(meshes(root / "storage"))
        first = fresh_hub(root / "first")
        second = fresh_hub(root / "second")
        try:
            meshfile.apply_mesh(first.hub, actor=first.admin, files=files)
            exported = export_text(first.hub, first.admin)
            with first.hub.read() as session:
                first_files = meshfile.export_mesh(session, actor=first.admin)
            assert meshfile.plan_mesh(first.hub, actor=first.admin, files=first_files).changes == []
            meshfile.write_files(first_files, root / "export")
            meshfile.apply_mesh(
                second.hub, actor=second.admin, files=meshfile.read_files(root / "export")
            )
            assert export_text(second.hub, second.admin) == exported
            assert_policy_index_current(second.hub)
        finally:
            first.hub.close()
            second.hub.close()
