"""Making one planned change through the services, exactly as the caller would by hand: every
permission, guardrail and audit event is the service's own.

One function per kind and action: ``create``, ``change`` (from the hub's body to the file's) and
``remove``. Settings, share answers, data products and subscriptions are never deleted (their
history stays in the hub): ``remove`` retires them instead, a setting back to its default, a share
declined, a product deprecated, a subscription revoked (or rejected while pending).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.catalog import databases, domains, locations, tables
from lakemesh.catalog.tables import ColumnSpec
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.governance import filters, grants, guardrails, masks, tag_assignments, tags
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.identity import attributes, principals, tokens
from lakemesh.meshfile.resources import Resource
from lakemesh.meshfile.secrets import split_spark_token, with_spark_token
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.query import workgroups
from lakemesh.settings import DEFAULTS, change_setting
from lakemesh.sharing import links, products, shares, subscriptions
from lakemesh.store.schema import DataProduct, Subscription

RETIRED_BY_PRUNE = "removed from the mesh files"
"""The deprecation message of a product, and the reason of a subscription, that prune retired."""


def prune_action(resource: Resource) -> str | None:
    """What ``--prune`` does to ``resource`` of the hub that the files lack: ``remove``, nothing
    (None: it is retired already, a setting at its default, a declined share, a deprecated
    product, a rejected or revoked subscription), or ``keep`` (a draft product: never published,
    nothing deletes it)."""
    body = resource.body
    if resource.kind == "setting":
        return None if body["value"] == DEFAULTS[resource.key] else "remove"
    if resource.kind == "share":
        return None if body["status"] == "declined" else "remove"
    if resource.kind == "product":
        return {"deprecated": None, "draft": "keep"}.get(body["status"], "remove")
    if resource.kind == "subscription":
        return None if body["status"] in ("rejected", "revoked") else "remove"
    return "remove"


@dataclass
class Context:
    """What the changes of one apply share: the caller and the hub's grants by key."""

    actor: Actor
    grant_ids: Callable[[], dict[str, int]]
    secrets: Mapping[str, str] = field(default_factory=dict)
    """The values of the secrets the files name, by name (never stored, never returned)."""
    created_grants: dict[str, int] = field(default_factory=dict)
    refused: Resource | None = None
    """The resource whose change the services refused (set before the error goes up)."""

    def grant_id(self, key: str) -> int:
        found = self.created_grants.get(key) or self.grant_ids().get(key)
        if found is None:
            raise NotFoundError(f"Grant does not exist: {_grant_text(key)}", details={"grant": key})
        return found


def _grant_text(key: str) -> str:
    body = json.loads(key)
    target = next(
        f"{field_name} {body[field_name]}"
        for field_name in ("on", "on_tags", "location", "tag_values")
        if field_name in body
    )
    return f"to {body['to']} on {target}"


Handler = Callable[[Session, Context, Resource, Resource | None], None]


def _request(target: dict[str, Any], permissions: list[str], option: bool) -> GrantRequest:
    return GrantRequest(
        permissions=frozenset(Permission(p) for p in permissions),
        on=target.get("on"),
        columns=tuple(target["columns"]) if target.get("columns") is not None else None,
        exclude_columns=tuple(target.get("exclude_columns", ())),
        filter=target.get("filter"),
        on_tags=target.get("on_tags"),
        tag_resource_type=target.get("tag_resource_type", "table"),
        tag_scope=target.get("tag_scope"),
        location=target.get("location"),
        tag_values=target.get("tag_values"),
        with_grant_option=option,
    )


def _grant_parts(key: str) -> tuple[str, dict[str, Any], bool]:
    body = json.loads(key)
    return body.pop("to"), body, bool(body.pop("with_grant_option"))


# -- create -----------------------------------------------------------------------------------


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
    elif kind == "principal":
        principals.create_principal(
            session, actor=actor, principal=key, attributes=body["attributes"] or None
        )
    elif kind == "admin":
        domain, principal = key.split("|")
        domains.add_admin(session, actor=actor, domain=domain, principal=principal)
    elif kind == "member":
        group, member = key.split("|")
        principals.add_member(session, actor=actor, group=group, member=member)
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
    elif kind == "table":
        tables.create_table(
            session,
            actor=actor,
            name=parse_resource(key),
            location=body["location"],
            format=body["format"],
            columns=_columns(body["columns"]),
            description=body["description"],
            properties=body["properties"],
        )
    elif kind == "tag_assignment":
        target, tag_key = key.rsplit("|", 1)
        tag_assignments.assign_tags(
            session, actor=actor, resource=target, tags={tag_key: body["value"]}
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
    elif kind == "grant":
        grantee, grant_target, option = _grant_parts(key)
        parent = body["derived_from"]
        grant_row = grants.grant(
            session,
            actor=actor,
            grantee=grantee,
            request=_request(grant_target, body["permissions"], option),
            derived_from=context.grant_id(parent) if parent else None,
        )
        context.created_grants[key] = grant_row.id
    elif kind == "share":
        _answer_share(session, context, resource)
    elif kind == "product":
        _publish(session, context, resource)
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
        _move_subscription(session, context, subscription_row, body)
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


def _answer_share(session: Session, context: Context, resource: Resource) -> None:
    share_id = context.grant_id(resource.key)
    answer = shares.accept_share if resource.body["status"] == "accepted" else shares.decline_share
    answer(session, actor=context.actor, share_id=share_id)


def _publish(session: Session, context: Context, resource: Resource) -> None:
    body = resource.body
    contract = body["contract"]
    products.publish_product(
        session,
        actor=context.actor,
        spec=products.ProductSpec(
            name=resource.key,
            domain=resource.folder,
            tables=body["tables"],
            title=body["title"],
            description=body["description"],
            owner=body["owner"],
            tags=body["tags"],
            version=None if contract is not None else body["version"],
            contract=yaml.safe_dump(contract, sort_keys=False) if contract is not None else None,
            draft=body["status"] == "draft",
            auto_approve=body["auto_approve"] or "",
        ),
    )
    if body["status"] == "deprecated":
        products.deprecate_product(
            session,
            actor=context.actor,
            name=resource.key,
            message=body["deprecation_message"] or "",
        )


def _subscription_row(session: Session, key: str) -> Subscription:
    product, principal = key.split("|")
    row = session.execute(
        select(Subscription)
        .join(DataProduct, DataProduct.id == Subscription.product_id)
        .where(DataProduct.name == product, Subscription.principal == principal)
        .order_by(Subscription.id.desc())
        .limit(1)
    ).scalar()
    if row is None:
        raise NotFoundError(
            f"Subscription does not exist: {principal} to {product}",
            details={"product": product, "principal": principal},
        )
    return row


def _move_subscription(
    session: Session, context: Context, row: Subscription, body: dict[str, Any]
) -> None:
    """Take a subscription from its status to the one the files say."""
    wanted, actor = body["status"], context.actor
    comment = body["comment"] or ""
    if row.status == wanted:
        return
    if row.status == "pending" and wanted == "approved":
        subscriptions.approve_subscription(
            session, actor=actor, subscription_id=row.id, comment=comment
        )
    elif row.status == "pending" and wanted == "rejected":
        subscriptions.reject_subscription(
            session, actor=actor, subscription_id=row.id, reason=comment
        )
    elif row.status == "approved" and wanted == "revoked":
        subscriptions.revoke_subscription(
            session, actor=actor, subscription_id=row.id, reason=comment
        )
    elif row.status == "pending" and wanted == "revoked":
        subscriptions.approve_subscription(session, actor=actor, subscription_id=row.id)
        subscriptions.revoke_subscription(
            session, actor=actor, subscription_id=row.id, reason=comment
        )
    else:
        raise InvalidInputError(
            f"A subscription of {row.principal} to {row.product.name} cannot go from "
            f"{row.status} to {wanted}",
            details={"subscription": row.id, "status": row.status, "wanted": wanted},
        )


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
        _answer_share(session, context, after)
    elif kind == "product":
        _publish(session, context, after)
    elif kind == "subscription":
        fixed = [name for name in differing if name not in ("status", "comment")]
        if fixed:
            raise _unchangeable(after, fixed)
        _move_subscription(session, context, _subscription_row(session, key), new)
    else:  # pragma: no cover - every kind with a body is handled above
        raise _unchangeable(after, differing)


def _change_grant(session: Session, context: Context, before: Resource, after: Resource) -> None:
    if before.body["derived_from"] != after.body["derived_from"]:
        remove(session, context, before)
        create(session, context, after)
        return
    grantee, target, option = _grant_parts(after.key)
    old, new = set(before.body["permissions"]), set(after.body["permissions"])
    if new - old:
        parent = after.body["derived_from"]
        grants.grant(
            session,
            actor=context.actor,
            grantee=grantee,
            request=_request(target, sorted(new - old), option),
            derived_from=context.grant_id(parent) if parent else None,
        )
    if old - new:
        grants.revoke(
            session,
            actor=context.actor,
            grantee=grantee,
            request=_request(target, sorted(old - new), option),
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
        _move_subscription(
            session,
            context,
            _subscription_row(session, key),
            {"status": wanted, "comment": RETIRED_BY_PRUNE},
        )
    else:  # pragma: no cover - KINDS lists every kind
        raise InvalidInputError(
            f"{resource.label} cannot be removed by apply",
            details={"kind": kind, "key": key},
        )
