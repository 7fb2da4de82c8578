"""Which cells of row-filtered tables need a guard: where a user's expression could fail on them.

A secured relation with a row filter is ``SELECT <cells> FROM <scan> WHERE <filter>``. The engine
may evaluate a user's predicate on a row before the filter (it pushes filters into the scan and
orders conjuncts as it likes), so a predicate that can *fail* could stop the query on a row the
principal may not see, and the error could show the row's value. A guarded cell,
``CASE WHEN <filter> THEN c END``, shows such a predicate NULL instead; but a guard also hides the
column from the scan's filter pushdown and statistics, which costs time. So a column is guarded
only where some expression of the statement could fail on it before the row filter:

- an expression that cannot fail on any value (a comparison of two values of one type, ``IN``,
  ``BETWEEN``, ``LIKE`` with a constant pattern, ``IS NULL``, ``AND``/``OR``/``NOT`` of those,
  ``lower``, ``substring``, ``||`` ...) needs no guard wherever it is;
- an expression inside an aggregate or a window function runs on the rows the filter kept;
- any other expression (a cast, arithmetic, a comparison that converts a value, any other
  function) guards the columns it reads when it sits in a filter (WHERE, JOIN ON/USING, HAVING,
  QUALIFY), or anywhere when some filter reads a name the statement defines (an alias of an
  expression, a whole row): the engine may substitute the expression there;
- a name the analysis cannot tie to one table column (an alias, a lambda variable, a column of a
  table function) read by such an expression guards every column, and so does a set operation
  (UNION, INTERSECT, EXCEPT: it converts its columns to a common type without a visible cast).

What a guard changes is only *when* a hidden value can be seen: the rows returned and each cell's
value are the same either way (DESIGN §4), and a column covered by fewer cell pairs than the row
filter is always guarded (that guard is its cell semantics).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlglot import exp

from lakemesh.query.guard_names import (
    ADAPTS,
    BOOLEAN,
    COMPARISONS,
    NUMERIC,
    STRING,
    UNKNOWN,
    ColumnNames,
)
from lakemesh.query.table import TableAccess

# Where a node is evaluated: in a filter on rows (WHERE, JOIN ON), in a filter on groups or windows
# (HAVING, QUALIFY), in a projection, or inside an aggregate or window function.
_FILTER, _GROUP_FILTER = "filter", "group filter"
_PROJECTION, _AGGREGATE = "projection", "aggregate"
_FILTERS = (_FILTER, _GROUP_FILTER)

# Nodes that never fail on a value: structure, plain references, and boolean logic whose operands
# are checked as predicates where they stand.
_SAFE = (
    exp.Query,
    exp.Subquery,
    exp.From,
    exp.Where,
    exp.Having,
    exp.Qualify,
    exp.Group,
    exp.Order,
    exp.Ordered,
    exp.Limit,
    exp.Offset,
    exp.With,
    exp.CTE,
    exp.Table,
    exp.TableAlias,
    exp.Identifier,
    exp.Column,
    exp.Star,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Paren,
    exp.Alias,
    exp.Distinct,
    exp.Exists,
    exp.AggFunc,
    exp.Window,
    exp.WindowSpec,
    exp.Filter,
    exp.Dot,
    exp.TryCast,
    exp.DPipe,
    exp.Concat,
    exp.DataType,
    exp.Var,
)


@dataclass(frozen=True)
class CellGuards:
    """The columns (lower-case names) of row-filtered tables that a statement needs guarded."""

    columns: frozenset[str] = frozenset()
    every: bool = False

    def covers(self, column: str) -> bool:
        """Whether ``column`` must be guarded."""
        return self.every or column.lower() in self.columns


EVERY_CELL = CellGuards(every=True)
NO_CELL = CellGuards()


def cell_guards(statement: exp.Expr, tables: Iterable[TableAccess]) -> CellGuards:
    """The columns ``statement`` needs guarded in the row-filtered tables among ``tables``.

    ``statement`` is the user's statement, its table references not yet replaced.

    >>> import sqlglot
    >>> from lakemesh.model.access import CellPair, ColumnAccess
    >>> table = TableAccess(
    ...     name="sales.crm.customers", format="parquet", location="/data", files=(),
    ...     columns=(("id", "BIGINT"), ("name", "VARCHAR")), partition_columns=(),
    ...     access=ColumnAccess(pairs=(CellPair("id < 10", frozenset({"id", "name"})),)),
    ... )
    >>> def guards(sql):
    ...     return cell_guards(sqlglot.parse_one(sql, read="duckdb"), [table])
    >>> guards("SELECT name FROM t WHERE id > 3 AND name LIKE 'a%'")
    CellGuards(columns=frozenset(), every=False)
    >>> guards("SELECT id FROM t WHERE CAST(name AS INT) > 3").columns
    frozenset({'name'})
    """
    resolved = list(tables)
    filtered = [table for table in resolved if _row_filtered(table)]
    if not filtered:
        return NO_CELL
    if any(True for _ in statement.find_all(exp.SetOperation)):
        # A set operation converts each column to the type its branches share, unseen: a filter
        # on that column may run the conversion before the row filter.
        return EVERY_CELL
    names = ColumnNames.of(statement, resolved, filtered)
    guarded: set[str] = set()
    projected: set[str] = set()
    filter_reads_defined_name = False
    for node, position in _positions(statement):
        if position == _AGGREGATE:
            continue
        in_filter = position in _FILTERS
        if in_filter and isinstance(node, exp.Column) and not names.known(node):
            filter_reads_defined_name = True
        if isinstance(node, exp.Join) and _joins_by_name(node, names):
            return EVERY_CELL
        if not _may_fail(node, position, names):
            continue
        touched = _touched(node, names)
        if touched is None:
            if in_filter:
                return EVERY_CELL
            projected.add("*")
            continue
        (guarded if in_filter else projected).update(touched)
    if filter_reads_defined_name:
        if "*" in projected:
            return EVERY_CELL
        guarded |= projected
    return CellGuards(columns=frozenset(guarded)) if guarded else NO_CELL


def _row_filtered(table: TableAccess) -> bool:
    return all(pair.predicate is not None for pair in table.access.pairs)


def _positions(statement: exp.Expr) -> Iterator[tuple[exp.Expr, str]]:
    """Every node with where it is evaluated: in a filter, in a projection, in an aggregate."""
    stack: list[tuple[exp.Expr, str]] = [(statement, _PROJECTION)]
    while stack:
        node, position = stack.pop()
        yield node, position
        for child in node.iter_expressions():
            stack.append((child, _child_position(node, child, position)))


def _child_position(parent: exp.Expr, child: exp.Expr, position: str) -> str:
    if isinstance(child, exp.Query):
        return _PROJECTION  # a query of its own: its filters are found inside it
    if isinstance(parent, exp.Where):
        return _FILTER
    if isinstance(parent, exp.Having | exp.Qualify):
        return _GROUP_FILTER
    if isinstance(parent, exp.Join) and child.arg_key in ("on", "using", "match_condition"):
        return _FILTER
    if position != _FILTER and isinstance(child, exp.AggFunc | exp.Window):
        return _AGGREGATE  # computed from the rows the row filters kept
    return position


def _joins_by_name(join: exp.Join, names: ColumnNames) -> bool:
    """A NATURAL join, or USING a name whose values may need converting to compare."""
    if (join.args.get("method") or "").upper() == "NATURAL":
        return True
    return any(
        names.value_class(exp.column(using.name)) == UNKNOWN
        for using in join.args.get("using") or []
    )


def _may_fail(node: exp.Expr, position: str, names: ColumnNames) -> bool:
    """Whether evaluating ``node`` on some value could raise an error."""
    parent = node.parent
    if (
        position in _FILTERS
        and (isinstance(parent, exp.Where | exp.Having | exp.Qualify) or node.arg_key == "on")
        and names.value_class(node) not in (BOOLEAN, ADAPTS)
    ):
        return True  # the condition itself is converted to a boolean
    if isinstance(node, exp.Connector | exp.Not):
        return any(names.value_class(operand) != BOOLEAN for operand in _operands(node))
    if isinstance(node, COMPARISONS):
        right = node.expression
        if isinstance(right, exp.Any | exp.All):
            right = right.this
        return not _comparable(names.value_class(node.this), names.value_class(right))
    if isinstance(node, exp.In):
        this = names.value_class(node.this)
        others = [node.args["query"]] if node.args.get("query") else node.expressions
        if node.args.get("unnest") or node.args.get("field"):
            return True
        return not all(_comparable(this, names.value_class(other)) for other in others)
    if isinstance(node, exp.Between):
        this = names.value_class(node.this)
        bounds = (node.args.get("low"), node.args.get("high"))
        return not all(_comparable(this, names.value_class(bound)) for bound in bounds)
    if isinstance(node, exp.Like | exp.ILike):
        pattern = node.expression
        return names.value_class(node.this) not in (STRING, ADAPTS) or any(
            True for _ in pattern.find_all(exp.Column, exp.Query)
        )
    if isinstance(node, exp.Is):
        this = names.value_class(node.this)
        return not isinstance(node.expression, exp.Null) and this not in (BOOLEAN, ADAPTS)
    if isinstance(node, exp.Cast):
        return names.value_class(node) != STRING  # anything converts to text
    if isinstance(node, exp.Substring):
        arguments = [node.args.get("start"), node.args.get("length")]
        return names.value_class(node.this) != STRING or any(
            names.value_class(argument) not in (NUMERIC, ADAPTS)
            for argument in arguments
            if argument is not None
        )
    if isinstance(node, exp.Lower | exp.Upper | exp.Length | exp.Trim):
        return names.value_class(node.this) != STRING or len(list(node.iter_expressions())) > 1
    if isinstance(node, exp.Extract):
        temporal = names.value_class(node.expression)
        return not temporal.startswith(("DATE", "TIMESTAMP"))
    if isinstance(node, exp.If) and isinstance(parent, exp.Case):
        return False  # a branch: its case checks it
    if isinstance(node, exp.Case | exp.If | exp.Coalesce):
        return _mixes_classes(node, names)
    return not isinstance(node, _SAFE)


def _operands(node: exp.Expr) -> list[exp.Expr]:
    return [operand for operand in (node.this, node.args.get("expression")) if operand is not None]


def _comparable(left: str, right: str) -> bool:
    return ADAPTS in (left, right) or (left == right and left != UNKNOWN)


def _mixes_classes(node: exp.Case | exp.If | exp.Coalesce, names: ColumnNames) -> bool:
    """A conditional whose conditions are not booleans or whose results need converting."""
    conditions: list[exp.Expr] = []
    compared: list[exp.Expr | None] = []
    if isinstance(node, exp.Coalesce):
        results: list[exp.Expr | None] = [node.this, *node.expressions]
    elif isinstance(node, exp.If):
        conditions = [node.this]
        results = [node.args.get("true"), node.args.get("false")]
    else:
        branches = node.args.get("ifs") or []
        results = [branch.args.get("true") for branch in branches] + [node.args.get("default")]
        if node.this is None:
            conditions = [branch.this for branch in branches]
        else:  # CASE x WHEN v ...: x compared with each v
            compared = [node.this, *(branch.this for branch in branches)]
    if any(names.value_class(condition) not in (BOOLEAN, ADAPTS) for condition in conditions):
        return True
    return any(_mixed(group, names) for group in (results, compared))


def _mixed(values: list[exp.Expr | None], names: ColumnNames) -> bool:
    classes = {names.value_class(value) for value in values if value is not None} - {ADAPTS}
    return len(classes) > 1 or UNKNOWN in classes


def _touched(node: exp.Expr, names: ColumnNames) -> set[str] | None:
    """The names of row-filtered columns ``node`` reads (None: a name it cannot tie to a column).

    Aggregates and windows of ``node``'s own query read filtered rows only; everything in a nested
    query counts (it may read ``node``'s row through a correlated reference).
    """
    touched: set[str] = set()
    stack: list[tuple[exp.Expr, bool]] = [(node, False)]
    while stack:
        current, nested = stack.pop()
        if isinstance(current, exp.Column):
            if not names.known(current):
                return None
            if current.name.lower() in names.filtered:
                touched.add(current.name.lower())
            continue
        for child in current.iter_expressions():
            if not nested and isinstance(child, exp.AggFunc | exp.Window):
                continue
            stack.append((child, nested or isinstance(child, exp.Query)))
    return touched
