"""The mesh files as a flat list of resources, each with a kind, a key, the folder it lives in,
a comparable body and the resources it refers to: what ``plan`` compares and ``apply`` orders.

Names and expressions are brought to the canonical spelling the hub stores (principal names in
lower case, tag expressions and row predicates as the policy engine prints them, URIs
normalised), so a file that spells something differently from the export is not a change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lakemesh.errors import InvalidInputError, LakemeshError
from lakemesh.meshfile.model import (
    DomainFolder,
    GrantRefSpec,
    GrantSpec,
    GrantTargetSpec,
    MeshFile,
    MeshFiles,
    WorkgroupSpec,
)
from lakemesh.model.actors import GOVERNANCE
from lakemesh.model.names import parse_principal, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.model.spark_remote import split_spark_token
from lakemesh.policy import validate_predicate
from lakemesh.policy.tag_expressions import parse_tag_expression
from lakemesh.storage import normalize_uri

KINDS = (
    "setting",
    "tag",
    "attribute",
    "mask",
    "guardrail",
    "workgroup",
    "domain",
    "principal",
    "admin",
    "member",
    "token",
    "location",
    "database",
    "table",
    "tag_assignment",
    "filter",
    "grant",
    "share",
    "product",
    "subscription",
    "link",
)
"""Every kind of resource, in the order apply creates them (removals go in reverse)."""
STAGE = {kind: position for position, kind in enumerate(KINDS)}

Ref = tuple[str, str]
Fingerprints = Callable[[str, str], str | None]
"""A token's secret fingerprint by principal (``workgroup:NAME`` for a workgroup's Spark Connect
token) and secret name (None: the secret is not given)."""


@dataclass(frozen=True)
class Resource:
    """One resource of the files: ``kind`` and ``key`` identify it across hubs."""

    kind: str
    key: str
    folder: str
    body: dict[str, Any]
    refs: tuple[Ref, ...] = ()

    @property
    def ref(self) -> Ref:
        return (self.kind, self.key)

    @property
    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.key}"


@lru_cache(maxsize=65_536)
def principal_ref(text: str) -> Ref:
    """The resource a principal name refers to (``domain:x`` is the domain itself)."""
    name = parse_principal(text)
    if name.kind == "domain":
        return ("domain", name.domain)
    return ("principal", str(name))


# Parsed once per distinct name: a 5,000-table mesh repeats a few thousand names many times.
@lru_cache(maxsize=65_536)
def _principal(text: str) -> str:
    return str(parse_principal(text))


@lru_cache(maxsize=65_536)
def _resource(text: str) -> str:
    return str(parse_resource(text))


@lru_cache(maxsize=65_536)
def _tags(text: str) -> str:
    return str(parse_tag_expression(text))


def _permissions(values: list[str]) -> list[str]:
    try:
        return sorted({Permission(value.strip().upper()).value for value in values})
    except ValueError as e:
        raise InvalidInputError(f"Unknown permission in {values}: {e}") from None


def _columns(values: list[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


def target_body(spec: GrantTargetSpec) -> dict[str, Any]:
    """A grant target in canonical spelling (the fields that say what a grant is on)."""
    body: dict[str, Any] = {}
    if spec.on is not None:
        body["on"] = _resource(spec.on)
        if spec.filter is not None:
            body["filter"] = spec.filter
        if spec.columns is not None:
            body["columns"] = _columns(spec.columns)
        if spec.exclude_columns:
            body["exclude_columns"] = sorted(spec.exclude_columns)
    if spec.on_tags is not None:
        body["on_tags"] = _tags(spec.on_tags)
        body["tag_resource_type"] = spec.tag_resource_type
    if spec.tag_scope is not None:  # only with on_tags: the grant service refuses it otherwise
        body["tag_scope"] = _resource(spec.tag_scope)
    if spec.location is not None:
        body["location"] = normalize_uri(spec.location)
    if spec.tag_values is not None:
        key, _, values = spec.tag_values.partition("=")
        chosen = sorted(v.strip() for v in values.split("|")) if values else None
        body["tag_values"] = key.strip() + (f"={'|'.join(chosen)}" if chosen else "")
    return body


def grant_key(to: str, target: GrantTargetSpec, with_grant_option: bool) -> str:
    """The key of a grant: its grantee, target and grant option, as canonical JSON."""
    return json.dumps(
        {"to": _principal(to), **target_body(target), "with_grant_option": with_grant_option},
        sort_keys=True,
        separators=(",", ":"),
    )


def _target_refs(body: dict[str, Any]) -> list[Ref]:
    refs: list[Ref] = []
    if "on" in body:
        name = parse_resource(body["on"])
        refs.append(
            (
                name.level if name.level != "column" else "table",
                str(name.table_name) if name.level == "column" else str(name),
            )
        )
        if "filter" in body:
            refs.append(("filter", f"{body['on']}|{body['filter']}"))
    if "tag_scope" in body:
        refs.append((parse_resource(body["tag_scope"]).level, body["tag_scope"]))
    if "location" in body:
        refs.append(("location", body["location"]))
    if "tag_values" in body:
        refs.append(("tag", body["tag_values"].partition("=")[0]))
    return refs


def _mesh_resources(mesh: MeshFile, fingerprints: Fingerprints) -> Iterator[Resource]:
    for key, value in mesh.settings.items():
        yield Resource("setting", key, GOVERNANCE, {"value": value})
    for tag in mesh.tags:
        yield Resource(
            "tag",
            tag.key,
            GOVERNANCE,
            {"values": sorted(tag.values), "description": tag.description},
        )
    for attribute in mesh.attributes:
        delegates = sorted(_principal(p) for p in attribute.delegates)
        yield Resource(
            "attribute",
            attribute.key,
            GOVERNANCE,
            {
                "values": sorted(attribute.values),
                "description": attribute.description,
                "delegates": delegates,
            },
            tuple(principal_ref(p) for p in delegates),
        )
    for mask in mesh.masks:
        yield Resource(
            "mask",
            mask.name,
            GOVERNANCE,
            {"on_tags": _tags(mask.on_tags), "function": mask.function},
        )
    for guardrail in mesh.guardrails:
        body = guardrail.model_dump(exclude={"name"})
        if body["on_tags"] is not None:
            body["on_tags"] = _tags(body["on_tags"])
        for field in ("keys", "prefixes"):
            if body[field] is not None:
                body[field] = sorted(set(body[field]))
        if body["prefixes"] is not None:
            body["prefixes"] = sorted({normalize_uri(p) for p in body["prefixes"]})
        yield Resource("guardrail", guardrail.name, GOVERNANCE, body)
    for workgroup in mesh.workgroups:
        yield Resource(
            "workgroup", workgroup.name, GOVERNANCE, _workgroup_body(workgroup, fingerprints)
        )


def _workgroup_body(workgroup: WorkgroupSpec, fingerprints: Fingerprints) -> dict[str, Any]:
    """A workgroup's body; ``spark_token`` is the fingerprint of its Spark Connect token's
    secret (``spark_token_env``), the address is never given with a token."""
    body = workgroup.model_dump(exclude={"name"})
    if split_spark_token(workgroup.spark_remote)[1] is not None:
        # Never echo the address: it holds the secret.
        raise InvalidInputError(
            f"Workgroup {workgroup.name}: spark_remote holds a token: give the address without "
            "it and name its secret in spark_token_env",
            details={"workgroup": workgroup.name},
        )
    env = workgroup.spark_token_env
    body["spark_token"] = fingerprints(f"workgroup:{workgroup.name}", env) if env else None
    return body


def _no_fingerprints(principal: str, name: str) -> str | None:
    return None


def _expiry(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def _domain_resources(
    folder: DomainFolder, columns_of: dict[str, list[str]], fingerprints: Fingerprints
) -> Iterator[Resource]:
    spec = folder.domain
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
        ref = _principal(admin)
        yield Resource("admin", f"{name}|{ref}", name, {}, (("domain", name), principal_ref(ref)))
    for principal in spec.principals:
        ref = _principal(principal.name)
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
            member_ref = _principal(member)
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
    for database in folder.catalog.databases:
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
    access = folder.access
    for data_filter in access.filters:
        table_name = _resource(data_filter.table)
        rows = data_filter.rows
        if rows is not None and table_name in columns_of:
            rows = validate_predicate(rows, columns=columns_of[table_name])
        yield Resource(
            "filter",
            f"{table_name}|{data_filter.name}",
            name,
            {
                "rows": rows,
                "columns": _columns(data_filter.columns),
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
        target = _resource(link.target)
        yield Resource(
            "link",
            _resource(link.name),
            name,
            {"target": target},
            ((parse_resource(target).level, target),),
        )
    for product in folder.products.products:
        body = product.model_dump(exclude={"name"})
        body["tables"] = [_resource(t) for t in product.tables]
        body["owner"] = _principal(product.owner)
        if body["auto_approve"] is not None:
            body["auto_approve"] = _tags(body["auto_approve"])
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
    for subscription in folder.products.subscriptions:
        subscriber = _principal(subscription.principal)
        body = subscription.model_dump(exclude={"product", "principal"})
        body["columns"] = _columns(body["columns"])
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
    refs = [principal_ref(grant.to), *_target_refs(target)]
    if parent is not None:
        refs.append(("grant", parent))
    return Resource(
        "grant",
        key,
        folder,
        {"permissions": _permissions(grant.permissions), "derived_from": parent},
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


def flatten(files: MeshFiles, *, fingerprints: Fingerprints | None = None) -> dict[Ref, Resource]:
    """Every resource of ``files`` by ``(kind, key)``; a token's ``secret`` (a workgroup's
    ``spark_token``) is its fingerprint from ``fingerprints`` (None without).

    Raises:
        InvalidInputError: a name or expression that does not parse, a resource given twice, or a
            principal in another domain's folder, naming the folder.
    """
    found: dict[Ref, Resource] = {}
    columns_of: dict[str, list[str]] = {}
    sources: list[tuple[str, Iterator[Resource]]] = []
    known = fingerprints or _no_fingerprints
    if files.mesh is not None:
        sources.append((f"{GOVERNANCE}/mesh.yaml", _mesh_resources(files.mesh, known)))
    for folder in files.domains:
        sources.append((f"{folder.domain.name}/", _domain_resources(folder, columns_of, known)))
    for where, resources in sources:
        try:
            for resource in resources:
                if resource.ref in found:
                    raise InvalidInputError(
                        f"{resource.label} is given twice",
                        details={"kind": resource.kind, "key": resource.key},
                    )
                found[resource.ref] = resource
        except LakemeshError as error:
            raise InvalidInputError(
                f"In {where}: {error.message}", details={"file": where, **error.details}
            ) from None
    return found
