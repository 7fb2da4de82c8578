"""What the decision needs to know about a catalog table: its columns and effective tags.

Tag inheritance (DESIGN §4): a column's effective value for a key is its own, else its table's,
else its database's; a lower level overrides a higher one.

>>> facts = TableFacts.build(
...     name=ResourceName("sales", "crm", "customers"),
...     columns=("id", "email"),
...     database_tags={"sensitivity": "internal", "owner": "sales"},
...     column_tags={"email": {"sensitivity": "pii"}},
... )
>>> dict(facts.column_tags["email"])
{'sensitivity': 'pii', 'owner': 'sales'}
>>> dict(facts.column_tags["id"])
{'sensitivity': 'internal', 'owner': 'sales'}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lakemesh.errors import InvalidInputError
from lakemesh.model.names import ResourceName

Tags = Mapping[str, str]
_NO_TAGS: Tags = {}


def effective_tags(*levels: Tags | None) -> dict[str, str]:
    """Merge tag levels from the highest (database) to the lowest (column); lower levels win.

    >>> effective_tags({"a": "1", "b": "1"}, {"b": "2"}, None)
    {'a': '1', 'b': '2'}
    """
    merged: dict[str, str] = {}
    for level in levels:
        if level:
            merged.update(level)
    return merged


@dataclass(frozen=True)
class TableFacts:
    """A table as the policy engine sees it.

    ``column_tags`` holds each column's *effective* tags (inheritance applied) and
    ``table_tags`` the table's own effective tags (table over database). Columns that inherit
    everything may share one mapping object, which lets the decision evaluate a tag expression
    once per distinct mapping. ``published``: the table belongs to a published data product.
    """

    name: ResourceName
    columns: tuple[str, ...]
    column_tags: Mapping[str, Tags] = field(default_factory=dict)
    table_tags: Tags = field(default_factory=dict)
    published: bool = False

    def __post_init__(self) -> None:
        if self.name.level != "table":
            raise InvalidInputError(f"TableFacts need a table name, got {self.name}")

    @classmethod
    def build(
        cls,
        *,
        name: ResourceName,
        columns: tuple[str, ...],
        database_tags: Tags | None = None,
        table_tags: Tags | None = None,
        column_tags: Mapping[str, Tags] | None = None,
        published: bool = False,
    ) -> TableFacts:
        """Facts from the tags assigned at each level (own tags, not yet inherited)."""
        inherited = effective_tags(database_tags, table_tags)
        own = {column.lower(): tags for column, tags in (column_tags or {}).items() if tags}
        per_column = {
            column: effective_tags(inherited, own[column.lower()])
            if column.lower() in own
            else inherited
            for column in columns
        }
        return cls(name, tuple(columns), per_column, inherited, published)

    def tags_of(self, column: str) -> Tags:
        """Effective tags of one column (the table's when the column has none recorded)."""
        return self.column_tags.get(column, self.table_tags)

    def column_named(self, name: str) -> str | None:
        """The table's spelling of a column, matched case-insensitively."""
        wanted = name.lower()
        return next((column for column in self.columns if column.lower() == wanted), None)

    def tag_groups(self) -> list[tuple[Tags, tuple[str, ...]]]:
        """Columns grouped by their effective tag mapping object, in table order."""
        groups: dict[int, tuple[Tags, list[str]]] = {}
        for column in self.columns:
            tags = self.tags_of(column)
            entry = groups.get(id(tags))
            if entry is None:
                groups[id(tags)] = (tags, [column])
            else:
                entry[1].append(column)
        return [(tags, tuple(columns)) for tags, columns in groups.values()]


@dataclass(frozen=True)
class CatalogTable:
    """A table as :class:`lakemesh.policy.index.PolicyIndex` stores it (tags come separately)."""

    name: ResourceName
    columns: tuple[str, ...]
    published: bool = False

    def __post_init__(self) -> None:
        if self.name.level != "table":
            raise InvalidInputError(f"A catalog table needs a table name, got {self.name}")


@dataclass(frozen=True)
class TagAssignment:
    """``key=value`` assigned on a database, a table or a column (its own tag, not inherited)."""

    resource: ResourceName
    key: str
    value: str
