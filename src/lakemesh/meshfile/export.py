"""The hub's state as mesh files (``lakemesh export``).

Read straight from the store in a few queries (a 5,000-table mesh exports in seconds), every list
sorted by name, so two exports of the same mesh are byte-identical. Times, ids and who made what
are not exported (they are the audit trail's), nor crawled partitions, nor secrets: a token made
from a named secret is written with that name (``secret_env``), others not at all; the token of a
workgroup's Spark Connect address is written as the name ``SPARK_TOKEN_<WORKGROUP>``
(``spark_token_env``). The catalog is read by :mod:`.catalog_state`, ``mesh.yaml`` by
:mod:`.mesh_state`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import NotFoundError
from lakemesh.identity.tokens import is_active, named_tokens
from lakemesh.meshfile.catalog_state import catalog_databases, sorted_tags
from lakemesh.meshfile.grant_specs import (
    ANSWERED,
    ISSUED_ROLES,
    CatalogIndex,
    grant_folder,
    grant_spec,
    sorted_columns,
    target_fields,
)
from lakemesh.meshfile.mesh_state import mesh_file
from lakemesh.meshfile.model import (
    AccessFile,
    CatalogFile,
    DatabaseSpec,
    DomainFile,
    DomainFolder,
    FilterSpec,
    GrantSpec,
    LinkSpec,
    MeshFiles,
    PrincipalSpec,
    ProductsFile,
    ProductSpec,
    ShareAnswerSpec,
    SubscriptionSpec,
    TokenSpec,
)
from lakemesh.model.actions import Action
from lakemesh.model.actors import GOVERNANCE, Actor
from lakemesh.store.schema import (
    DataFilterRow,
    DataProduct,
    Domain,
    DomainAdmin,
    Grant,
    GroupMember,
    Location,
    Principal,
    ResourceLink,
    Share,
    Subscription,
    SubscriptionGrant,
)


def export_scope(session: Session, *, actor: Actor, domains: Sequence[str] | None) -> list[str]:
    """The domains ``actor`` exports: the ones named (each must be one it administers), or every
    domain for a mesh admin and its own for a domain admin."""
    existing = sorted(session.execute(select(Domain.name)).scalars())
    if domains is None:
        return [d for d in existing if actor.administers(d)] or _refuse(actor)
    chosen: list[str] = []
    for name in dict.fromkeys(domains):
        if not actor.administers(name):
            raise actor.deny(
                f"{actor.ref} is not an admin of domain {name}",
                action=Action.MESH_EXPORT,
                resource=name,
            )
        if name not in existing:
            raise NotFoundError(f"Domain does not exist: {name}", details={"domain": name})
        chosen.append(name)
    return sorted(chosen)


def _refuse(actor: Actor) -> list[str]:
    raise actor.deny(
        f"{actor.ref} is not an admin of any domain", action=Action.MESH_EXPORT, resource="mesh"
    )


def export_mesh(
    session: Session, *, actor: Actor, domains: Sequence[str] | None = None
) -> MeshFiles:
    """The mesh (or the ``domains`` named) as files: mesh admins export anything, domain admins
    their own domains; ``governance/mesh.yaml`` goes with the ``governance`` folder.

    Raises:
        AccessDeniedError: a domain named is not one the actor administers (audited).
        NotFoundError: a domain named does not exist.
    """
    scope = export_scope(session, actor=actor, domains=domains)
    return read_state(session, scope)


def read_state(session: Session, scope: Iterable[str]) -> MeshFiles:
    """The files of the domains in ``scope`` (and ``mesh.yaml`` when it holds ``governance``),
    with no permission check: the callers check."""
    chosen = set(scope)
    names = CatalogIndex.load(session)
    folders = {name: _Folder(name) for name in sorted(chosen)}
    domain_ids = {domain_id for domain_id, name in names.domains.items() if name in chosen}
    _domains(session, folders, domain_ids)
    _principals(session, folders, names, domain_ids)
    for domain_id, databases in catalog_databases(session, domain_ids).items():
        folders[names.domains[domain_id]].databases = databases
    _access(session, folders, names, chosen)
    _products(session, folders, names, chosen)
    mesh = mesh_file(session) if GOVERNANCE in chosen else None
    return MeshFiles(mesh=mesh, domains=[folder.build() for folder in folders.values()])


@dataclass
class _Folder:
    name: str
    domain: dict[str, Any] = field(default_factory=dict)
    admins: list[str] = field(default_factory=list)
    principals: list[PrincipalSpec] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    databases: list[DatabaseSpec] = field(default_factory=list)
    filters: list[FilterSpec] = field(default_factory=list)
    grants: list[GrantSpec] = field(default_factory=list)
    shares: list[ShareAnswerSpec] = field(default_factory=list)
    links: list[LinkSpec] = field(default_factory=list)
    products: list[ProductSpec] = field(default_factory=list)
    subscriptions: list[SubscriptionSpec] = field(default_factory=list)

    def build(self) -> DomainFolder:
        return DomainFolder(
            domain=DomainFile(
                name=self.name,
                admins=sorted(self.admins),
                principals=sorted(self.principals, key=lambda p: p.name),
                locations=sorted(self.locations),
                **self.domain,
            ),
            catalog=CatalogFile(databases=sorted(self.databases, key=lambda d: d.name)),
            access=AccessFile(
                filters=sorted(self.filters, key=lambda f: (f.table, f.name)),
                grants=sorted(self.grants, key=sort_key),
                shares=sorted(self.shares, key=sort_key),
                links=sorted(self.links, key=lambda link: link.name),
            ),
            products=ProductsFile(
                products=sorted(self.products, key=lambda p: p.name),
                subscriptions=sorted(self.subscriptions, key=lambda s: (s.product, s.principal)),
            ),
        )


def sort_key(spec: Any) -> str:
    """A total order of grants (and share answers): their canonical JSON."""
    return str(spec.model_dump_json())


def _domains(session: Session, folders: dict[str, _Folder], domain_ids: set[int]) -> None:
    domain_names: dict[int, str] = {}
    for row in session.execute(select(Domain).where(Domain.id.in_(domain_ids))).scalars():
        domain_names[row.id] = row.name
        folders[row.name].domain = {
            "producer": row.producer,
            "consumer": row.consumer,
            "description": row.description or "",
            "schema_changes": row.schema_changes,
            "check_schedule": row.check_schedule or "",
        }
    for domain_name, ref in session.execute(
        select(Domain.name, Principal.ref)
        .join(DomainAdmin, DomainAdmin.domain_id == Domain.id)
        .join(Principal, Principal.id == DomainAdmin.principal_id)
        .where(Domain.id.in_(domain_ids))
    ):
        folders[domain_name].admins.append(ref)
    for domain_id, uri in session.execute(
        select(Location.domain_id, Location.uri).where(Location.domain_id.in_(domain_ids))
    ):
        folders[domain_names[domain_id]].locations.append(uri)


def _principals(
    session: Session, folders: dict[str, _Folder], names: CatalogIndex, domain_ids: set[int]
) -> None:
    members: dict[int, list[str]] = defaultdict(list)
    for group_id, member_id in session.execute(select(GroupMember.group_id, GroupMember.member_id)):
        members[group_id].append(names.principals[member_id])
    tokens: dict[int, list[TokenSpec]] = defaultdict(list)
    for token in named_tokens(session):
        if is_active(token) and token.secret_name is not None:
            tokens[token.principal_id].append(
                TokenSpec(
                    secret_env=token.secret_name,
                    description=token.description or "",
                    expires_at=token.expires_at,
                )
            )
    for row in session.execute(
        select(Principal).where(Principal.domain_id.in_(domain_ids), Principal.kind != "domain")
    ).scalars():
        folders[names.domains[row.domain_id]].principals.append(
            PrincipalSpec(
                name=row.ref,
                attributes=dict(sorted((row.attributes or {}).items())),
                members=sorted(members.get(row.id, [])),
                tokens=sorted(tokens.get(row.id, []), key=lambda t: t.secret_env),
            )
        )


def _access(
    session: Session, folders: dict[str, _Folder], names: CatalogIndex, chosen: set[str]
) -> None:
    for filter_row in session.execute(select(DataFilterRow)).scalars():
        domain = names.table_domain(filter_row.table_id)
        if domain in chosen:
            folders[domain].filters.append(
                FilterSpec(
                    name=filter_row.name,
                    table=names.table(filter_row.table_id),
                    rows=filter_row.predicate,
                    columns=sorted_columns(filter_row.columns),
                    exclude_columns=sorted(filter_row.excluded_columns or []),
                )
            )
    issued = set(
        session.execute(
            select(SubscriptionGrant.grant_id).where(SubscriptionGrant.role.in_(ISSUED_ROLES))
        ).scalars()
    )
    grants = {row.id: row for row in session.execute(select(Grant)).unique().scalars()}
    for row in grants.values():
        if row.id in issued:
            continue
        folder = grant_folder(row, names)
        if folder in chosen:
            folders[folder].grants.append(grant_spec(row, names, grants))
    for share in session.execute(
        select(Share).where(
            Share.grant_id.is_not(None), Share.origin == "grant", Share.status.in_(ANSWERED)
        )
    ).scalars():
        shared = grants.get(share.grant_id or 0)
        if shared is None or share.to_domain not in chosen or shared.id in issued:
            continue
        folders[share.to_domain].shares.append(
            ShareAnswerSpec(
                with_grant_option=shared.with_grant_option,
                status=share.status,
                **target_fields(shared, names),
            )
        )
    for link in session.execute(select(ResourceLink)).scalars():
        domain = names.database_domain(link.database_id)
        if domain in chosen:
            name = names.database(link.database_id) + (f".{link.name}" if link.name else "")
            folders[domain].links.append(LinkSpec(name=name, target=link.target))


def _products(
    session: Session, folders: dict[str, _Folder], names: CatalogIndex, chosen: set[str]
) -> None:
    products = session.execute(select(DataProduct)).unique().scalars().all()
    for product in products:
        domain = names.domains[product.domain_id]
        if domain not in chosen:
            continue
        folders[domain].products.append(
            ProductSpec(
                name=product.name,
                title=product.title,
                description=product.description or "",
                owner=product.owner,
                tags=sorted_tags(product.tags),
                version=product.version,
                status=product.status,
                deprecation_message=product.deprecation_message,
                tables=[names.table(item.table_id) for item in product.tables],
                contract=product.contract,
                auto_approve=product.auto_approve,
            )
        )
    latest: dict[tuple[str, str], Subscription] = {}
    for row in session.execute(select(Subscription).order_by(Subscription.id)).scalars():
        latest[(row.product.name, row.principal)] = row
    for (product_name, principal), row in latest.items():
        if row.consumer_domain not in chosen:
            continue
        folders[row.consumer_domain].subscriptions.append(
            SubscriptionSpec(
                product=product_name,
                principal=principal,
                reason=row.reason,
                columns=sorted_columns(row.columns),
                exclude_columns=sorted(row.excluded_columns or []),
                filter=row.filter,
                status=row.status,
                comment=row.comment,
            )
        )
