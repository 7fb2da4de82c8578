"""The mesh files as a flat list of resources (what ``plan`` compares and ``apply`` orders):
``governance/mesh.yaml``'s here, each domain folder's by :mod:`.folder_resources`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lakemesh.errors import InvalidInputError, LakemeshError
from lakemesh.meshfile.canonical import principal_name, principal_ref, tag_expression
from lakemesh.meshfile.folder_resources import domain_resources
from lakemesh.meshfile.model import MeshFile, MeshFiles, WorkgroupSpec
from lakemesh.meshfile.resources import Fingerprints, Ref, Resource
from lakemesh.model.actors import GOVERNANCE
from lakemesh.model.spark_remote import split_spark_token
from lakemesh.storage import normalize_uri


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
        delegates = sorted(principal_name(p) for p in attribute.delegates)
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
            {"on_tags": tag_expression(mask.on_tags), "function": mask.function},
        )
    for guardrail in mesh.guardrails:
        body = guardrail.model_dump(exclude={"name"})
        if body["on_tags"] is not None:
            body["on_tags"] = tag_expression(body["on_tags"])
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
        sources.append((f"{folder.domain.name}/", domain_resources(folder, columns_of, known)))
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
