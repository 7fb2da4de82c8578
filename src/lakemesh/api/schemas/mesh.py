"""The mesh as code: the files (the models of :mod:`lakemesh.meshfile.model`), plans and applies."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel
from lakemesh.meshfile.model import MeshFiles


class MeshPlanCreate(RequestBody):
    files: MeshFiles
    prune: bool = Field(False, description="Remove what the files' domains hold and they lack")
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="The values of the secrets the files name (tokens' secret_env), by name: "
        "never stored (a token keeps its hash), never returned",
    )


class MeshApplyCreate(MeshPlanCreate):
    atomic: bool = Field(False, description="Everything in one transaction")


class MeshPlanPublic(ResponseModel):
    summary: dict[str, int] = Field(description="create, change, remove, kept and problems")
    changes: list[dict[str, Any]] = Field(
        description='Each {"action", "kind", "key", "folder", "before", "after"}'
    )
    kept: list[dict[str, Any]] = Field(
        description="Resources of the files' domains the files lack (removed with prune)"
    )
    problems: list[dict[str, Any]] = Field(
        description='Each {"kind", "key", "folder", "type", "message"}: why apply would refuse'
    )
    effects: dict[str, Any] = Field(
        description='{"changes": [{"principal", "table", "access", "columns_gained", '
        '"columns_lost", "rows"?, "masks"?}], "skipped": why none were compared, or null}'
    )
    transactions: list[list[str]] = Field(description="The folders of each transaction, in order")


class MeshApplyPublic(MeshPlanPublic):
    apply_id: str = Field(description="In the details of every audit event of this apply")
    committed: list[list[str]] = Field(description="The transactions committed")


class DecisionSnapshotPublic(ResponseModel):
    """A decision snapshot (:meth:`lakemesh.recovery.snapshot.DecisionSnapshot.to_dict`)."""

    format: int = Field(description="The snapshot format's version")
    principals: list[str] = Field(description="Every principal, sorted")
    tables: dict[str, list[str]] = Field(description="Each table (d.db.t) → its columns in order")
    decisions: dict[str, dict[str, dict[str, Any]]] = Field(
        description="principal → table → its SELECT decision (columns, rows, masks); absent: denied"
    )
    describe: dict[str, list[str]] = Field(
        description="principal → the tables it may DESCRIBE, sorted"
    )
