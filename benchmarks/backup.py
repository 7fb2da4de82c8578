"""Backup and restore of a generated mesh: `lakemesh backup` of a SQLite hub store, and its
restore into a new home (and, with ``--postgres URL``, into an empty PostgreSQL database).

The mesh is the synthetic one of ``authz.py`` (tables of 10 columns, tags on databases, tables
and columns, 1,000 users in 100 groups, grants), written into a hub store once per size and seed
under ``benchmarks/.data``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from authz import COLUMNS, KEYS, MASKS, SENSITIVITY, VALUES, Mesh
from authz_store import build_store
from lakemesh.audit import chain
from lakemesh.backups import backup, restore
from lakemesh.home import HubHome
from lakemesh.hub import Hub


def _restore_timed(source: Path, home: Path, database_url: str | None) -> None:
    started = time.perf_counter()
    summary = restore(source=source, home=home, database_url=database_url)
    elapsed = time.perf_counter() - started
    where = "PostgreSQL" if database_url else "SQLite"
    print(
        f"restore into {where}: {elapsed:.2f} s ({summary.to_dict()['rows']:,} rows, audit "
        f"chain of {summary.audit.events:,} events verified)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=5_000)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--audit-events", type=int, default=20_000, help="audit events added to the chain"
    )
    parser.add_argument("--postgres", help="server URL to restore into a new database on, too")
    args = parser.parse_args()

    mesh = Mesh(args.tables, args.seed)
    mesh.principals()
    mesh.make_grants(args.grants)
    with tempfile.TemporaryDirectory(prefix="lakemesh-backup-") as scratch:
        home = Path(scratch) / "home"
        build_store(
            home,
            mesh,
            keys=KEYS,
            columns=COLUMNS,
            values_of=lambda key: SENSITIVITY if key == "sensitivity" else VALUES,
            masks=MASKS,
        )
        hub = Hub(home=home)
        with hub.transaction() as session:
            for number in range(args.audit_events):
                chain.record(
                    session, actor="user:u0001@d01", action="grant.create", resource=f"t{number}"
                )
        hub.close()
        file = Path(scratch) / "hub.lmbackup"
        hub_home = HubHome(home)
        started = time.perf_counter()
        summary = backup(
            database_url=hub_home.database_url(), destination=file, config=hub_home.config()
        )
        elapsed = time.perf_counter() - started
        rows = summary.to_dict()["rows"]
        print(
            f"mesh: {args.tables:,} tables, {args.grants:,} grants, {args.audit_events:,} audit "
            f"events; store "
            f"{hub_home.database_file.stat().st_size / 2**20:.1f} MiB, {rows:,} rows"
        )
        print(
            f"backup (SQLite online backup + portable file): {elapsed:.2f} s, "
            f"{file.stat().st_size / 2**20:.1f} MiB"
        )
        _restore_timed(file, Path(scratch) / "restored", None)
        if args.postgres:
            name = f"lakemesh_bench_{uuid.uuid4().hex[:12]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(args.postgres).set(database=name)
                _restore_timed(
                    file,
                    Path(scratch) / "restored-pg",
                    url.render_as_string(hide_password=False),
                )
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
