"""Mesh files assembled object by object with the conventions every generated mesh follows: a
domain's folder with its admin and its location under the storage folder, a table's location
under its domain's, a filter and a grant filed in the folder of the domain whose object they are
on (a tag grant in ``governance/``), a grant the files would hold twice left out, and the
governance folder with its steward. :mod:`.mesh_generator` draws random meshes on it;
:mod:`.fleet` lays out the onboarding mesh.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lakemesh.meshfile.model import (
    ColumnSpec,
    DatabaseSpec,
    DomainFile,
    DomainFolder,
    FilterSpec,
    GrantSpec,
    MeshFile,
    MeshFiles,
    PrincipalSpec,
    TableSpec,
)

STEWARD = "user:steward@governance"


class MeshBuilder:
    """Mesh files assembled object by object, each filed where an export would put it."""

    def __init__(
        self,
        storage: Path,
        *,
        steward: str = STEWARD,
        description: str = "Mesh administration: stewards, tags, guardrails.",
    ) -> None:
        self.storage = storage
        self.governance = DomainFolder(
            domain=DomainFile(
                name="governance",
                description=description,
                admins=[steward],
                principals=[PrincipalSpec(name=steward)],
            )
        )
        self.folders: dict[str, DomainFolder] = {}
        self.databases: list[str] = []
        self.filters: list[FilterSpec] = []
        self.tables: list[tuple[str, TableSpec]] = []
        """Every table by its full name, in the order added."""
        self._grants: set[str] = set()

    def domain(
        self,
        name: str,
        *,
        principals: Sequence[PrincipalSpec] = (),
        producer: bool = False,
        consumer: bool = False,
        description: str = "",
        location: bool = True,
    ) -> DomainFolder:
        """A domain administered by ``user:admin@<name>``, owning the location
        ``<storage>/<name>`` (created) unless ``location`` is false."""
        admin = f"user:admin@{name}"
        people = list(principals)
        if all(principal.name != admin for principal in people):
            people.append(PrincipalSpec(name=admin))
        locations = []
        if location:
            self.location(name).mkdir(parents=True, exist_ok=True)
            locations.append(self.location(name).as_uri())
        folder = DomainFolder(
            domain=DomainFile(
                name=name,
                producer=producer,
                consumer=consumer,
                description=description,
                admins=[admin],
                principals=people,
                locations=locations,
            )
        )
        self.folders[name] = folder
        return folder

    def location(self, domain: str, *path: str) -> Path:
        """Where ``domain``'s data lives (a database's, a table's under it)."""
        return self.storage.joinpath(domain, *path)

    def database(self, domain: str, name: str, *, tags: dict[str, str] | None = None) -> None:
        self.folders[domain].catalog.databases.append(DatabaseSpec(name=name, tags=tags or {}))
        self.databases.append(f"{domain}.{name}")

    def table(
        self,
        database: str,
        name: str,
        columns: list[ColumnSpec],
        *,
        format: str = "parquet",
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> TableSpec:
        """Table ``name`` of the database ``database`` (``domain.database``, declared before),
        at ``<storage>/<domain>/<database>/<name>``."""
        domain, database_name = database.split(".")
        spec = TableSpec(
            name=name,
            location=self.location(domain, database_name, name).as_uri(),
            format=format,
            properties=properties or {},
            tags=tags or {},
            columns=columns,
        )
        databases = self.folders[domain].catalog.databases
        next(d for d in databases if d.name == database_name).tables.append(spec)
        self.tables.append((f"{database}.{name}", spec))
        return spec

    def filter(self, spec: FilterSpec) -> None:
        self.folders[spec.table.split(".")[0]].access.filters.append(spec)
        self.filters.append(spec)

    def grant(self, spec: GrantSpec) -> bool:
        """File ``spec`` with the domain it is on (``governance/`` for a tag grant); false, and
        nothing filed, when the files already hold a grant to the same grantee on the same
        target with the same grant option."""
        key = spec.model_dump_json(exclude={"permissions", "derived_from"})
        if key in self._grants:
            return False
        self._grants.add(key)
        if spec.on is None:
            self.governance.access.grants.append(spec)
        else:
            self.folders[spec.on.split(".")[0]].access.grants.append(spec)
        return True

    @property
    def grants(self) -> int:
        """How many grants the files hold."""
        return len(self._grants)

    def files(self, mesh: MeshFile) -> MeshFiles:
        """The mesh files: the domains in the order made, then ``governance/``."""
        return MeshFiles(mesh=mesh, domains=[*self.folders.values(), self.governance])
