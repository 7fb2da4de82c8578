"""Row-filter predicates: the grammar of DESIGN §4, checked with sqlglot (DuckDB dialect).

A predicate may use comparisons (``= <> < <= > >=``, ``IS [NOT] DISTINCT FROM``), ``IN`` over a
list, ``BETWEEN``, ``[NOT] LIKE``/``ILIKE`` (with ``ESCAPE``), ``IS [NOT] NULL/TRUE/FALSE``,
``AND``/``OR``/``NOT``, parentheses, literals (strings, numbers, booleans, ``NULL``, typed literals
such as ``DATE '2024-01-01'``), casts to scalar types, the table's columns, and
``principal_attribute('name')``. Anything else is refused naming the offending token.

Binding replaces each ``principal_attribute('name')`` by the principal's value as a string literal,
or by ``NULL`` when the principal lacks it. Under SQL's three-valued logic NULL can only make the
predicate true when it is true for *every* value of the attribute, so a missing attribute never
reveals rows that depend on it (fail closed). Tests that turn NULL into TRUE (``IS NULL``,
``IS DISTINCT FROM``) would break that argument, so they may not read ``principal_attribute``.

>>> validate_predicate("Region = principal_attribute('region')", columns=["region", "amount"])
'"region" = PRINCIPAL_ATTRIBUTE(\\'region\\')'
>>> bind_predicate("region = principal_attribute('region')", attributes={"region": "EU"})
'"region" = \\'EU\\''
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from lakemesh.errors import InvalidInputError
from lakemesh.model.sql_syntax import parse_problem, token_problem

ATTRIBUTE_FUNCTION = "principal_attribute"
MAX_PREDICATE_LENGTH = 10_000

_DIALECT = Dialect.get_or_raise("duckdb")
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_CONNECTIVES = (exp.And, exp.Or, exp.Not, exp.Paren)
_PATTERNS = (exp.Like, exp.ILike, exp.Escape)
_NULL_TESTS = (exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ)
_ALLOWED = (
    *_COMPARISONS,
    *_CONNECTIVES,
    *_PATTERNS,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Literal,
    exp.Boolean,
    exp.Null,
    exp.Neg,
    exp.Column,
    exp.Identifier,
    exp.Cast,
    exp.TryCast,
    exp.DataType,
)
_PREDICATE_ROOTS = (
    *_COMPARISONS,
    *_CONNECTIVES,
    *_PATTERNS,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Boolean,
    exp.Column,
)


def _refuse(problem: str, sql: str, **details: object) -> InvalidInputError:
    return InvalidInputError(f"Row filter {problem}", details={"predicate": sql, **details})


def _check_tokens(sql: str) -> None:
    """Refuse statement separators and comments, which the parser would silently drop or keep."""
    try:
        tokens = _DIALECT.tokenize(sql)
    except TokenError as error:
        raise _refuse(f"is not valid SQL: {token_problem(sql, error).describe()}", sql) from error
    for token in tokens:
        if token.comments:
            raise _refuse("may not contain comments", sql, token=token.comments[0].strip())
        if token.token_type == TokenType.SEMICOLON:
            raise _refuse("may not use ';' (one expression, not statements)", sql, token=";")


def _token_name(node: exp.Expr) -> str:
    """How the user wrote the construct: ``read_csv``, ``+``, ``*``, ``a subquery``."""
    if isinstance(node, exp.Subquery | exp.Query | exp.Exists):
        return "a subquery"
    if isinstance(node, exp.Anonymous):
        return f"function {node.name}"
    if isinstance(node, exp.Func):
        return f"function {node.sql_name().lower()}"
    if isinstance(node, exp.Literal | exp.Null | exp.Neg):
        return f"the value {node.sql(dialect=_DIALECT)}"
    if isinstance(node, exp.Star):
        return "'*'"
    if isinstance(node, exp.Placeholder | exp.Parameter):
        return f"parameter {node.sql(dialect=_DIALECT)}"
    if isinstance(node, exp.Binary):
        operator = node.sql(dialect=_DIALECT)
        left, right = node.left.sql(dialect=_DIALECT), node.right.sql(dialect=_DIALECT)
        middle = operator[len(left) : len(operator) - len(right)].strip()
        return f"operator {middle or node.key}"
    return node.key.upper()


def _check_attribute_call(node: exp.Anonymous, sql: str) -> None:
    arguments = node.expressions
    if (
        len(arguments) != 1
        or not isinstance(arguments[0], exp.Literal)
        or not arguments[0].is_string
        or not arguments[0].name
    ):
        raise _refuse(
            f"must call {ATTRIBUTE_FUNCTION} with one attribute name in quotes, "
            f"as {ATTRIBUTE_FUNCTION}('region')",
            sql,
            token=ATTRIBUTE_FUNCTION,
        )


def _is_attribute_call(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == ATTRIBUTE_FUNCTION


def _check_node(node: exp.Expr, sql: str, columns: Mapping[str, str] | None) -> None:
    if _is_attribute_call(node):
        assert isinstance(node, exp.Anonymous)
        _check_attribute_call(node, sql)
        return
    if not isinstance(node, _ALLOWED):
        token = _token_name(node)
        raise _refuse(f"may not use {token}", sql, token=token)
    if isinstance(node, exp.In) and (node.args.get("query") or node.args.get("unnest")):
        raise _refuse("may not use a subquery", sql, token="a subquery")
    if isinstance(node, exp.Neg) and not isinstance(node.this, exp.Literal):
        raise _refuse("may not negate anything but a number", sql, token="-")
    if isinstance(node, exp.Column):
        if node.table or len(node.parts) != 1:
            raise _refuse(f"may not qualify column {node.sql(dialect=_DIALECT)}", sql)
        if columns is not None:
            wanted = node.name.lower()
            if wanted not in columns:
                known = ", ".join(columns.values())
                raise _refuse(
                    f"refers to unknown column {node.name!r} (columns: {known})",
                    sql,
                    token=node.name,
                )
            node.this.replace(exp.Identifier(this=columns[wanted], quoted=True))
        return
    if isinstance(node, exp.DataType):
        if node.args.get("nested") or node.is_type(*exp.DataType.NESTED_TYPES):
            raise _refuse(f"may not cast to {node.sql(dialect=_DIALECT)}", sql)
        return
    if isinstance(node, _NULL_TESTS) and any(
        _is_attribute_call(inner) for inner in node.find_all(exp.Anonymous)
    ):
        raise _refuse(
            f"may not test {ATTRIBUTE_FUNCTION}(...) with IS or IS DISTINCT FROM "
            "(a missing attribute must hide rows)",
            sql,
            token="IS",
        )
    for child in node.iter_expressions():
        _check_node(child, sql, columns)


@lru_cache(maxsize=4096)
def _parse(sql: str, columns: tuple[str, ...] | None) -> exp.Expr:
    if len(sql) > MAX_PREDICATE_LENGTH:
        raise _refuse(f"is longer than {MAX_PREDICATE_LENGTH} characters", sql[:200])
    if not sql.strip():
        raise _refuse("is empty", sql)
    _check_tokens(sql)
    try:
        statements = sqlglot.parse(sql, read=_DIALECT)
    except ParseError as error:
        problem = parse_problem(error)
        raise _refuse(
            f"is not valid SQL: {problem.describe()}", sql, position=problem.column
        ) from error
    except RecursionError as error:
        raise _refuse("is nested too deeply", sql) from error
    if len(statements) != 1 or statements[0] is None:
        raise _refuse("must be one expression", sql)
    tree = statements[0]
    by_lower = None if columns is None else {column.lower(): column for column in columns}
    _check_node(tree, sql, by_lower)
    if not isinstance(tree, _PREDICATE_ROOTS):
        token = _token_name(tree)
        raise _refuse(f"must be a condition, not {token}", sql, token=token)
    return tree


def validate_predicate(sql: str, *, columns: Iterable[str]) -> str:
    """Check ``sql`` against the row-filter grammar and return its canonical DuckDB text.

    Column references are matched case-insensitively against ``columns`` and written quoted with
    the table's spelling; ``principal_attribute`` calls are kept for :func:`bind_predicate`.

    Raises:
        InvalidInputError: naming the offending token, e.g. ``Row filter may not use function
            read_csv`` or ``Row filter refers to unknown column 'foo' (columns: a, b)``.
    """
    return _parse(sql, tuple(columns)).sql(dialect=_DIALECT, identify=True)


def parse_predicate(sql: str) -> exp.Expr:
    """The checked syntax tree of a predicate (shared from a cache: do not modify it)."""
    return _parse(sql, None)


def attributes_read(sql: str) -> frozenset[str]:
    """The principal attributes a predicate reads.

    >>> sorted(attributes_read("a = principal_attribute('x') OR b = principal_attribute('y')"))
    ['x', 'y']
    """
    return frozenset(
        node.expressions[0].name
        for node in _parse(sql, None).find_all(exp.Anonymous)
        if _is_attribute_call(node)
    )


@lru_cache(maxsize=65536)
def _bind(sql: str, values: tuple[tuple[str, str | None], ...]) -> str:
    by_name = dict(values)

    def substitute(node: exp.Expr) -> exp.Expr:
        if _is_attribute_call(node):
            assert isinstance(node, exp.Anonymous)
            value = by_name.get(node.expressions[0].name)
            return exp.Null() if value is None else exp.Literal.string(value)
        return node

    return _parse(sql, None).transform(substitute).sql(dialect=_DIALECT, identify=True)


def bind_predicate(sql: str, *, attributes: Mapping[str, str]) -> str:
    """Replace each ``principal_attribute('x')`` by the principal's value; DuckDB SQL out.

    The predicate is checked against the grammar again (without column names), so a stored
    predicate that bypassed :func:`validate_predicate` cannot smuggle anything in.

    >>> bind_predicate("region = principal_attribute('region')", attributes={})
    '"region" = NULL'
    """
    needed = attributes_read(sql)
    return _bind(sql, tuple(sorted((name, attributes.get(name)) for name in needed)))
