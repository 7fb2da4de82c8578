"""Resolve a statement's tables and replace each with its secured relation (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from sqlglot import exp

from lakemesh.errors import AccessDeniedError, QueryRejectedError
from lakemesh.query.columns import Reference, columns_read
from lakemesh.query.guards import cell_guards
from lakemesh.query.references import catalog_references, written_parts
from lakemesh.query.secure import Scan, SecuredRelation, secure_relation
from lakemesh.query.table import Resolver, TableAccess
from lakemesh.query.time_travel import snapshot_of


@dataclass(frozen=True)
class TableRead:
    """What a statement reads of one table, and the security applied to it (for the audit)."""

    name: str
    columns: tuple[str, ...]
    predicates: tuple[str, ...]
    masks: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    snapshot: str | None = None  # the Iceberg snapshot or Delta version read, when named


@dataclass(frozen=True)
class RewrittenQuery:
    """The governed statement, ready for an engine, and the report of what it reads.

    ``sources`` are the authorized tables the statement's scans read (engines that cannot put a
    scan inline, like Spark, register them before running the statement). Plans are cached and
    shared: never modify ``statement``.
    """

    statement: exp.Expr
    dialect: str
    tables: tuple[TableRead, ...]
    uses_salt: bool
    sources: tuple[TableAccess, ...] = ()

    @cached_property
    def sql(self) -> str:
        """The statement in the engine's dialect (comments dropped)."""
        return self.statement.sql(dialect=self.dialect, comments=False)

    @cached_property
    def files(self) -> tuple[str, ...]:
        """Every file the statement is authorized to read."""
        return tuple(dict.fromkeys(path for table in self.tables for path in table.files))


def reference_positions(statement: exp.Expr) -> tuple[int, ...]:
    """Where the catalog references are among ``statement``'s table nodes (``find_all`` order).

    Raises:
        QueryRejectedError: a table reference is neither a catalog table, a CTE nor a function.
    """
    references = {id(node) for node in catalog_references(statement)}
    nodes = statement.find_all(exp.Table)
    return tuple(i for i, node in enumerate(nodes) if id(node) in references)


def resolve_tables(
    names: Iterable[tuple[str, ...]], *, principal: str, resolve: Resolver
) -> dict[tuple[str, ...], TableAccess]:
    """Resolve each name in turn; a table without a visible column is denied at once.

    Raises:
        NotFoundError: from ``resolve``, for a table that does not exist or is not visible.
        AccessDeniedError: a table may not be read.
    """
    resolved: dict[tuple[str, ...], TableAccess] = {}
    for parts in names:
        if parts in resolved:
            continue
        table = resolve(parts)
        if not table.visible_columns:
            raise AccessDeniedError(
                f"{principal} lacks SELECT on {table.name}",
                details={"principal": principal, "table": table.name},
            )
        resolved[parts] = table
    return resolved


def rewrite(
    statement: exp.Expr,
    *,
    principal: str,
    tables: Mapping[tuple[str, ...], TableAccess],
    scan: Scan,
    dialect: str = "duckdb",
    positions: Sequence[int] | None = None,
) -> RewrittenQuery:
    """Check and secure every table ``statement`` reads; return the governed statement.

    ``statement`` comes from :func:`lakemesh.query.validate.parse_statement`; it is not modified.
    ``tables`` maps each name it reads, as written, to the table it resolved to
    (:func:`resolve_tables`); ``positions`` are its :func:`reference_positions`, when known.

    Raises:
        AccessDeniedError: a column the statement names may not be read.
        QueryRejectedError: a reference, predicate or mask cannot be handled.
    """
    statement = statement.copy()
    if positions is None:
        nodes = catalog_references(statement)
    else:
        table_nodes = list(statement.find_all(exp.Table))
        nodes = [table_nodes[i] for i in positions]
    references = [
        Reference(node=node, table=_travelled(tables[written_parts(node)], node)) for node in nodes
    ]
    _unqualify_columns(statement, references)
    read = columns_read(statement, references, principal=principal)
    guards = cell_guards(statement, [reference.table for reference in references])
    # One secured relation per table, and per snapshot a query travels to.
    secured: dict[tuple[str, str | None], SecuredRelation] = {}
    sources: dict[tuple[str, str | None], TableAccess] = {}
    for reference in references:
        table = reference.table
        key = (table.name, table.snapshot)
        if key not in secured:
            secured[key] = secure_relation(table, scan=scan, guards=guards)
            sources[key] = table
        _replace(reference.node, secured[key])
    _drop_hidden_exclusions(statement, [reference.table for reference in references])
    reads = tuple(
        TableRead(
            name=name,
            columns=tuple(c for c in _table(references, name).visible_columns if c in read[name]),
            predicates=relation.predicates,
            masks={c: f for c, f in relation.masks.items() if c in read[name]},
            files=_table(references, name).files,
            snapshot=snapshot,
        )
        for (name, snapshot), relation in secured.items()
    )
    return RewrittenQuery(
        statement=statement,
        dialect=dialect,
        tables=reads,
        uses_salt=any(relation.uses_salt for relation in secured.values()),
        sources=tuple(sources.values()),
    )


def _travelled(table: TableAccess, node: exp.Table) -> TableAccess:
    """``table`` at the snapshot or version ``node`` names (itself when it names none).

    Raises:
        QueryRejectedError: the table is neither an Iceberg nor a Delta table.
    """
    snapshot = snapshot_of(node)
    if snapshot is None:
        return table
    if table.format not in ("iceberg", "delta"):
        raise QueryRejectedError(
            f"Time travel needs an Iceberg or Delta table: {table.name} is a {table.format} table",
            details={"table": table.name, "format": table.format},
        )
    return replace(table, snapshot=snapshot)


def _table(references: list[Reference], name: str) -> TableAccess:
    return next(reference.table for reference in references if reference.table.name == name)


def _replace(node: exp.Table, relation: SecuredRelation) -> None:
    alias = node.args.get("alias")
    if alias is None:
        alias = exp.TableAlias(this=node.this.copy())
    subquery = exp.Subquery(this=relation.select.copy(), alias=alias.copy())
    for key in ("joins", "laterals", "sample", "ordinality"):
        if node.args.get(key):
            subquery.set(key, node.args[key])
    node.replace(subquery)


def _unqualify_columns(statement: exp.Expr, references: list[Reference]) -> None:
    """``crm.customers.id`` becomes ``customers.id``, the name of the secured relation."""
    names: set[tuple[str, ...]] = set()
    for reference in references:
        if reference.node.args.get("alias") is None:
            written = tuple(part.lower() for part in written_parts(reference.node))
            canonical = tuple(reference.table.name.lower().split("."))
            for parts in (written, canonical):
                names.update(parts[i:] for i in range(len(parts) - 1))
    for column in statement.find_all(exp.Column):
        if not column.args.get("db"):
            continue
        qualifier = tuple(
            part.name.lower()
            for part in (
                column.args.get("catalog"),
                column.args.get("db"),
                column.args.get("table"),
            )
            if isinstance(part, exp.Identifier)
        )
        if qualifier in names:
            column.set("db", None)
            column.set("catalog", None)


def _drop_hidden_exclusions(statement: exp.Expr, tables: list[TableAccess]) -> None:
    """``* EXCLUDE (hidden)`` is fine: the secured relations do not have the column to exclude."""
    visible = {name.lower() for table in tables for name in table.visible_columns}
    hidden = {name.lower() for table in tables for name in table.column_names} - visible
    for star in statement.find_all(exp.Star):
        excluded = star.args.get("except_")
        if not excluded:
            continue
        kept = [node for node in excluded if node.name.lower() not in hidden]
        star.set("except_", kept or None)
