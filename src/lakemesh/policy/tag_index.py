"""Tags of every table, indexed so that a tag expression's scope is a few bitset operations.

Each table has an integer id. For every ``(key, value)`` the index keeps the set of tables whose
table-level effective tags (table over database) hold it, as a bitset. Columns with tags of their
own are grouped by those own tags: a *group* ``g`` has the bitset of tables with a column tagged
exactly ``g``. A column's effective tags are its table's overlaid with its group, so the tables
where some column satisfies ``E`` are exactly::

    E(table tags) on tables with an untagged column
    OR E(table tags with g's values fixed) on tables of each group g touching E's keys
    OR per-table evaluation of the rare tables whose every column has own tags

(a group that does not touch E's keys evaluates like an untagged column.)
"""

from __future__ import annotations

from collections.abc import Iterable

from lakemesh.errors import NotFoundError
from lakemesh.model.names import ResourceName
from lakemesh.policy.bitsets import from_indexes, iter_members
from lakemesh.policy.facts import CatalogTable, TableFacts, TagAssignment, effective_tags
from lakemesh.policy.tag_expressions import TagAnd, TagAtom, TagExpression, TagNode, TagNot

Item = tuple[str, str]
Group = frozenset[Item]
EMPTY_GROUP: Group = frozenset()
DatabaseKey = tuple[str, str]


class TableTagIndex:
    """Tables, their columns and tags at each level, with bitsets for tag expressions."""

    def __init__(self) -> None:
        self.live = 0
        self._ids: dict[ResourceName, int] = {}
        self._names: list[ResourceName | None] = []
        self._columns: list[tuple[str, ...]] = []
        self._published: set[int] = set()
        self._database_tags: dict[DatabaseKey, dict[str, str]] = {}
        self._table_tags: dict[int, dict[str, str]] = {}
        self._column_tags: dict[int, dict[str, dict[str, str]]] = {}
        self._postings: dict[Item, int] = {}
        self._groups: dict[Group, int] = {}
        self._groups_by_key: dict[str, set[Group]] = {}
        self._with_columns = 0
        self._domains: dict[str, int] = {}
        self._databases: dict[DatabaseKey, int] = {}
        self._database_members: dict[DatabaseKey, set[int]] = {}

    def copy(self) -> TableTagIndex:
        """An independent copy (bitsets are integers, so only the containers are copied)."""
        other = TableTagIndex()
        other.live = self.live
        other._ids = dict(self._ids)
        other._names = list(self._names)
        other._columns = list(self._columns)
        other._published = set(self._published)
        other._database_tags = {key: dict(tags) for key, tags in self._database_tags.items()}
        other._table_tags = {key: dict(tags) for key, tags in self._table_tags.items()}
        other._column_tags = {
            key: {column: dict(tags) for column, tags in columns.items()}
            for key, columns in self._column_tags.items()
        }
        other._postings = dict(self._postings)
        other._groups = dict(self._groups)
        other._groups_by_key = {key: set(groups) for key, groups in self._groups_by_key.items()}
        other._with_columns = self._with_columns
        other._domains = dict(self._domains)
        other._databases = dict(self._databases)
        other._database_members = {key: set(ids) for key, ids in self._database_members.items()}
        return other

    # -- reading ---------------------------------------------------------------------------

    def table_id(self, name: ResourceName) -> int | None:
        return self._ids.get(name)

    def name_of(self, table_id: int) -> ResourceName:
        name = self._names[table_id]
        assert name is not None
        return name

    def __len__(self) -> int:
        return len(self._ids)

    def names(self, bits: int) -> list[ResourceName]:
        """The tables of a bitset, in id order."""
        names = self._names
        return [name for index in iter_members(bits) if (name := names[index]) is not None]

    @property
    def with_columns(self) -> int:
        """The tables that have at least one column (a table without any has nothing to read)."""
        return self._with_columns

    def domain_bits(self, domain: str) -> int:
        return self._domains.get(domain, 0)

    def scope_bits(self, scope: ResourceName) -> int:
        """The tables inside a domain, database or table."""
        if scope.database is None:
            return self._domains.get(scope.domain, 0)
        if scope.table is None:
            return self._databases.get((scope.domain, scope.database), 0)
        table_id = self._ids.get(scope.table_name)
        return 0 if table_id is None else 1 << table_id

    def columns_of(self, name: ResourceName) -> tuple[str, ...] | None:
        table_id = self._ids.get(name)
        return None if table_id is None else self._columns[table_id]

    def database_tags(self, domain: str, database: str) -> dict[str, str]:
        """A database's own tags (databases have nothing to inherit from)."""
        return dict(self._database_tags.get((domain, database), {}))

    def own_tags(self, resource: ResourceName) -> dict[str, str]:
        """The tags assigned on a database, table or column itself (empty when unknown)."""
        if resource.level == "database":
            return dict(self._database_tags.get((resource.domain, resource.database or ""), {}))
        table_id = self._ids.get(resource.table_name)
        if table_id is None:
            return {}
        if resource.level == "table":
            return dict(self._table_tags.get(table_id, {}))
        own = self._column_tags.get(table_id, {})
        return dict(own.get((resource.column or "").lower(), {}))

    def database_tag_map(self) -> dict[DatabaseKey, dict[str, str]]:
        """The own tags of every database that has some."""
        return {key: dict(tags) for key, tags in self._database_tags.items() if tags}

    def _table_level(self, table_id: int) -> dict[str, str]:
        name = self.name_of(table_id)
        database = self._database_tags.get((name.domain, name.database or ""))
        return effective_tags(database, self._table_tags.get(table_id))

    def facts(self, name: ResourceName) -> TableFacts:
        """The table's columns and effective tags, inheritance applied."""
        table_id = self._ids.get(name)
        if table_id is None:
            raise NotFoundError(f"Table does not exist: {name}", details={"table": str(name)})
        inherited = self._table_level(table_id)
        own = self._column_tags.get(table_id) or {}
        per_column = {
            column: effective_tags(inherited, own[column.lower()])
            if column.lower() in own
            else inherited
            for column in self._columns[table_id]
        }
        return TableFacts(
            name, self._columns[table_id], per_column, inherited, table_id in self._published
        )

    def _groups_of(self, table_id: int) -> set[Group]:
        columns = self._columns[table_id]
        own = self._column_tags.get(table_id)
        if not own:
            return {EMPTY_GROUP} if columns else set()
        return {frozenset(own.get(column.lower(), {}).items()) for column in columns}

    # -- tag expressions -------------------------------------------------------------------

    def matching(self, expression: TagExpression) -> int:
        """The tables with at least one column whose effective tags satisfy ``expression``."""
        keys = expression.keys
        root = expression.root
        result = self._evaluate(root, {}) & self._groups.get(EMPTY_GROUP, 0)
        by_restriction: dict[Group, int] = {}
        for key in keys:
            for group in self._groups_by_key.get(key, ()):
                restricted = frozenset(item for item in group if item[0] in keys)
                by_restriction[restricted] = by_restriction.get(restricted, 0) | self._groups[group]
        for restricted, tables in by_restriction.items():
            result |= self._evaluate(root, dict(restricted)) & tables
        only_tagged_columns = self._with_columns & ~self._groups.get(EMPTY_GROUP, 0)
        for table_id in iter_members(only_tagged_columns & ~result):
            facts = self.facts(self.name_of(table_id))
            if any(expression.matches(tags) for tags, _ in facts.tag_groups()):
                result |= 1 << table_id
        return result

    def _evaluate(self, node: TagNode, fixed: dict[str, str]) -> int:
        """Tables whose table-level tags, with ``fixed`` keys overridden, satisfy ``node``."""
        if isinstance(node, TagAtom):
            if node.key in fixed:
                hit = fixed[node.key] in node.values
                return self.live if hit != node.negated else 0
            bits = 0
            for value in node.values:
                bits |= self._postings.get((node.key, value), 0)
            return self.live & ~bits if node.negated else bits
        if isinstance(node, TagNot):
            return self.live & ~self._evaluate(node.operand, fixed)
        if isinstance(node, TagAnd):
            bits = self.live
            for operand in node.operands:
                bits &= self._evaluate(operand, fixed)
                if not bits:
                    break
            return bits
        bits = 0
        for operand in node.operands:
            bits |= self._evaluate(operand, fixed)
        return bits

    # -- loading and changing --------------------------------------------------------------

    def load(self, tables: Iterable[CatalogTable], tags: Iterable[TagAssignment]) -> None:
        """Bulk load (much faster than one change at a time); the index must be empty."""
        assert not self._ids, "load() fills an empty index"
        for table in tables:
            self._register(table)
        for assignment in tags:
            self._record(assignment.resource, assignment.key, assignment.value)
        postings: dict[Item, list[int]] = {}
        groups: dict[Group, list[int]] = {}
        for table_id in self._ids.values():
            for item in self._table_level(table_id).items():
                postings.setdefault(item, []).append(table_id)
            for group in self._groups_of(table_id):
                groups.setdefault(group, []).append(table_id)
        self._postings = {item: from_indexes(ids) for item, ids in postings.items()}
        for group, ids in groups.items():
            self._add_group(group, from_indexes(ids))
        self.live = from_indexes(self._ids.values())
        for database, members in self._database_members.items():
            self._databases[database] = from_indexes(members)
        by_domain: dict[str, list[int]] = {}
        for table_name, table_id in self._ids.items():
            by_domain.setdefault(table_name.domain, []).append(table_id)
        self._domains = {domain: from_indexes(ids) for domain, ids in by_domain.items()}

    def _register(self, table: CatalogTable) -> int:
        table_id = len(self._names)
        self._ids[table.name] = table_id
        self._names.append(table.name)
        self._columns.append(tuple(table.columns))
        if table.published:
            self._published.add(table_id)
        key = (table.name.domain, table.name.database or "")
        self._database_members.setdefault(key, set()).add(table_id)
        return table_id

    def _record(self, resource: ResourceName, key: str, value: str | None) -> None:
        """Store an own tag (``value`` None removes it) without touching the bitsets."""
        if resource.level == "database":
            store = self._database_tags.setdefault((resource.domain, resource.database or ""), {})
        else:
            table_id = self._ids.get(resource.table_name)
            if table_id is None:
                raise NotFoundError(f"Table does not exist: {resource.table_name}")
            if resource.level == "table":
                store = self._table_tags.setdefault(table_id, {})
            else:
                column = (resource.column or "").lower()
                if column not in {c.lower() for c in self._columns[table_id]}:
                    raise NotFoundError(f"Column does not exist: {resource}")
                store = self._column_tags.setdefault(table_id, {}).setdefault(column, {})
        if value is None:
            store.pop(key, None)
        else:
            store[key] = value

    def _add_group(self, group: Group, bits: int) -> None:
        self._groups[group] = self._groups.get(group, 0) | bits
        self._with_columns |= bits
        for key, _ in group:
            self._groups_by_key.setdefault(key, set()).add(group)

    def _move_groups(self, table_id: int, old: set[Group], new: set[Group]) -> None:
        bit = 1 << table_id
        for group in old - new:
            remaining = self._groups.get(group, 0) & ~bit
            if remaining:
                self._groups[group] = remaining
            else:
                self._groups.pop(group, None)
                for key, _ in group:
                    self._groups_by_key.get(key, set()).discard(group)
        if not new:
            self._with_columns &= ~bit
        for group in new - old:
            self._add_group(group, bit)

    def _move_postings(self, table_ids: Iterable[int], before: list[dict[str, str]]) -> None:
        added: dict[Item, list[int]] = {}
        removed: dict[Item, list[int]] = {}
        for table_id, old in zip(table_ids, before, strict=True):
            new = self._table_level(table_id) if self._names[table_id] is not None else {}
            for item in old.items() - new.items():
                removed.setdefault(item, []).append(table_id)
            for item in new.items() - old.items():
                added.setdefault(item, []).append(table_id)
        for item, ids in removed.items():
            remaining = self._postings.get(item, 0) & ~from_indexes(ids)
            if remaining:
                self._postings[item] = remaining
            else:
                self._postings.pop(item, None)
        for item, ids in added.items():
            self._postings[item] = self._postings.get(item, 0) | from_indexes(ids)

    def upsert_table(self, table: CatalogTable) -> None:
        """Add a table, or change its columns and published flag (a dropped column's tags go)."""
        table_id = self._ids.get(table.name)
        if table_id is None:
            table_id = self._register(table)
            bit = 1 << table_id
            self.live |= bit
            self._domains[table.name.domain] = self._domains.get(table.name.domain, 0) | bit
            key = (table.name.domain, table.name.database or "")
            self._databases[key] = self._databases.get(key, 0) | bit
            self._move_postings([table_id], [{}])
            self._move_groups(table_id, set(), self._groups_of(table_id))
            return
        old_groups = self._groups_of(table_id)
        self._columns[table_id] = tuple(table.columns)
        own = self._column_tags.get(table_id)
        if own:
            kept = {column.lower() for column in table.columns}
            for column in [column for column in own if column not in kept]:
                del own[column]
        if table.published:
            self._published.add(table_id)
        else:
            self._published.discard(table_id)
        self._move_groups(table_id, old_groups, self._groups_of(table_id))

    def remove_table(self, name: ResourceName) -> None:
        table_id = self._ids.pop(name, None)
        if table_id is None:
            return
        before = [self._table_level(table_id)]
        old_groups = self._groups_of(table_id)
        self._names[table_id] = None
        self._move_postings([table_id], before)
        self._move_groups(table_id, old_groups, set())
        self._columns[table_id] = ()
        self._table_tags.pop(table_id, None)
        self._column_tags.pop(table_id, None)
        self._published.discard(table_id)
        mask = ~(1 << table_id)
        self.live &= mask
        self._domains[name.domain] &= mask
        key = (name.domain, name.database or "")
        self._databases[key] &= mask
        self._database_members[key].discard(table_id)

    def set_tag(self, resource: ResourceName, key: str, value: str | None) -> None:
        """Assign ``key=value`` on a database, table or column (``value`` None removes it)."""
        if resource.level == "database":
            members = sorted(
                self._database_members.get((resource.domain, resource.database or ""), ())
            )
            before = [self._table_level(table_id) for table_id in members]
            self._record(resource, key, value)
            self._move_postings(members, before)
        elif resource.level == "table":
            table_id = self._ids.get(resource)
            before = [self._table_level(table_id)] if table_id is not None else []
            self._record(resource, key, value)
            assert table_id is not None
            self._move_postings([table_id], before)
        elif resource.level == "column":
            table_id = self._ids.get(resource.table_name)
            old_groups = self._groups_of(table_id) if table_id is not None else set()
            self._record(resource, key, value)
            assert table_id is not None
            self._move_groups(table_id, old_groups, self._groups_of(table_id))
        else:
            raise NotFoundError(
                f"Tags are assigned on databases, tables and columns, not {resource}"
            )
