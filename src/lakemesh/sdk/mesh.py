"""SDK methods of the mesh as code: export, plan and apply the mesh files."""

from __future__ import annotations

from typing import Any

from lakemesh.sdk.base import ApiBase


class MeshMethods(ApiBase):
    """The mesh as files (``lakemesh.meshfile.MeshFiles`` as JSON) and plans and applies of them."""

    def mesh_schema(self, file: str | None = None) -> dict[str, Any]:
        """The JSON Schema of the mesh files (of one, like ``domain.yaml``, when named)."""
        result: dict[str, Any] = self._get("/mesh/schema", file=file)
        return result

    def mesh_export(self, domains: list[str] | None = None) -> dict[str, Any]:
        """The mesh (or the ``domains`` named) as files: ``{"mesh", "domains": [...]}``."""
        result: dict[str, Any] = self._get("/mesh/export", domain=domains or None)
        return result

    def mesh_decisions(self) -> dict[str, Any]:
        """Every principal's SELECT decision on every table, as ``lakemesh decisions snapshot``
        writes it (mesh admins)."""
        result: dict[str, Any] = self._get("/mesh/decisions")
        return result

    def mesh_plan(
        self,
        files: dict[str, Any],
        *,
        prune: bool = False,
        secrets: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """What applying ``files`` would change, its problems and its effect on access.
        ``secrets``: the values of the secrets the files name (tokens' ``secret_env``)."""
        result: dict[str, Any] = self.request(
            "POST", "/mesh/plan", json={"files": files, "prune": prune, "secrets": secrets or {}}
        )
        return result

    def mesh_apply(
        self,
        files: dict[str, Any],
        *,
        prune: bool = False,
        atomic: bool = False,
        secrets: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Make the hub what ``files`` say: the plan carried out, its ``apply_id`` and the
        transactions committed. Refused as a whole (nothing applied) when anything is."""
        body = {"files": files, "prune": prune, "atomic": atomic, "secrets": secrets or {}}
        result: dict[str, Any] = self.request("POST", "/mesh/apply", json=body)
        return result
