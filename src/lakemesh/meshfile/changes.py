"""Making one planned change through the services, exactly as the caller would by hand: every
permission, guardrail and audit event is the service's own.

One function per kind and action: ``create``, ``change`` (from the hub's body to the file's) and
``remove``. Settings, share answers, data products and subscriptions are never deleted (their
history stays in the hub): ``remove`` retires them instead, a setting back to its default, a share
declined, a product deprecated, a subscription revoked (or rejected while pending).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.catalog import databases, domains, locations, tables
from lakemesh.catalog.columns import ColumnSpec
from lakemesh.errors import InvalidInputError, LakemeshError, batch_item
from lakemesh.governance import filters, grants, guardrails, masks, tag_assignments, tags
from lakemesh.governance.grants import GrantItem
from lakemesh.governance.tag_assignments import TagAssignmentItem
from lakemesh.identity import attributes, principals, tokens
from lakemesh.meshfile.change_context import (
    RETIRED_BY_PRUNE,
    Context,
    grant_parts,
    grant_request,
)
from lakemesh.meshfile.resources import Resource
from lakemesh.meshfile.sharing_changes import (
    answer_share,
    move_subscription,
    publish,
    subscription_row,
)
from lakemesh.model.names import parse_resource
from lakemesh.model.spark_remote import split_spark_token, with_spark_token
from lakemesh.query import workgroups
from lakemesh.settings import DEFAULTS, change_setting
from lakemesh.sharing import links, products, shares, subscriptions
from lakemesh.store.schema import Grant

# -- create -----------------------------------------------------------------------------------


def create_many(session: Session, context: Context, resources: Sequence[Resource]) -> None:
    """Create ``resources`` (of one kind, in order) in the hub: a kind of :data:`BATCHED` through
    its service's batched entry point (the same checks and audit events as one by one), the
    others one by one. A refusal sets ``context.refused`` and raises."""
    batched = BATCHES.get(resources[0].kind) if resources else None
    if batched is not None:
        try:
            batched(session, context, resources)
        except LakemeshError as error:
            if error.batch_item is not None:
                context.refused = resources[error.batch_item]
            raise
        return
    for resource in resources:
        try:
            create(session, context, resource)
        except LakemeshError:
            context.refused = resource
            raise


def _create_principals(session: Session, context: Context, resources: Sequence[Resource]) -> None:
    new = [principals.NewPrincipal(r.key, r.body["attributes"] or None) for r in resources]
    principals.create_principals(session, actor=context.actor, principals=new)


def _add_members(session: Session, context: Context, resources: Sequence[Resource]) -> None:
    pairs = [_membership(resource) for resource in resources]
    principals.add_members(session, actor=context.actor, memberships=pairs)


def _membership(resource: Resource) -> tuple[str, str]:
    group, member = resource.key.split("|")
    return group, member


def _assign_tags(session: Session, context: Context, resources: Sequence[Resource]) -> None:
    items = [_tag_assignment(resource) for resource in resources]
    tag_assignments.assign_tags_many(session, actor=context.actor, assignments=items)


def _tag_assignment(resource: Resource) -> TagAssignmentItem:
    target, tag_key = resource.key.rsplit("|", 1)
    return TagAssignmentItem(target, {tag_key: resource.body["value"]})


def _create_tables(session: Session, context: Context, resources: Sequence[Resource]) -> None:
    new: list[tables.NewTable] = []
    for position, resource in enumerate(resources):
        with batch_item(position):
            new.append(
                tables.NewTable(
                    name=parse_resource(resource.key),
                    location=resource.body["location"],
                    format=resource.body["format"],
                    columns=_columns(resource.body["columns"]),
                    description=resource.body["description"],
                    properties=resource.body["properties"],
                )
            )
    tables.create_tables(session, actor=context.actor, tables=new)


def _create_grants(session: Session, context: Context, resources: Sequence[Resource]) -> None:
    """Grants in batches: a grant derived from one of the batch waits for the batch (it needs
    its parent's id)."""
    start = 0
    while start < len(resources):
        keys: set[str] = set()
        items: list[GrantItem] = []
        end = start
        while end < len(resources) and resources[end].body["derived_from"] not in keys:
            resource = resources[end]
            with batch_item(end):
                items.append(_grant_item(context, resource, resource.body["permissions"]))
            keys.add(resource.key)
            end += 1
        try:
            rows = grants.grant_many(session, actor=context.actor, grants=items)
        except LakemeshError as error:
            if error.batch_item is not None:
                error.batch_item += start
            raise
        for resource, row in zip(resources[start:end], rows, strict=True):
            context.created_grants[resource.key] = row.id
        start = end


BATCHES: dict[str, Callable[[Session, Context, Sequence[Resource]], None]] = {
    "principal": _create_principals,
    "member": _add_members,
    "table": _create_tables,
    "tag_assignment": _assign_tags,
    "grant": _create_grants,
}
"""The kinds whose creations go to a service's batched entry point together."""
BATCHED = frozenset(BATCHES)


def create(session: Session, context: Context, resource: Resource) -> None:
    """Create ``resource`` in the hub."""
    actor, body, key = context.actor, resource.body, resource.key
    kind = resource.kind
    if kind == "setting":
        change_setting(session, actor=actor, key=key, value=body["value"])
    elif kind == "tag":
        tags.create_tag(
            session, actor=actor, key=key, values=body["values"], description=body["description"]
        )
    elif kind == "attribute":
        attributes.create_attribute_key(
            session, actor=actor, key=key, values=body["values"], description=body["description"]
        )
        for delegate in body["delegates"]:
            attributes.delegate_attribute(session, actor=actor, key=key, principal=delegate)
    elif kind == "mask":
        masks.create_mask(
            session,
            actor=actor,
            name=key,
            tag_expression=body["on_tags"],
            function=body["function"],
        )
    elif kind == "guardrail":
        guardrails.create_guardrail(session, actor=actor, name=key, **body)
    elif kind == "workgroup":
        workgroups.create_workgroup(session, actor=actor, name=key, **_workgroup(context, body))
    elif kind == "domain":
        domains.create_domain(session, actor=actor, name=key, **body)
    elif kind in BATCHES:
        BATCHES[kind](session, context, [resource])
    elif kind == "admin":
        domain, principal = key.split("|")
        domains.add_admin(session, actor=actor, domain=domain, principal=principal)
    elif kind == "token":
        _register_token(session, context, resource)
    elif kind == "location":
        locations.register_location(session, actor=actor, uri=key, domain=resource.folder)
    elif kind == "database":
        domain, name = key.split(".", 1)
        databases.create_database(
            session,
            actor=actor,
            domain=domain,
            name=name,
            description=body["description"],
            location=body["location"],
        )
    elif kind == "filter":
        table, name = key.split("|")
        filters.create_filter(
            session,
            actor=actor,
            name=name,
            table=table,
            rows=body["rows"],
            columns=body["columns"],
            excluded_columns=body["exclude_columns"],
        )
    elif kind == "share":
        answer_share(session, context, resource)
    elif kind == "product":
        publish(session, context, resource)
    elif kind == "subscription":
        product, principal = key.split("|")
        subscription_row = subscriptions.request_subscription(
            session,
            actor=actor,
            product=product,
            principal=principal,
            reason=body["reason"],
            columns=body["columns"],
            exclude_columns=body["exclude_columns"],
            filter=body["filter"],
        )
        move_subscription(session, context, subscription_row, body)
    elif kind == "link":
        links.create_link(session, actor=actor, name=key, target=body["target"])
    else:  # pragma: no cover - KINDS lists every kind
        raise InvalidInputError(f"Unknown resource kind: {kind}")


SPARK_FIELDS = {"spark_token_env": "spark_remote", "spark_token": "spark_remote"}
"""Fields of a workgroup's body that are part of the Spark Connect address the hub keeps."""


def _workgroup(
    context: Context, body: dict[str, Any], *, kept_token: str | None = None
) -> dict[str, Any]:
    """A workgroup's settings as the service takes them: the Spark Connect address with the
    token its secret name resolves to (``kept_token``, the hub's, when the secret is not given)."""
    settings = {name: value for name, value in body.items() if name not in SPARK_FIELDS}
    env = body["spark_token_env"]
    token = context.secrets.get(env, kept_token) if env is not None else None
    settings["spark_remote"] = with_spark_token(body["spark_remote"], token)
    return settings


def _register_token(session: Session, context: Context, resource: Resource) -> None:
    principal, name = resource.key.rsplit("|", 1)
    expires_at = resource.body["expires_at"]
    tokens.register_named_token(
        session,
        actor=context.actor,
        principal=principal,
        secret_name=name,
        secret=context.secrets.get(name),
        expires_at=datetime.fromisoformat(expires_at) if expires_at is not None else None,
        description=resource.body["description"],
    )


def _columns(columns: list[dict[str, Any]]) -> list[ColumnSpec]:
    return [
        ColumnSpec(
            name=c["name"],
            type=c["type"],
            is_partition=bool(c.get("partition")),
            description=c.get("description", ""),
        )
        for c in columns
    ]


# -- change -----------------------------------------------------------------------------------


def _unchangeable(resource: Resource, fields: list[str]) -> InvalidInputError:
    return InvalidInputError(
        f"{resource.label}: {', '.join(fields)} cannot be changed in place "
        "(remove it and create it anew)",
        details={"kind": resource.kind, "key": resource.key, "fields": fields},
    )


def change(session: Session, context: Context, before: Resource, after: Resource) -> None:
    """Change ``before`` (the hub's) into ``after`` (the files')."""
    actor, old, new, key = context.actor, before.body, after.body, after.key
    kind = after.kind
    differing = sorted(name for name in new if new.get(name) != old.get(name))
    if kind in ("mask", "link") or (kind == "guardrail" and "kind" in differing):
        remove(session, context, before)
        create(session, context, after)
    elif kind == "setting":
        change_setting(session, actor=actor, key=key, value=new["value"])
    elif kind == "tag":
        tags.update_tag(
            session,
            actor=actor,
            key=key,
            add_values=sorted(set(new["values"]) - set(old["values"])),
            remove_values=sorted(set(old["values"]) - set(new["values"])),
            description=new["description"] if "description" in differing else None,
        )
    elif kind == "attribute":
        if "values" in differing or "description" in differing:
            attributes.update_attribute_key(
                session,
                actor=actor,
                key=key,
                values=new["values"] if "values" in differing else None,
                description=new["description"] if "description" in differing else None,
            )
        for delegate in sorted(set(new["delegates"]) - set(old["delegates"])):
            attributes.delegate_attribute(session, actor=actor, key=key, principal=delegate)
        for delegate in sorted(set(old["delegates"]) - set(new["delegates"])):
            attributes.undelegate_attribute(session, actor=actor, key=key, principal=delegate)
    elif kind == "guardrail":
        guardrails.update_guardrail(
            session,
            actor=actor,
            name=key,
            **{name: value for name, value in new.items() if name != "kind"},
        )
    elif kind == "workgroup":
        kept = split_spark_token(workgroups.get_workgroup_row(session, key).spark_remote)[1]
        settings = _workgroup(context, new, kept_token=kept)
        changed = {SPARK_FIELDS.get(name, name) for name in differing}
        workgroups.update_workgroup(
            session, actor=actor, name=key, changes={name: settings[name] for name in changed}
        )
    elif kind == "domain":
        domains.update_domain(session, actor=actor, name=key, **new)
    elif kind == "principal":
        principals.update_attributes(
            session,
            actor=actor,
            principal=key,
            set_={k: v for k, v in new["attributes"].items() if old["attributes"].get(k) != v},
            unset=sorted(set(old["attributes"]) - set(new["attributes"])),
        )
    elif kind == "database":
        if "location" in differing:
            raise _unchangeable(after, ["location"])
        domain, name = key.split(".", 1)
        databases.alter_database(
            session, actor=actor, domain=domain, name=name, description=new["description"]
        )
    elif kind == "table":
        if "location" in differing or "format" in differing:
            raise _unchangeable(after, [f for f in ("location", "format") if f in differing])
        tables.alter_table(
            session,
            actor=actor,
            name=parse_resource(key),
            description=new["description"] if "description" in differing else None,
            properties=new["properties"] if "properties" in differing else None,
            columns=_columns(new["columns"]) if "columns" in differing else None,
        )
    elif kind in ("tag_assignment", "token"):
        create(session, context, after)
    elif kind == "filter":
        table, name = key.split("|")
        columns, excluded = new["columns"], new["exclude_columns"]
        filters.update_filter(
            session,
            actor=actor,
            name=name,
            table=table,
            rows=new["rows"],
            all_rows=new["rows"] is None,
            columns=columns,
            excluded_columns=excluded if columns is None and excluded else None,
            all_columns=columns is None and not excluded,
        )
    elif kind == "grant":
        _change_grant(session, context, before, after)
    elif kind == "share":
        answer_share(session, context, after)
    elif kind == "product":
        publish(session, context, after)
    elif kind == "subscription":
        fixed = [name for name in differing if name not in ("status", "comment")]
        if fixed:
            raise _unchangeable(after, fixed)
        move_subscription(session, context, subscription_row(session, key), new)
    else:  # pragma: no cover - every kind with a body is handled above
        raise _unchangeable(after, differing)


def _grant_item(context: Context, resource: Resource, permissions: list[str]) -> GrantItem:
    """The service request granting ``permissions`` of the grant ``resource`` (derived from its
    parent, if any)."""
    grantee, target, option = grant_parts(resource.key)
    parent = resource.body["derived_from"]
    return GrantItem(
        grantee=grantee,
        request=grant_request(target, permissions, option),
        derived_from=context.grant_id(parent) if parent else None,
    )


def _grant(session: Session, context: Context, resource: Resource, permissions: list[str]) -> Grant:
    """Grant ``permissions`` of the grant ``resource`` (derived from its parent, if any)."""
    return grants.grant_many(
        session, actor=context.actor, grants=[_grant_item(context, resource, permissions)]
    )[0]


def _change_grant(session: Session, context: Context, before: Resource, after: Resource) -> None:
    if before.body["derived_from"] != after.body["derived_from"]:
        remove(session, context, before)
        create(session, context, after)
        return
    grantee, target, option = grant_parts(after.key)
    old, new = set(before.body["permissions"]), set(after.body["permissions"])
    if new - old:
        _grant(session, context, after, sorted(new - old))
    if old - new:
        grants.revoke(
            session,
            actor=context.actor,
            grantee=grantee,
            request=grant_request(target, sorted(old - new), option),
        )


# -- remove -----------------------------------------------------------------------------------


def remove(session: Session, context: Context, resource: Resource) -> None:
    """Remove ``resource`` from the hub (``--prune``)."""
    actor, key, kind = context.actor, resource.key, resource.kind
    if kind == "tag":
        tags.delete_tag(session, actor=actor, key=key)
    elif kind == "attribute":
        attributes.delete_attribute_key(session, actor=actor, key=key)
    elif kind == "mask":
        masks.delete_mask(session, actor=actor, name=key)
    elif kind == "guardrail":
        guardrails.delete_guardrail(session, actor=actor, name=key)
    elif kind == "workgroup":
        workgroups.delete_workgroup(session, actor=actor, name=key)
    elif kind == "domain":
        domains.delete_domain(session, actor=actor, name=key)
    elif kind == "principal":
        principals.delete_principal(session, actor=actor, principal=key)
    elif kind == "admin":
        domain, principal = key.split("|")
        domains.remove_admin(session, actor=actor, domain=domain, principal=principal)
    elif kind == "member":
        group, member = key.split("|")
        principals.remove_member(session, actor=actor, group=group, member=member)
    elif kind == "token":
        principal, name = key.rsplit("|", 1)
        tokens.revoke_named_token(session, actor=actor, principal=principal, secret_name=name)
    elif kind == "location":
        locations.deregister_location(session, actor=actor, uri=key)
    elif kind == "database":
        domain, name = key.split(".", 1)
        databases.drop_database(session, actor=actor, domain=domain, name=name)
    elif kind == "table":
        tables.drop_table(session, actor=actor, name=parse_resource(key))
    elif kind == "tag_assignment":
        target, tag_key = key.rsplit("|", 1)
        tag_assignments.remove_tags(session, actor=actor, resource=target, keys=[tag_key])
    elif kind == "filter":
        table, name = key.split("|")
        filters.delete_filter(session, actor=actor, name=name, table=table)
    elif kind == "grant":
        grants.revoke_grant(session, actor=actor, grant_id=context.grant_id(key))
    elif kind == "link":
        links.drop_link(session, actor=actor, name=key)
    elif kind == "setting":
        change_setting(session, actor=actor, key=key, value=DEFAULTS[key])
    elif kind == "share":
        shares.decline_share(session, actor=actor, share_id=context.grant_id(key))
    elif kind == "product":
        products.deprecate_product(session, actor=actor, name=key, message=RETIRED_BY_PRUNE)
    elif kind == "subscription":
        wanted = "revoked" if resource.body["status"] == "approved" else "rejected"
        move_subscription(
            session,
            context,
            subscription_row(session, key),
            {"status": wanted, "comment": RETIRED_BY_PRUNE},
        )
    else:  # pragma: no cover - KINDS lists every kind
        raise InvalidInputError(
            f"{resource.label} cannot be removed by apply",
            details={"kind": kind, "key": key},
        )
