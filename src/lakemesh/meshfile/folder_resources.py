"""A domain folder of the mesh files as resources: its ``domain.yaml`` (the domain, admins,
principals, members, tokens, locations), ``catalog.yaml`` (databases, tables and their tags),
``access.yaml`` (filters, grants, share answers, links) and ``products.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache

from lakemesh.errors import InvalidInputError
from lakemesh.meshfile.canonical import (
    grant_key,
    permission_names,
    principal_name,
    principal_ref,
    resource_name,
    tag_expression,
    target_body,
    target_refs,
)
from lakemesh.meshfile.grant_specs import sorted_columns
from lakemesh.meshfile.model import (
    AccessFile,
    CatalogFile,
    DomainFile,
    DomainFolder,
    GrantRefSpec,
    GrantSpec,
    ProductsFile,
)
from lakemesh.meshfile.resources import Fingerprints, Ref, Resource
from lakemesh.model.names import parse_principal, parse_resource
from lakemesh.policy.predicates import validate_predicate
from lakemesh.storage import normalize_uri


def _expiry(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def domain_resources(
    folder: DomainFolder, columns_of: dict[str, list[str]], fingerprints: Fingerprints
) -> Iterator[Resource]:
    """Every resource of ``folder``, file by file. ``columns_of`` gathers every table's columns
    across the folders (a filter's row predicate is checked against its table's).

    Raises:
        InvalidInputError: a name or expression that does not parse, or a principal of another
            domain.
    """
    name = folder.domain.name
    yield from _domain_file(folder.domain, fingerprints)
    yield from _catalog_file(folder.catalog, name, columns_of)
    yield from _access_file(folder.access, name, columns_of)
    yield from _products_file(folder.products, name)


def _domain_file(spec: DomainFile, fingerprints: Fingerprints) -> Iterator[Resource]:
    name = spec.name
    yield Resource(
        "domain",
        name,
        name,
        {
            "producer": spec.producer,
            "consumer": spec.consumer,
            "description": spec.description,
            "schema_changes": spec.schema_changes,
            "check_schedule": spec.check_schedule,
        },
    )
    for admin in spec.admins:
        ref = principal_name(admin)
        yield Resource("admin", f"{name}|{ref}", name, {}, (("domain", name), principal_ref(ref)))
    for principal in spec.principals:
        ref = principal_name(principal.name)
        if parse_principal(ref).domain != name:
            raise InvalidInputError(
                f"Principal {ref} is not of domain {name}: it belongs in its own domain's folder",
                details={"principal": ref, "domain": name},
            )
        yield Resource(
            "principal",
            ref,
            name,
            {"attributes": dict(sorted(principal.attributes.items()))},
            (("domain", name), *(("attribute", key) for key in sorted(principal.attributes))),
        )
        for member in principal.members:
            member_ref = principal_name(member)
            yield Resource(
                "member",
                f"{ref}|{member_ref}",
                name,
                {},
                (("principal", ref), principal_ref(member_ref)),
            )
        for token in principal.tokens:
            yield Resource(
                "token",
                f"{ref}|{token.secret_env}",
                name,
                {
                    "description": token.description,
                    "expires_at": _expiry(token.expires_at),
                    "secret": fingerprints(ref, token.secret_env),
                },
                (("principal", ref),),
            )
    for uri in spec.locations:
        yield Resource("location", normalize_uri(uri), name, {}, (("domain", name),))


def _catalog_file(
    catalog: CatalogFile, name: str, columns_of: dict[str, list[str]]
) -> Iterator[Resource]:
    for database in catalog.databases:
        database_name = f"{name}.{database.name}"
        yield Resource(
            "database",
            database_name,
            name,
            {"description": database.description, "location": database.location},
            (("domain", name),),
        )
        yield from _tag_resources(database_name, database.tags, name)
        for table in database.tables:
            table_name = f"{database_name}.{table.name}"
            columns_of[table_name] = [c.name for c in table.columns]
            yield Resource(
                "table",
                table_name,
                name,
                {
                    "location": normalize_uri(table.location),
                    "format": table.format,
                    "description": table.description,
                    "properties": dict(sorted(table.properties.items())),
                    "columns": [c.model_dump(exclude={"tags"}) for c in table.columns],
                },
                (("database", database_name),),
            )
            yield from _tag_resources(table_name, table.tags, name)
            for column in table.columns:
                yield from _tag_resources(f"{table_name}.{column.name}", column.tags, name)


def _access_file(
    access: AccessFile, name: str, columns_of: dict[str, list[str]]
) -> Iterator[Resource]:
    for data_filter in access.filters:
        table_name = resource_name(data_filter.table)
        rows = data_filter.rows
        if rows is not None and table_name in columns_of:
            rows = validate_predicate(rows, columns=columns_of[table_name])
        yield Resource(
            "filter",
            f"{table_name}|{data_filter.name}",
            name,
            {
                "rows": rows,
                "columns": sorted_columns(data_filter.columns),
                "exclude_columns": sorted(data_filter.exclude_columns),
            },
            (("table", table_name),),
        )
    for grant in access.grants:
        yield _grant_resource(grant, name)
    for answer in access.shares:
        key = grant_key(f"domain:{name}", answer, answer.with_grant_option)
        yield Resource("share", key, name, {"status": answer.status}, (("grant", key),))
    for link in access.links:
        target = resource_name(link.target)
        yield Resource(
            "link",
            resource_name(link.name),
            name,
            {"target": target},
            ((parse_resource(target).level, target),),
        )


def _products_file(products: ProductsFile, name: str) -> Iterator[Resource]:
    for product in products.products:
        body = product.model_dump(exclude={"name"})
        body["tables"] = [resource_name(t) for t in product.tables]
        body["owner"] = principal_name(product.owner)
        if body["auto_approve"] is not None:
            body["auto_approve"] = tag_expression(body["auto_approve"])
        yield Resource(
            "product",
            product.name,
            name,
            body,
            (
                ("domain", name),
                principal_ref(body["owner"]),
                *(("table", t) for t in body["tables"]),
            ),
        )
    for subscription in products.subscriptions:
        subscriber = principal_name(subscription.principal)
        body = subscription.model_dump(exclude={"product", "principal"})
        body["columns"] = sorted_columns(body["columns"])
        body["exclude_columns"] = sorted(body["exclude_columns"])
        body["comment"] = body["comment"] or None  # an answer without a comment is kept as ""
        yield Resource(
            "subscription",
            f"{subscription.product}|{subscriber}",
            name,
            body,
            (("product", subscription.product), principal_ref(subscriber)),
        )


def _grant_resource(grant: GrantSpec, folder: str) -> Resource:
    target = target_body(grant)
    key = grant_key(grant.to, grant, grant.with_grant_option)
    parent = (
        grant_key(grant.derived_from.to, grant.derived_from, grant.derived_from.with_grant_option)
        if isinstance(grant.derived_from, GrantRefSpec)
        else None
    )
    refs = [principal_ref(grant.to), *target_refs(target)]
    if parent is not None:
        refs.append(("grant", parent))
    return Resource(
        "grant",
        key,
        folder,
        {"permissions": permission_names(grant.permissions), "derived_from": parent},
        tuple(refs),
    )


@lru_cache(maxsize=65_536)
def _owner(resource: str) -> Ref:
    """The database or table a tag on ``resource`` (a database, table or column) belongs to."""
    name = parse_resource(resource)
    return (name.level, resource) if name.level != "column" else ("table", str(name.table_name))


def _tag_resources(resource: str, tags: dict[str, str], folder: str) -> Iterator[Resource]:
    if not tags:
        return
    owner = _owner(resource)
    for key, value in tags.items():
        yield Resource(
            "tag_assignment", f"{resource}|{key}", folder, {"value": value}, (("tag", key), owner)
        )
