"""What the changes of one apply share: the caller, the hub's grants by key (and the grants
made so far), the secrets the files name; how a grant's key becomes a service request; and what
``--prune`` does to what the files lack."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lakemesh.errors import NotFoundError
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.meshfile.resources import Resource
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.settings import DEFAULTS

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
            raise NotFoundError(f"Grant does not exist: {grant_text(key)}", details={"grant": key})
        return found


def grant_text(key: str) -> str:
    body = json.loads(key)
    target = next(
        f"{field_name} {body[field_name]}"
        for field_name in ("on", "on_tags", "location", "tag_values")
        if field_name in body
    )
    return f"to {body['to']} on {target}"


def grant_request(target: dict[str, Any], permissions: list[str], option: bool) -> GrantRequest:
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


def grant_parts(key: str) -> tuple[str, dict[str, Any], bool]:
    body = json.loads(key)
    return body.pop("to"), body, bool(body.pop("with_grant_option"))
