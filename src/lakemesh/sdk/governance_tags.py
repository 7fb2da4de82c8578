"""SDK methods of tags, tag search, data filters and masks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lakemesh.api.schemas.filters import FilterDeletion, FilterPublic
from lakemesh.api.schemas.masks import MaskPublic
from lakemesh.api.schemas.tags import (
    ResourceTags,
    TableMatch,
    TagAssignment,
    TagPublic,
)
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment


class GovernanceTagMethods(ApiBase):
    """Tag keys and their assignments, tables by tag expression, data filters, masks."""

    # -- tag keys -------------------------------------------------------------------------------

    def list_tags(self) -> list[TagPublic]:
        """Every tag key with its allowed values."""
        return parsed_list(TagPublic, self._get("/tags"))

    def create_tag(self, key: str, *, values: Iterable[str], description: str = "") -> TagPublic:
        """Define a tag key and its allowed values (mesh admins)."""
        body = {"key": key, "values": list(values), "description": description}
        return parsed(TagPublic, self.request("POST", "/tags", json=body))

    def get_tag(self, key: str) -> TagPublic:
        return parsed(TagPublic, self._get(f"/tags/{segment(key)}"))

    def update_tag(
        self,
        key: str,
        *,
        add_values: Iterable[str] = (),
        remove_values: Iterable[str] = (),
        description: str | None = None,
    ) -> TagPublic:
        """Add or remove allowed values (a value in use cannot go), or change the description."""
        body: dict[str, Any] = {
            "add_values": list(add_values),
            "remove_values": list(remove_values),
            **only_set(description=description),
        }
        return parsed(TagPublic, self.request("PATCH", f"/tags/{segment(key)}", json=body))

    def delete_tag(self, key: str) -> None:
        """Delete a tag key that no resource, grant or mask uses."""
        self.request("DELETE", f"/tags/{segment(key)}")

    # -- tags on resources ----------------------------------------------------------------------

    def resource_tags(self, name: str) -> ResourceTags:
        """The ``own``, ``inherited``, ``overridden`` and ``effective`` tags of
        ``D.DB[.T[.C]]``."""
        return parsed(ResourceTags, self._get(f"/resources/{segment(name)}/tags"))

    def assign_tags(self, name: str, tags: Mapping[str, str]) -> TagAssignment:
        """Assign ``{key: value}`` on ``D.DB[.T[.C]]``; returns the ``changes`` (each naming
        the value it replaced, ``previous``) and the object's ``tags`` after them."""
        path = f"/resources/{segment(name)}/tags"
        return parsed(TagAssignment, self.request("POST", path, json={"tags": dict(tags)}))

    def remove_tags(self, name: str, keys: Iterable[str]) -> TagAssignment:
        """Remove tags by key from ``D.DB[.T[.C]]`` (it inherits again)."""
        path = f"/resources/{segment(name)}/tags"
        return parsed(TagAssignment, self.request("DELETE", path, params={"key": list(keys)}))

    def search_tables(self, tags: str) -> list[TableMatch]:
        """Tables with columns matching a tag expression, with the ``columns`` that match."""
        return parsed_list(TableMatch, self._get("/search/tables", tags=tags))

    # -- data filters ---------------------------------------------------------------------------

    def list_filters(self, *, table: str | None = None) -> list[FilterPublic]:
        return parsed_list(FilterPublic, self._get("/filters", table=table))

    def create_filter(
        self,
        name: str,
        *,
        table: str,
        rows: str | None = None,
        columns: Iterable[str] | None = None,
        excluded_columns: Iterable[str] = (),
    ) -> FilterPublic:
        """A data filter on ``table``: a row predicate and a column include or exclude list."""
        body: dict[str, Any] = {
            "name": name,
            "table": table,
            "rows": rows,
            "columns": list(columns) if columns is not None else None,
            "excluded_columns": list(excluded_columns),
        }
        return parsed(FilterPublic, self.request("POST", "/filters", json=body))

    def get_filter(self, name: str, *, table: str | None = None) -> FilterPublic:
        return parsed(FilterPublic, self._get(f"/filters/{segment(name)}", table=table))

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
    ) -> FilterPublic:
        """Change a filter's rows or columns; every grant through it changes with it."""
        body: dict[str, Any] = {"all_rows": all_rows, "all_columns": all_columns}
        body.update(only_set(rows=rows))
        if columns is not None:
            body["columns"] = list(columns)
        if excluded_columns is not None:
            body["excluded_columns"] = list(excluded_columns)
        changed = self.request(
            "PATCH", f"/filters/{segment(name)}", params=only_set(table=table), json=body
        )
        return parsed(FilterPublic, changed)

    def delete_filter(
        self, name: str, *, table: str | None = None, force: bool = False
    ) -> FilterDeletion:
        """Delete a filter; ``force`` also revokes the grants through it (``revoked_grants``)."""
        params = {**only_set(table=table), "force": "true" if force else "false"}
        deleted = self.request("DELETE", f"/filters/{segment(name)}", params=params)
        return parsed(FilterDeletion, deleted)

    # -- masks ----------------------------------------------------------------------------------

    def list_masks(self) -> list[MaskPublic]:
        return parsed_list(MaskPublic, self._get("/masks"))

    def create_mask(self, name: str, *, tag_expression: str, function: str) -> MaskPublic:
        """Mask the columns matching ``tag_expression`` with ``function`` (mesh admins)."""
        body = {"name": name, "tag_expression": tag_expression, "function": function}
        return parsed(MaskPublic, self.request("POST", "/masks", json=body))

    def get_mask(self, name: str) -> MaskPublic:
        return parsed(MaskPublic, self._get(f"/masks/{segment(name)}"))

    def delete_mask(self, name: str) -> None:
        self.request("DELETE", f"/masks/{segment(name)}")
