"""SDK methods of tags, tag search, data filters and masks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lakemesh.sdk.base import ApiBase, only_set, segment


class GovernanceTagMethods(ApiBase):
    """Tag keys and their assignments, tables by tag expression, data filters, masks."""

    # -- tag keys -------------------------------------------------------------------------------

    def list_tags(self) -> list[dict[str, Any]]:
        """Every tag key with its allowed values."""
        result: list[dict[str, Any]] = self._get("/tags")
        return result

    def create_tag(
        self, key: str, *, values: Iterable[str], description: str = ""
    ) -> dict[str, Any]:
        """Define a tag key and its allowed values (mesh admins)."""
        body = {"key": key, "values": list(values), "description": description}
        result: dict[str, Any] = self.request("POST", "/tags", json=body)
        return result

    def get_tag(self, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/tags/{segment(key)}")
        return result

    def update_tag(
        self,
        key: str,
        *,
        add_values: Iterable[str] = (),
        remove_values: Iterable[str] = (),
        description: str | None = None,
    ) -> dict[str, Any]:
        """Add or remove allowed values (a value in use cannot go), or change the description."""
        body: dict[str, Any] = {
            "add_values": list(add_values),
            "remove_values": list(remove_values),
            **only_set(description=description),
        }
        result: dict[str, Any] = self.request("PATCH", f"/tags/{segment(key)}", json=body)
        return result

    def delete_tag(self, key: str) -> None:
        """Delete a tag key that no resource, grant or mask uses."""
        self.request("DELETE", f"/tags/{segment(key)}")

    # -- tags on resources ----------------------------------------------------------------------

    def resource_tags(self, name: str) -> dict[str, Any]:
        """``{"resource", "level", "own", "inherited", "overridden", "effective"}`` of
        ``D.DB[.T[.C]]``."""
        result: dict[str, Any] = self._get(f"/resources/{segment(name)}/tags")
        return result

    def assign_tags(self, name: str, tags: Mapping[str, str]) -> dict[str, Any]:
        """Assign ``{key: value}`` on ``D.DB[.T[.C]]``; returns ``{"resource", "changes",
        "tags"}`` where each change names the value it replaced (``previous``)."""
        result: dict[str, Any] = self.request(
            "POST", f"/resources/{segment(name)}/tags", json={"tags": dict(tags)}
        )
        return result

    def remove_tags(self, name: str, keys: Iterable[str]) -> dict[str, Any]:
        """Remove tags by key from ``D.DB[.T[.C]]`` (it inherits again)."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/resources/{segment(name)}/tags", params={"key": list(keys)}
        )
        return result

    def search_tables(self, tags: str) -> list[dict[str, Any]]:
        """Tables with columns matching a tag expression: ``[{"name", "columns"}]``."""
        result: list[dict[str, Any]] = self._get("/search/tables", tags=tags)
        return result

    # -- data filters ---------------------------------------------------------------------------

    def list_filters(self, *, table: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/filters", table=table)
        return result

    def create_filter(
        self,
        name: str,
        *,
        table: str,
        rows: str | None = None,
        columns: Iterable[str] | None = None,
        excluded_columns: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A data filter on ``table``: a row predicate and a column include or exclude list."""
        body: dict[str, Any] = {
            "name": name,
            "table": table,
            "rows": rows,
            "columns": list(columns) if columns is not None else None,
            "excluded_columns": list(excluded_columns),
        }
        result: dict[str, Any] = self.request("POST", "/filters", json=body)
        return result

    def get_filter(self, name: str, *, table: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/filters/{segment(name)}", table=table)
        return result

    def update_filter(
        self,
        name: str,
        *,
        table: str | None = None,
        rows: str | None = None,
        all_rows: bool = False,
        columns: Iterable[str] | None = None,
        excluded_columns: Iterable[str] | None = None,
        all_columns: bool = False,
    ) -> dict[str, Any]:
        """Change a filter's rows or columns; every grant through it changes with it."""
        body: dict[str, Any] = {"all_rows": all_rows, "all_columns": all_columns}
        body.update(only_set(rows=rows))
        if columns is not None:
            body["columns"] = list(columns)
        if excluded_columns is not None:
            body["excluded_columns"] = list(excluded_columns)
        result: dict[str, Any] = self.request(
            "PATCH", f"/filters/{segment(name)}", params=only_set(table=table), json=body
        )
        return result

    def delete_filter(
        self, name: str, *, table: str | None = None, force: bool = False
    ) -> dict[str, Any]:
        """Delete a filter; ``force`` also revokes the grants through it.

        Returns ``{"name", "table", "revoked_grants"}``.
        """
        params = {**only_set(table=table), "force": "true" if force else "false"}
        result: dict[str, Any] = self.request("DELETE", f"/filters/{segment(name)}", params=params)
        return result

    # -- masks ----------------------------------------------------------------------------------

    def list_masks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/masks")
        return result

    def create_mask(self, name: str, *, tag_expression: str, function: str) -> dict[str, Any]:
        """Mask the columns matching ``tag_expression`` with ``function`` (mesh admins)."""
        body = {"name": name, "tag_expression": tag_expression, "function": function}
        result: dict[str, Any] = self.request("POST", "/masks", json=body)
        return result

    def get_mask(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/masks/{segment(name)}")
        return result

    def delete_mask(self, name: str) -> None:
        self.request("DELETE", f"/masks/{segment(name)}")
