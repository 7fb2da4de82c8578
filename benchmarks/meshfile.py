"""The mesh as code at scale: a full apply of a generated mesh into an empty hub, its export, and
a plan with no changes (targets: plan ≤ 5 s, full apply ≤ 60 s).

The mesh (50 domains, 5,000 tables of 10 columns, 1,000 users in 100 groups, 10,000 grants by
default) is generated as mesh files: each domain with a location, 2 databases, tags on databases,
tables and columns, a data filter per 10 tables, and grants on tables (some with column lists or
through filters) and databases in the domains' folders, plus tag-expression grants in
``governance/``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from lakemesh import meshfile
from lakemesh.catalog.domains import bootstrap
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
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
from lakemesh.model.actors import Actor

ADMIN = "user:steward@governance"
COLUMNS = [f"c{n}" for n in range(10)]
SENSITIVITY = ["public", "internal", "pii", "confidential"]
OWNERS = ["ops", "finance", "growth", "product"]


def generate(domains: int, tables: int, grants: int, storage: Path, seed: int) -> MeshFiles:
    rng = random.Random(seed)
    users = [f"user:u{n:04d}@d{n % domains:02d}" for n in range(1000)]
    groups = [f"group:g{n:03d}@d{n % domains:02d}" for n in range(100)]
    members: dict[str, list[str]] = {group: [] for group in groups}
    for user in users:
        for group in rng.sample(groups, 2):
            members[group].append(user)
    per_domain = tables // domains
    folders: list[DomainFolder] = []
    table_names: list[tuple[str, str]] = []  # (table, domain)
    filters: list[str] = []
    for d in range(domains):
        name = f"d{d:02d}"
        location = storage / name
        location.mkdir(parents=True, exist_ok=True)
        databases = []
        for b in range(2):
            specs = []
            for t in range(per_domain // 2):
                table = f"t{t:04d}"
                full = f"{name}.db{b}.{table}"
                table_names.append((full, name))
                specs.append(
                    TableSpec(
                        name=table,
                        location=(location / f"db{b}" / table).as_uri(),
                        format="parquet",
                        tags={"sensitivity": rng.choice(SENSITIVITY[:2])},
                        columns=[
                            ColumnSpec(
                                name=column,
                                type="VARCHAR" if column == "c1" else "BIGINT",
                                tags={"sensitivity": "pii"} if rng.random() < 0.1 else {},
                            )
                            for column in COLUMNS
                        ],
                    )
                )
            databases.append(
                DatabaseSpec(name=f"db{b}", tags={"owner": rng.choice(OWNERS)}, tables=specs)
            )
        principals = [
            PrincipalSpec(name=u, attributes={"region": rng.choice(["EU", "US"])})
            for u in users
            if u.endswith(f"@{name}")
        ] + [
            PrincipalSpec(name=g, members=sorted(members[g]))
            for g in groups
            if g.endswith(f"@{name}")
        ]
        folders.append(
            DomainFolder(
                domain=DomainFile(
                    name=name,
                    producer=True,
                    admins=[f"user:admin@{name}"],
                    principals=[*principals, PrincipalSpec(name=f"user:admin@{name}")],
                    locations=[location.as_uri()],
                ),
                catalog=CatalogFile(databases=databases),
            )
        )
    by_name = {folder.domain.name: folder for folder in folders}
    for number, (table, domain) in enumerate(table_names):
        if number % 10 == 0:
            by_name[domain].access.filters.append(
                FilterSpec(
                    name="regional",
                    table=table,
                    rows="c1 = principal_attribute('region')",
                    columns=COLUMNS[:6],
                )
            )
            filters.append(table)
    seen: set[str] = set()
    governance: list[GrantSpec] = []
    while len(seen) < grants:
        grantee = rng.choice(groups) if rng.random() < 0.4 else rng.choice(users)
        draw = rng.random()
        table, domain = rng.choice(table_names)
        if draw < 0.2:
            spec = GrantSpec(
                to=grantee,
                on_tags=f"owner={rng.choice(OWNERS)} AND sensitivity={rng.choice(SENSITIVITY[:2])}",
                permissions=["SELECT"],
            )
        elif draw < 0.3:
            spec = GrantSpec(to=grantee, on=table.rsplit(".", 1)[0], permissions=["DESCRIBE"])
        elif draw < 0.5:
            spec = GrantSpec(
                to=grantee, on=table, columns=sorted(rng.sample(COLUMNS, 4)), permissions=["SELECT"]
            )
        elif draw < 0.6:
            table = rng.choice(filters)
            domain = table.split(".")[0]
            spec = GrantSpec(to=grantee, on=table, filter="regional", permissions=["SELECT"])
        else:
            spec = GrantSpec(to=grantee, on=table, permissions=["SELECT"])
        key = spec.model_dump_json(exclude={"permissions"})
        if key in seen:
            continue
        seen.add(key)
        if spec.on_tags is not None:
            governance.append(spec)
        else:
            by_name[domain].access.grants.append(spec)
    folders.append(
        DomainFolder(
            domain=DomainFile(
                name="governance", admins=[ADMIN], principals=[PrincipalSpec(name=ADMIN)]
            )
        )
    )
    folders[-1].access.grants = governance
    mesh = MeshFile(
        tags=[
            TagSpec(key="sensitivity", values=SENSITIVITY),
            TagSpec(key="owner", values=OWNERS),
        ],
        attributes=[AttributeSpec(key="region", values=["EU", "US"])],
        masks=[MaskSpec(name="pii_hash", on_tags="sensitivity=pii", function="hash")],
    )
    return MeshFiles(mesh=mesh, domains=folders)


def empty_hub(home: Path) -> tuple[Hub, Actor]:
    home.mkdir(parents=True)
    (home / "config.toml").write_text("")
    hub = Hub(home=home)
    with hub.transaction() as session:
        issued = bootstrap(session, admin=ADMIN)
    with hub.read() as session:
        return hub, authenticate(session, issued.token)


def timed(label: str, action: object) -> object:
    """Run ``action``, printing its wall time and this process's CPU time (the machine is
    shared: the CPU time is the figure that does not depend on the neighbours)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = action()  # type: ignore[operator]
    print(
        f"{label}: {time.perf_counter() - started:.2f} s (CPU {time.process_time() - cpu:.2f} s)",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=50)
    parser.add_argument("--tables", type=int, default=5_000)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--atomic", action="store_true", help="apply in one transaction")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakemesh-meshfile-") as scratch:
        root = Path(scratch)
        files = generate(args.domains, args.tables, args.grants, root / "storage", args.seed)
        hub, admin = empty_hub(root / "home")
        try:
            print(
                f"mesh: {args.domains} domains, {args.tables:,} tables, {args.grants:,} grants, "
                f"1,000 users in 100 groups"
            )
            result = timed(
                "full apply into an empty hub" + (" (--atomic)" if args.atomic else ""),
                lambda: meshfile.apply_mesh(hub, actor=admin, files=files, atomic=args.atomic),
            )
            print(f"  {len(result.plan.changes):,} changes in {len(result.committed)} transactions")  # type: ignore[attr-defined]

            def export() -> MeshFiles:
                with hub.read() as session:
                    return meshfile.export_mesh(session, actor=admin)

            exported = timed("export", export)
            written = timed(
                "write the files", lambda: meshfile.write_files(exported, root / "export")
            )
            read = timed("read the files", lambda: meshfile.read_files(root / "export"))
            size = len(read.model_dump_json())  # type: ignore[attr-defined]
            print(f"  {len(written):,} files; {size / 2**20:.1f} MiB as the JSON of a plan request")  # type: ignore[arg-type]
            plan = timed(
                "plan with no changes", lambda: meshfile.plan_mesh(hub, actor=admin, files=read)
            )
            print(f"  {len(plan.changes)} changes")  # type: ignore[attr-defined]
        finally:
            hub.close()


if __name__ == "__main__":
    main()
