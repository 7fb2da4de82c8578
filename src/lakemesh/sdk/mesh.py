"""SDK methods of the mesh as code: export, plan and apply the mesh files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakemesh.sdk.base import ApiBase, parsed

if TYPE_CHECKING:
    from lakemesh.api.schemas.mesh import (
        DecisionSnapshotPublic,
        MeshApplyPublic,
        MeshPlanPublic,
    )
    from lakemesh.meshfile.model import MeshFiles

# The models of the mesh files load in each method, not at the top: the CLI imports the SDK at
# startup, and only its mesh commands need them.


class MeshMethods(ApiBase):
    """The mesh as files (``lakemesh.meshfile.MeshFiles``) and plans and applies of them."""

    def mesh_schema(self, file: str | None = None) -> dict[str, Any]:
        """The JSON Schema of the mesh files (of one, like ``domain.yaml``, when named)."""
        result: dict[str, Any] = self._get("/mesh/schema", file=file)
        return result

    def mesh_export(self, domains: list[str] | None = None) -> MeshFiles:
        """The mesh (or the ``domains`` named) as files: its ``mesh`` and its ``domains``."""
        from lakemesh.meshfile.model import MeshFiles

        return MeshFiles.model_validate(self._get("/mesh/export", domain=domains or None))

    def mesh_decisions(self) -> DecisionSnapshotPublic:
        """Every principal's SELECT decision on every table, as ``lakemesh decisions snapshot``
        writes it (mesh admins)."""
        from lakemesh.api.schemas.mesh import DecisionSnapshotPublic

        return parsed(DecisionSnapshotPublic, self._get("/mesh/decisions"))

    def mesh_plan(
        self,
        files: dict[str, Any],
        *,
        prune: bool = False,
        secrets: dict[str, str] | None = None,
    ) -> MeshPlanPublic:
        """What applying ``files`` would change, its problems and its effect on access.
        ``secrets``: the values of the secrets the files name (tokens' ``secret_env``)."""
        from lakemesh.api.schemas.mesh import MeshPlanPublic

        body = {"files": files, "prune": prune, "secrets": secrets or {}}
        return parsed(MeshPlanPublic, self.request("POST", "/mesh/plan", json=body))

    def mesh_apply(
        self,
        files: dict[str, Any],
        *,
        prune: bool = False,
        atomic: bool = False,
        secrets: dict[str, str] | None = None,
    ) -> MeshApplyPublic:
        """Make the hub what ``files`` say: the plan carried out, its ``apply_id`` and the
        transactions committed. Refused as a whole (nothing applied) when anything is."""
        from lakemesh.api.schemas.mesh import MeshApplyPublic

        body = {"files": files, "prune": prune, "atomic": atomic, "secrets": secrets or {}}
        return parsed(MeshApplyPublic, self.request("POST", "/mesh/apply", json=body))
