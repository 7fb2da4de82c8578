"""The mesh as code at scale: a full apply of a generated mesh into an empty hub, its export, and
a plan with no changes (targets: plan ≤ 5 s, full apply ≤ 60 s).

The mesh (50 domains, 5,000 tables of 10 columns, 1,000 users in 100 groups, 10,000 grants by
default) is generated as mesh files by ``lakemesh.demo.mesh_generator`` (its ``BENCHMARK`` shape):
each domain with a location, 2 databases, tags on databases, tables and columns, a data filter on
about one table in 10, and grants on tables (some with column lists or through filters) and
databases in the domains' folders, plus tag-expression grants in ``governance/``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lakemesh import meshfile
from lakemesh.catalog.domains import bootstrap
from lakemesh.demo.mesh_builder import STEWARD
from lakemesh.demo.mesh_generator import BENCHMARK, SeededSource, random_mesh
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.meshfile.model import MeshFiles
from lakemesh.model.actors import Actor


def empty_hub(home: Path) -> tuple[Hub, Actor]:
    home.mkdir(parents=True)
    (home / "config.toml").write_text("")
    hub = Hub(home=home)
    with hub.transaction() as session:
        issued = bootstrap(session, admin=STEWARD)
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
        shape = BENCHMARK.scaled(domains=args.domains, tables=args.tables, grants=args.grants)
        files = random_mesh(SeededSource(args.seed), shape, root / "storage")
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
