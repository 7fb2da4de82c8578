"""The disaster-recovery drill at the size of issue 15: decisions compared on the synthetic
50-domain, 5,000-table, 10,000-grant mesh, and `lakemesh dr-check` of a generated 50-domain mesh.

1. The synthetic mesh of ``authz.py`` with one database of 100 tables per domain (50 domains),
   1,000 users in 100 groups and 10,000 grants, written into a hub store and copied (backup and
   restore). Timed: loading both hubs' decisions, comparing them (identical), materialising a
   full snapshot (a sample of principals, extrapolated), and comparing after a grant, a data
   filter and a tag assignment planted in the copy, one at a time.
2. A 50-domain mesh from files (``lakemesh.demo.fleet``: 25 producers with real Parquet tables,
   25 consumers): onboarded with one ``apply`` (and a second one that changes nothing), exported,
   then ``dr-check`` of the export against it: apply into a fresh hub, re-crawl, compare.

    .venv/bin/python benchmarks/recovery.py [--tables 5000] [--grants 10000] [--fleet-tables 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from authz import COLUMNS, KEYS, MASKS, SENSITIVITY, VALUES, Mesh
from authz_store import build_store
from lakemesh.backups import backup, restore
from lakemesh.demo.fleet import generate_fleet
from lakemesh.governance import filters, grants, tag_assignments
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity.tokens import authenticate
from lakemesh.meshfile import apply_mesh, export_mesh, read_files, write_files
from lakemesh.model.permissions import Permission
from lakemesh.recovery.compare import Difference, compare_hubs
from lakemesh.recovery.decisions import HubDecisions
from lakemesh.recovery.drill import dr_check
from lakemesh.store.schema import DataFilterRow


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _compare(original: Hub, copy: Hub) -> tuple[float, float, list[Difference]]:
    """Seconds to load both hubs' decisions, seconds to compare, and the differences."""
    original.caches.clear()
    copy.caches.clear()
    with original.read() as old_session, copy.read() as new_session:
        load, (old, new) = timed(lambda: (HubDecisions(old_session), HubDecisions(new_session)))
        seconds, found = timed(lambda: compare_hubs(old, new))
    return load, seconds, found


def _summary(found: list[Difference]) -> str:
    principals = len({d.principal for d in found})
    aspects = sorted({d.aspect for d in found})
    return f"{len(found)} differences ({principals} principals; {', '.join(aspects) or '-'})"


def synthetic(args: argparse.Namespace, scratch: Path) -> None:
    mesh = Mesh(args.tables, args.seed, databases_per_domain=1)
    mesh.principals()
    mesh.make_grants(args.grants)
    home = scratch / "synthetic"
    token = build_store(
        home,
        mesh,
        keys=KEYS,
        columns=COLUMNS,
        values_of=lambda key: SENSITIVITY if key == "sensitivity" else VALUES,
        masks=MASKS,
    )
    original = Hub(home=home)
    file = scratch / "synthetic.lmbackup"
    backup(database_url=original.database_url, destination=file, config=original.home.config())
    restore(source=file, home=scratch / "copy")
    copy = Hub(home=scratch / "copy")
    domains = len({name.domain for name in mesh.table_names()})
    with original.read() as session:
        principals = len(HubDecisions(session).principals)
    print(
        f"synthetic mesh: {domains} domains, {args.tables:,} tables of {len(COLUMNS)} columns, "
        f"{args.grants:,} grants, {principals:,} principals "
        f"({principals * args.tables:,} principal-table decisions)"
    )
    load, seconds, found = _compare(original, copy)
    print(f"  decisions of both hubs loaded (policy indexes): {load:.1f} s")
    print(f"  identical copy compared: {seconds:.1f} s, {_summary(found)}")
    with original.read() as session:
        hub = HubDecisions(session)
        sample = hub.principals[: args.sample]
        elapsed, decided = timed(lambda: [len(hub.decisions_of(ref)) for ref in sample])
    per = elapsed / len(sample)
    print(
        f"  full snapshot: {per:.2f} s per principal ({sum(decided) / len(sample):,.0f} readable "
        f"tables each, sample of {len(sample)}), about {per * principals / 60:.0f} min for all"
    )
    with copy.transaction() as session:
        admin = authenticate(session, token)
    plants: list[tuple[str, Callable[[Any], None]]] = [
        (
            "grant",
            lambda s: grants.grant(
                s,
                actor=admin,
                grantee="user:u0001@d01",
                request=GrantRequest(
                    permissions=frozenset({Permission.SELECT}), on="d07.db0007.t000742"
                ),
            ),
        ),
        (
            "data filter",
            lambda s: filters.update_filter(
                s,
                actor=admin,
                name=_a_filter(s)[0],
                table=_a_filter(s)[1],
                rows="amount > 100",
            ),
        ),
        (
            "tag assignment",
            lambda s: tag_assignments.assign_tags(
                s, actor=admin, resource="d03.db0003.t000321.note", tags={"sensitivity": "pii"}
            ),
        ),
    ]
    for label, plant in plants:
        with copy.transaction() as session:
            plant(session)
        _load, seconds, found = _compare(original, copy)
        print(f"  after a planted {label} (cumulative): {seconds:.1f} s, {_summary(found)}")
    original.close()
    copy.close()


def _a_filter(session: Any) -> tuple[str, str]:
    """The first data filter of the mesh: its name and table."""
    from lakemesh.catalog.tables import table_name

    row = session.query(DataFilterRow).order_by(DataFilterRow.id).first()
    return row.name, str(table_name(row.table))


def fleet(args: argparse.Namespace, scratch: Path) -> None:
    from lakemesh.bootstrap import init_home

    made = generate_fleet(
        scratch / "fleet", data=scratch / "fleet-data", tables_per_producer=args.fleet_tables
    )
    print(
        f"fleet: 50 domains from files ({len(made.producers)} producers, "
        f"{len(made.consumers)} consumers), {made.tables:,} tables of real Parquet"
    )
    initialised = init_home(scratch / "fleet-home")
    hub = initialised.hub
    with hub.read() as session:
        admin = authenticate(session, initialised.token.token)
    files = read_files(made.files)
    elapsed, first = timed(lambda: apply_mesh(hub, actor=admin, files=files))
    print(f"  onboarding, one apply: {elapsed:.1f} s ({len(first.plan.changes):,} changes)")
    elapsed, second = timed(lambda: apply_mesh(hub, actor=admin, files=files))
    print(f"  second apply: {elapsed:.1f} s ({len(second.plan.changes)} changes)")
    with hub.read() as session:
        write_files(export_mesh(session, actor=admin), scratch / "fleet-export")
    hub.close()
    elapsed, drill = timed(
        lambda: dr_check(source=scratch / "fleet-export", against=str(scratch / "fleet-home"))
    )
    comparison = drill.comparison
    phases = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in drill.seconds.items())
    print(
        f"  dr-check of the export: {elapsed:.1f} s ({phases}); {comparison.principals} "
        f"principals x {comparison.tables} tables, {len(comparison.differences)} differences"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=5_000)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=10, help="principals fully snapshotted")
    parser.add_argument("--fleet-tables", type=int, default=20, help="tables per producer")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakemesh-recovery-") as scratch:
        if not args.skip_synthetic:
            synthetic(args, Path(scratch))
        fleet(args, Path(scratch))


if __name__ == "__main__":
    main()
