"""Names and expressions of the mesh files in the spelling the hub stores: principal names in
lower case, tag expressions as the policy engine prints them, URIs normalised, so a file that
spells something differently from the export is not a change; and a grant's key (its grantee,
target and grant option) built from them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from lakemesh.errors import InvalidInputError
from lakemesh.meshfile.grant_specs import sorted_columns
from lakemesh.meshfile.model import GrantTargetSpec
from lakemesh.meshfile.resources import Ref
from lakemesh.model.names import parse_principal, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy.tag_expressions import parse_tag_expression
from lakemesh.storage import normalize_uri


@lru_cache(maxsize=65_536)
def principal_ref(text: str) -> Ref:
    """The resource a principal name refers to (``domain:x`` is the domain itself)."""
    name = parse_principal(text)
    if name.kind == "domain":
        return ("domain", name.domain)
    return ("principal", str(name))


# Parsed once per distinct name: a 5,000-table mesh repeats a few thousand names many times.
@lru_cache(maxsize=65_536)
def principal_name(text: str) -> str:
    """A principal's name as the hub stores it."""
    return str(parse_principal(text))


@lru_cache(maxsize=65_536)
def resource_name(text: str) -> str:
    """A catalog name as the hub stores it."""
    return str(parse_resource(text))


@lru_cache(maxsize=65_536)
def tag_expression(text: str) -> str:
    """A tag expression as the policy engine prints it."""
    return str(parse_tag_expression(text))


def permission_names(values: list[str]) -> list[str]:
    """Permission names upper-cased, each once, sorted."""
    try:
        return sorted({Permission(value.strip().upper()).value for value in values})
    except ValueError as e:
        raise InvalidInputError(f"Unknown permission in {values}: {e}") from None


def target_body(spec: GrantTargetSpec) -> dict[str, Any]:
    """A grant target in canonical spelling (the fields that say what a grant is on)."""
    body: dict[str, Any] = {}
    if spec.on is not None:
        body["on"] = resource_name(spec.on)
        if spec.filter is not None:
            body["filter"] = spec.filter
        if spec.columns is not None:
            body["columns"] = sorted_columns(spec.columns)
        if spec.exclude_columns:
            body["exclude_columns"] = sorted(spec.exclude_columns)
    if spec.on_tags is not None:
        body["on_tags"] = tag_expression(spec.on_tags)
        body["tag_resource_type"] = spec.tag_resource_type
    if spec.tag_scope is not None:  # only with on_tags: the grant service refuses it otherwise
        body["tag_scope"] = resource_name(spec.tag_scope)
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
        {"to": principal_name(to), **target_body(target), "with_grant_option": with_grant_option},
        sort_keys=True,
        separators=(",", ":"),
    )


def target_refs(body: dict[str, Any]) -> list[Ref]:
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
