"""``/mesh``: the mesh as code. Export the mesh as files, plan and apply files, the JSON
Schema of the files (no token needed: it says nothing about this mesh), and the mesh's decisions
(a snapshot, for a disaster-recovery drill against a running hub).

Plan and apply run transactions of their own: this router authenticates outside the request's
transaction, as ``/crawls`` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from lakemesh import meshfile
from lakemesh.api.deps import HubDep, StandaloneActor
from lakemesh.api.schemas.mesh import (
    DecisionSnapshotPublic,
    MeshApplyCreate,
    MeshApplyPublic,
    MeshPlanCreate,
    MeshPlanPublic,
)
from lakemesh.meshfile.model import MeshFiles
from lakemesh.recovery.decisions import snapshot_for

router = APIRouter(prefix="/mesh", tags=["mesh"])

MeshFileName = Literal["mesh.yaml", "domain.yaml", "catalog.yaml", "access.yaml", "products.yaml"]


@router.get(
    "/schema",
    summary="The JSON Schema of the mesh files (no token needed)",
    response_model=dict[str, Any],
)
def schema(
    file: Annotated[
        MeshFileName | None,
        Query(description="One file's schema (default: any mesh file)"),
    ] = None,
) -> dict[str, Any]:
    return meshfile.json_schema(file)


@router.get(
    "/export",
    summary="The mesh (or the domains named) as files",
    response_model=MeshFiles,
    response_model_exclude_defaults=False,
)
def export(
    hub: HubDep,
    actor: StandaloneActor,
    domain: Annotated[
        list[str] | None, Query(description="Only these domains (default: all one administers)")
    ] = None,
) -> MeshFiles:
    with hub.read() as session:
        return meshfile.export_mesh(session, actor=actor, domains=domain)


@router.get(
    "/decisions",
    summary="Every principal's SELECT decision on every table (mesh admins): a decision snapshot",
    response_model=DecisionSnapshotPublic,
)
def decisions(hub: HubDep, actor: StandaloneActor) -> dict[str, Any]:
    with hub.read() as session:
        return snapshot_for(session, actor=actor).to_dict()


@router.post(
    "/plan",
    summary="What applying the files would create, change and remove, and its effect on access",
    response_model=MeshPlanPublic,
)
def plan(body: MeshPlanCreate, hub: HubDep, actor: StandaloneActor) -> dict[str, Any]:
    return meshfile.plan_mesh(
        hub, actor=actor, files=body.files, prune=body.prune, secrets=body.secrets
    ).to_dict()


@router.post(
    "/apply",
    summary="Make the hub what the files say (one transaction per domain, or atomic)",
    response_model=MeshApplyPublic,
)
def apply(body: MeshApplyCreate, hub: HubDep, actor: StandaloneActor) -> dict[str, Any]:
    return meshfile.apply_mesh(
        hub,
        actor=actor,
        files=body.files,
        prune=body.prune,
        atomic=body.atomic,
        secrets=body.secrets,
    ).to_dict()
