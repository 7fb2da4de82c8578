"""Tags on databases, tables and columns: assigning, removing, effective tags and tag search.

DESIGN §4: one value per key per resource; a column's effective value for a key is its own, else
its table's, else its database's. Mesh admins assign any tag; a domain admin assigns on its own
domain's objects the values it holds ASSOCIATE on (a grant on tag values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lakemesh import audit
from lakemesh.authz import policy_index, require, require_visible, visible
from lakemesh.catalog.lookups import CHUNK, CatalogRows
from lakemesh.catalog.tables import table_name
from lakemesh.errors import (
    InvalidInputError,
    LakemeshError,
    NotFoundError,
    batch_item,
    parsing,
)
from lakemesh.governance.tagged import TaggedObject, own_tags, tagged_object
from lakemesh.governance.tags import check_tag_expression, get_tag, get_tag_value
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import TagValue as TagValueResource
from lakemesh.store.schema import Column, Table, TagAssignment, TagKey, TagValue

Tags = Mapping[str, str]


# -- assigning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagChange:
    """One key changed on one object: ``value`` None means removed, ``previous`` None added."""

    key: str
    value: str | None
    previous: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"key": self.key, "value": self.value, "previous": self.previous}


def _require_associate(
    session: Session, actor: Actor, key: str, value: str, *, action: Action
) -> None:
    if not actor.is_mesh_admin:
        require(
            session,
            actor=actor,
            permission=Permission.ASSOCIATE,
            resource=TagValueResource(key, value),
            action=action,
        )


def _assignments(session: Session, target: TaggedObject) -> dict[str, TagAssignment]:
    rows = session.execute(select(TagAssignment).where(target.condition)).scalars()
    return {row.key.key: row for row in rows}


@dataclass(frozen=True)
class TagAssignmentItem:
    """The tags to assign on one object in a batch (see :func:`assign_tags_many`)."""

    resource: str | ResourceName
    tags: Tags


def assign_tags(
    session: Session, *, actor: Actor, resource: str | ResourceName, tags: Tags
) -> list[TagChange]:
    """Assign ``key=value`` tags on a database, table or column; a new value replaces the old.

    Mesh admins may assign anything; others must administer the object's domain and hold
    ASSOCIATE on each value. Returns the changes (unchanged tags are left out).
    """
    item = TagAssignmentItem(resource, tags)
    return assign_tags_many(session, actor=actor, assignments=[item])[0]


class _Assigned:
    """The tag assignments on the objects of a batch, read at once, with those the batch adds."""

    def __init__(self, session: Session) -> None:
        self._by_object: dict[tuple[str, int], dict[str, TagAssignment]] = {}
        self._session = session

    def on(self, target: TaggedObject) -> dict[str, TagAssignment]:
        key = _object_key(target)
        if key not in self._by_object:
            self._by_object[key] = _assignments(self._session, target)
        return self._by_object[key]

    def preload(self, targets: Sequence[TaggedObject]) -> None:
        wanted: dict[str, set[int]] = {}
        for target in targets:
            kind, object_id = _object_key(target)
            wanted.setdefault(kind, set()).add(object_id)
        for kind, ids in wanted.items():
            field_ = getattr(TagAssignment, f"{kind}_id")
            listed = sorted(ids)
            for object_id in listed:
                self._by_object.setdefault((kind, object_id), {})
            for start in range(0, len(listed), CHUNK):
                query = select(TagAssignment).where(field_.in_(listed[start : start + CHUNK]))
                for row in self._session.execute(query).scalars():
                    self._by_object[(kind, getattr(row, f"{kind}_id"))][row.key.key] = row


def _name(resource: str | ResourceName) -> ResourceName:
    return resource if isinstance(resource, ResourceName) else parse_resource(resource)


def _existing_objects(
    session: Session, names: Sequence[ResourceName], catalog: CatalogRows
) -> list[TaggedObject]:
    """The objects of ``names`` that exist (the others are refused in turn)."""
    found: list[TaggedObject] = []
    for name in names:
        try:
            found.append(tagged_object(session, name, catalog=catalog))
        except LakemeshError:
            continue
    return found


def _object_key(target: TaggedObject) -> tuple[str, int]:
    kind, object_id = next((k, v) for k, v in target.ids().items() if v is not None)
    return kind.removesuffix("_id"), object_id


def _tag_keys(session: Session, keys: Iterable[str]) -> dict[str, TagKey]:
    """The tag keys of ``keys`` that exist, with their values, read at once."""
    wanted = sorted(set(keys))
    query = select(TagKey).where(TagKey.key.in_(wanted)).options(selectinload(TagKey.values))
    return {row.key: row for row in session.execute(query).scalars()}


def _tag_value(session: Session, keys: dict[str, TagKey], key: str, value: str) -> TagValue:
    """As :func:`get_tag_value`, from the keys read at once (it raises for what they lack)."""
    for allowed in keys[key].values if key in keys else ():
        if allowed.value == value:
            return allowed
    return get_tag_value(session, key, value)


def assign_tags_many(
    session: Session, *, actor: Actor, assignments: Sequence[TagAssignmentItem]
) -> list[list[TagChange]]:
    """Make ``assignments`` in order, each checked exactly as :func:`assign_tags` checks one
    made by hand after the ones before it, with one audit event for each that changes
    something; the objects, tag keys and current assignments are read at once and the changes
    written in one flush. Returns each item's changes.

    Raises:
        LakemeshError: the first refusal, its ``batch_item`` the position of the refused item;
            the caller's transaction then holds part of the batch (roll it back).
    """
    names = parsing(_name, [item.resource for item in assignments])
    catalog = CatalogRows(session).preload(names)
    keys = _tag_keys(session, (key for item in assignments for key in item.tags))
    assigned = _Assigned(session)
    assigned.preload(_existing_objects(session, names, catalog))
    results: list[list[TagChange]] = []
    entries: list[audit.Entry] = []
    with session.no_autoflush:
        for position, item in enumerate(assignments):
            with batch_item(position):
                name = _name(item.resource)
                # Authority first: to anyone else an object that exists reads as one that
                # does not.
                actor.require_domain_admin(
                    name.domain, action=Action.TAG_ASSIGN, resource=str(name)
                )
                target = tagged_object(session, name, catalog=catalog)
                changes = _assign(session, actor, target, item.tags, keys, assigned)
            results.append(changes)
            if changes:
                entries.append(_entry(actor, Action.TAG_ASSIGN, str(target.name), changes))
    session.flush()
    audit.record_many(session, entries)
    return results


def _assign(
    session: Session,
    actor: Actor,
    target: TaggedObject,
    tags: Tags,
    keys: dict[str, TagKey],
    assigned: _Assigned,
) -> list[TagChange]:
    """Check one item of :func:`assign_tags_many` and add its changes to the session."""
    if not tags:
        raise InvalidInputError("Name at least one tag KEY=VALUE to assign")
    values = {key: _tag_value(session, keys, key, value) for key, value in sorted(tags.items())}
    for key, value in sorted(tags.items()):
        _require_associate(session, actor, key, value, action=Action.TAG_ASSIGN)
    existing = assigned.on(target)
    changes: list[TagChange] = []
    for key, value_row in values.items():
        current = existing.get(key)
        if current is None:
            key_row = keys.get(key) or get_tag(session, key)
            row = TagAssignment(key_id=key_row.id, value_id=value_row.id, **target.ids())
            row.key, row.value = key_row, value_row
            session.add(row)
            existing[key] = row
            changes.append(TagChange(key, value_row.value, None))
        elif current.value_id != value_row.id:
            changes.append(TagChange(key, value_row.value, current.value.value))
            current.value_id = value_row.id
            current.value = value_row
    return changes


def remove_tags(
    session: Session, *, actor: Actor, resource: str | ResourceName, keys: Sequence[str]
) -> list[TagChange]:
    """Remove tags (by key) from a database, table or column; the object then inherits again.

    Raises:
        NotFoundError: the key is not assigned on the object itself (maybe only inherited).
    """
    # Authority first: to anyone else an object that exists reads as one that does not.
    name = resource if isinstance(resource, ResourceName) else parse_resource(resource)
    actor.require_domain_admin(name.domain, action=Action.TAG_REMOVE, resource=str(name))
    target = tagged_object(session, name)
    resource_text = str(target.name)
    if not keys:
        raise InvalidInputError("Name at least one tag KEY to remove")
    existing = _assignments(session, target)
    removing: list[TagAssignment] = []
    for key in sorted(set(keys)):
        get_tag(session, key)
        current = existing.get(key)
        if current is None:
            inherited = effective_view(session, target).inherited.get(key)
            hint = f" (it is inherited from {inherited.source})" if inherited else ""
            raise NotFoundError(
                f"Tag {key} is not assigned on {resource_text}{hint}",
                details={"resource": resource_text, "tag_key": key},
            )
        _require_associate(session, actor, key, current.value.value, action=Action.TAG_REMOVE)
        removing.append(current)
    changes = [TagChange(row.key.key, None, row.value.value) for row in removing]
    for row in removing:
        session.delete(row)
    _record(session, actor, Action.TAG_REMOVE, resource_text, changes)
    return changes


def _entry(
    actor: Actor, action: Action, resource: str, changes: Sequence[TagChange]
) -> audit.Entry:
    return audit.Entry(
        actor=actor.ref,
        action=action,
        resource=resource,
        details={"changes": [change.to_dict() for change in changes]},
    )


def _record(
    session: Session, actor: Actor, action: Action, resource: str, changes: Sequence[TagChange]
) -> None:
    session.flush()
    audit.record_many(session, [_entry(actor, action, resource, changes)])


# -- effective tags ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InheritedTag:
    """A tag value that reaches an object from a higher level (``source``)."""

    value: str
    source: ResourceName

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "from": str(self.source)}


@dataclass(frozen=True)
class TagView:
    """An object's own tags, the tags it inherits, and the inherited ones its own tags override."""

    name: ResourceName
    own: dict[str, str] = field(default_factory=dict)
    inherited: dict[str, InheritedTag] = field(default_factory=dict)
    overridden: dict[str, InheritedTag] = field(default_factory=dict)

    @property
    def effective(self) -> dict[str, str]:
        """Key → value after inheritance and override."""
        merged = {key: tag.value for key, tag in self.inherited.items()}
        merged.update(self.own)
        return dict(sorted(merged.items()))


def view_of(levels: Sequence[tuple[ResourceName, Tags]]) -> TagView:
    """The view of the last level, inheriting from the levels before it (highest first).

    >>> db, table = ResourceName("s", "crm"), ResourceName("s", "crm", "customers")
    >>> view = view_of([(db, {"sensitivity": "internal"}), (table, {"sensitivity": "pii"})])
    >>> view.effective, view.overridden["sensitivity"].to_dict()
    ({'sensitivity': 'pii'}, {'value': 'internal', 'from': 's.crm'})
    """
    *higher, (name, own) = levels
    reaching: dict[str, InheritedTag] = {}
    for source, tags in higher:
        for key, value in tags.items():
            reaching[key] = InheritedTag(value, source)
    return TagView(
        name,
        dict(own),
        {key: tag for key, tag in reaching.items() if key not in own},
        {key: tag for key, tag in reaching.items() if key in own},
    )


def _levels(session: Session, target: TaggedObject) -> list[tuple[ResourceName, Tags]]:
    database = TaggedObject(ResourceName(target.name.domain, target.name.database), target.database)
    levels: list[tuple[ResourceName, Tags]] = [(database.name, own_tags(session, database))]
    if target.table is not None:
        table = TaggedObject(target.name.table_name, target.database, target.table)
        levels.append((table.name, own_tags(session, table)))
    if target.column is not None:
        levels.append((target.name, own_tags(session, target)))
    return levels


def effective_view(session: Session, target: TaggedObject) -> TagView:
    """Own, inherited and overridden tags of ``target`` (no authorization)."""
    return view_of(_levels(session, target))


def resource_tags(session: Session, *, actor: Actor, resource: str | ResourceName) -> TagView:
    """``lakemesh tag show-resource``: the tags of an object the actor may DESCRIBE."""
    name = parse_resource(resource) if isinstance(resource, str) else resource
    shown = name.table_name if name.level == "column" else name
    if name.level != "domain":
        require_visible(session, actor, shown, action=Action.TAG_SHOW_RESOURCE)
    return effective_view(session, tagged_object(session, name))


@dataclass(frozen=True)
class TableTags:
    """The tags of a table and of each of its columns (by column name)."""

    table: TagView
    columns: dict[str, TagView]


def table_tags(session: Session, row: Table) -> TableTags:
    """The own, inherited and overridden tags of ``row`` and of each of its columns."""
    name = table_name(row)
    levels = _levels(session, TaggedObject(name, row.database, row))
    by_column: dict[int, dict[str, str]] = {}
    assignments = session.execute(
        select(TagAssignment)
        .join(Column, TagAssignment.column_id == Column.id)
        .where(Column.table_id == row.id)
    ).scalars()
    for assignment in assignments:
        by_column.setdefault(assignment.column_id or 0, {})[assignment.key.key] = (
            assignment.value.value
        )
    columns: dict[str, TagView] = {}
    for column in row.columns:
        column_name = ResourceName(name.domain, name.database, name.table, column.name)
        columns[column.name] = view_of([*levels, (column_name, by_column.get(column.id, {}))])
    return TableTags(view_of(levels), columns)


# -- search ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableMatch:
    """A table with the columns whose effective tags match a tag expression."""

    name: ResourceName
    columns: list[str]


def search_tables(session: Session, *, actor: Actor, expression: str) -> list[TableMatch]:
    """Tables with a column whose effective tags match ``expression``, among those the actor may
    DESCRIBE, sorted by name.

    Raises:
        InvalidInputError: a parse error naming its position, or a tag key or value the
            expression names that does not exist.
    """
    parsed = check_tag_expression(session, expression)
    index = policy_index(session)
    found: list[TableMatch] = []
    for name in sorted(index.tables_matching(parsed), key=str):
        if not visible(session, actor, name):
            continue
        facts = index.table_facts(name)
        columns = [c for c in facts.columns if parsed.matches(facts.tags_of(c))]
        found.append(TableMatch(name, columns))
    return found
