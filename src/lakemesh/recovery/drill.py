"""The disaster-recovery drill (``lakemesh dr-check``): rebuild the mesh into a fresh hub from an
export (``lakemesh export``) or a backup, re-crawl the domains' storage, and compare every
decision with the original hub's.

The fresh hub is another home (a temporary one unless kept) with its store in SQLite or in an
empty database. An export is applied as the export's first mesh administrator, made the fresh
hub's first admin (so it is no extra principal); a backup is restored. The crawl reads each
database's table folders where the catalog says they are and registers what it finds there, as
``lakemesh crawl`` does, so the rebuilt catalog is what the storage holds.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lakemesh.backups import restore
from lakemesh.bootstrap import DEFAULT_ADMIN, init_home
from lakemesh.catalog.crawler import crawl
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.identity.actors import first_admin, load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.meshfile import MeshFiles, apply_mesh, read_files
from lakemesh.meshfile.secrets import referenced_secrets, resolve_secrets
from lakemesh.model.actors import GOVERNANCE, Actor
from lakemesh.recovery.checks import ComparisonReport, report
from lakemesh.recovery.decisions import HubDecisions
from lakemesh.recovery.snapshot import DecisionSnapshot
from lakemesh.recovery.sources import open_hub
from lakemesh.store.schema import Database, Domain, Table

Progress = Callable[[str], None]


@dataclass
class DrillReport:
    """What the drill rebuilt, crawled and found."""

    source: str
    against: str
    rebuilt_home: str | None
    """The fresh hub's home when kept (None: a temporary one, removed after the check)."""
    rebuilt_database_url: str
    method: str
    """``apply`` (an export) or ``restore`` (a backup)."""
    applied: dict[str, int] = field(default_factory=dict)
    crawled: dict[str, int] = field(default_factory=dict)
    crawl_warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    comparison: ComparisonReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "against": self.against,
            "method": self.method,
            "rebuilt": {"home": self.rebuilt_home, "database_url": self.rebuilt_database_url},
            "applied": self.applied,
            "crawled": self.crawled,
            "crawl_warnings": self.crawl_warnings,
            "seconds": {phase: round(value, 3) for phase, value in self.seconds.items()},
            "identical": self.comparison is not None and not self.comparison.differences,
            "comparison": self.comparison.to_dict() if self.comparison else None,
        }


def dr_check(
    *,
    source: Path,
    against: str,
    rebuild_home: Path | None = None,
    rebuild_database_url: str | None = None,
    secrets_file: Path | None = None,
    original: DecisionSnapshot | None = None,
    progress: Progress = lambda _message: None,
) -> DrillReport:
    """Rebuild the mesh of ``source`` (an export folder or a backup file) into a fresh hub,
    re-crawl its tables' storage and compare every decision with the hub ``against`` (a hub home
    or a store's database URL).

    ``rebuild_home`` keeps the fresh hub there (it must not exist, or be an empty folder);
    without it a temporary home is removed afterwards. ``rebuild_database_url`` puts the fresh
    hub's store in that (empty) database instead of SQLite. The secrets an export names (tokens'
    ``secret_env``) are read from ``secrets_file`` (``NAME=value`` lines), else the environment.
    ``original``: the decisions of the original hub, fetched from a running hub (``against`` is
    then its URL, only named).

    Raises:
        NotFoundError: ``source`` or ``against`` does not exist.
        ConflictError: ``rebuild_home`` or ``rebuild_database_url`` is not empty.
        LakemeshError: whatever refuses the apply, restore or crawl (naming the object at fault).
    """
    if not source.exists():
        raise NotFoundError(
            f"Export folder or backup file does not exist: {source}",
            details={"source": str(source)},
        )
    method = "apply" if source.is_dir() else "restore"
    files = read_files(source) if method == "apply" else None
    secrets = (
        resolve_secrets(referenced_secrets(files), secrets_file=secrets_file)
        if files is not None
        else {}
    )
    with ExitStack() as stack:
        original_hub = stack.enter_context(open_hub(against)) if original is None else None
        home = stack.enter_context(_fresh_home(rebuild_home))
        started = time.perf_counter()
        drill = DrillReport(
            str(source),
            against,
            str(rebuild_home) if rebuild_home is not None else None,
            rebuild_database_url or f"sqlite:///{HubHome(home).database_file}",
            method,
        )
        if files is not None:
            progress(f"applying {source} to a fresh hub")
            hub, actor = _apply(files, home, rebuild_database_url, drill, secrets)
        else:
            progress(f"restoring {source} into a fresh hub")
            hub, actor = _restore(source, home, rebuild_database_url, drill)
        stack.callback(hub.close)
        drill.seconds[method] = time.perf_counter() - started
        started = time.perf_counter()
        recrawl(hub, actor=actor, drill=drill, progress=progress)
        drill.seconds["crawl"] = time.perf_counter() - started
        progress("comparing every decision")
        started = time.perf_counter()
        with ExitStack() as reading:
            old: HubDecisions | DecisionSnapshot
            if original_hub is not None:
                old = HubDecisions(reading.enter_context(original_hub.read()))
            else:
                assert original is not None
                old = original
            new = HubDecisions(reading.enter_context(hub.read()))
            drill.comparison = report(against, "the rebuilt hub", old, new, started)
        drill.seconds["compare"] = time.perf_counter() - started
        return drill


@contextmanager
def _fresh_home(home: Path | None) -> Iterator[Path]:
    if home is not None:
        if home.exists() and (not home.is_dir() or any(home.iterdir())):
            raise ConflictError(
                f"Rebuild home is not empty: {home} (give a new folder)",
                details={"home": str(home)},
            )
        yield home
        return
    scratch = Path(tempfile.mkdtemp(prefix="lakemesh-dr-check-"))
    try:
        yield scratch / "home"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def first_mesh_admin(files: MeshFiles) -> str:
    """The mesh administrator an export is applied as: the governance folder's first admin."""
    for folder in files.domains:
        if folder.domain.name == GOVERNANCE and folder.domain.admins:
            return sorted(folder.domain.admins)[0]
    return DEFAULT_ADMIN


def _apply(
    files: MeshFiles,
    home: Path,
    database_url: str | None,
    drill: DrillReport,
    secrets: dict[str, str],
) -> tuple[Hub, Actor]:
    initialised = init_home(home, admin=first_mesh_admin(files), database_url=database_url)
    hub = initialised.hub
    try:
        actor = _actor(hub, initialised.token.principal)
        result = apply_mesh(hub, actor=actor, files=files, secrets=secrets)
    except BaseException:
        hub.close()
        raise
    drill.applied = dict(result.plan.to_dict()["summary"])
    return hub, _actor(hub, initialised.token.principal)


def _restore(
    source: Path, home: Path, database_url: str | None, drill: DrillReport
) -> tuple[Hub, Actor]:
    summary = restore(source=source, home=home, database_url=database_url).to_dict()
    drill.applied = {"tables": summary["tables"], "rows": summary["rows"]}
    hub = Hub.open(home)
    with hub.read() as session:
        admin = first_admin(session, GOVERNANCE)
    if admin is None:
        hub.close()
        raise InvalidInputError(
            f"The backup {source} has no mesh administrator to re-crawl as",
            details={"source": str(source)},
        )
    return hub, admin


def _actor(hub: Hub, ref: str) -> Actor:
    with hub.read() as session:
        return load_actor(session, get_principal(session, ref))


def table_folders(hub: Hub) -> list[tuple[str, str, str]]:
    """``(domain, database, folder)`` for each folder whose sub-folders hold the catalog's
    tables: what to re-crawl."""
    found: set[tuple[str, str, str]] = set()
    with hub.read() as session:
        rows = session.execute(
            select(Domain.name, Database.name, Table.location)
            .join(Database, Database.id == Table.database_id)
            .join(Domain, Domain.id == Database.domain_id)
        )
        for domain, database, location in rows:
            if location:
                parent = location.rstrip("/").rsplit("/", 1)[0]
                found.add((domain, database, parent))
    return sorted(found)


def recrawl(hub: Hub, *, actor: Actor, drill: DrillReport, progress: Progress) -> None:
    """Crawl each folder holding the catalog's tables, as ``lakemesh crawl`` does."""
    counts: dict[str, int] = {}
    for domain, database, folder in table_folders(hub):
        progress(f"crawling {folder} into {domain}.{database}")
        for result in crawl(hub, actor=actor, uri=folder, domain=domain, database=database):
            counts[result.status] = counts.get(result.status, 0) + 1
            drill.crawl_warnings.extend(f"{result.name}: {w}" for w in result.warnings)
    drill.crawled = dict(sorted(counts.items()))
