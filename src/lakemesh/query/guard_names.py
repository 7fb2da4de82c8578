"""What a statement's column names stand for, for :mod:`lakemesh.query.guards`: the value class
of each table column (numeric, string, boolean, or its own type) and of expressions, so that a
comparison known to need no conversion is known not to fail."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from lakemesh.query.table import TableAccess

# Classes of values for comparisons: two values of one class compare without a conversion that
# can fail. ``ADAPTS`` (a string literal, NULL) is converted to the other side's type once, at
# planning; ``UNKNOWN`` is anything the analysis cannot type.
NUMERIC, STRING, BOOLEAN, ADAPTS, UNKNOWN = "numeric", "string", "boolean", "adapts", ""
NUMERIC_TYPE = re.compile(
    r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|INT[1248]|FLOAT[48]?|REAL|DOUBLE|DECIMAL|NUMERIC)\b"
)
STRING_TYPE = re.compile(r"^(VARCHAR|TEXT|STRING|CHAR|BPCHAR)\b")

COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
PREDICATES = (*COMPARISONS, exp.In, exp.Between, exp.Like, exp.ILike, exp.Is, exp.Exists)


@dataclass(frozen=True)
class ColumnNames:
    """What the statement's column names stand for, as far as names tell."""

    classes: dict[str, str]
    """Lower-case name of a table column to its value class (``UNKNOWN`` when ambiguous)."""
    filtered: frozenset[str]
    """Names of the columns of row-filtered tables."""
    defined: frozenset[str]
    """Names the statement defines (aliases, column lists): such a name is not a table column."""
    opaque: bool
    """The statement reads sources whose columns names cannot tell (table functions, VALUES)."""

    @classmethod
    def of(
        cls, statement: exp.Expr, tables: list[TableAccess], filtered: list[TableAccess]
    ) -> ColumnNames:
        classes: dict[str, str] = {}
        for table in tables:
            for name, type_ in table.columns:
                value_class = type_class(type_)
                key = name.lower()
                classes[key] = value_class if classes.get(key, value_class) == value_class else ""
        defined: set[str] = set()
        opaque = False
        for node in statement.walk():
            if isinstance(node, exp.Alias):
                defined.add(node.alias.lower())
            elif isinstance(node, exp.TableAlias):
                defined.update(column.name.lower() for column in node.columns)
            elif isinstance(node, exp.Values | exp.Unnest | exp.Lambda) or (
                isinstance(node, exp.Table) and isinstance(node.this, exp.Func)
            ):
                opaque = True
        return cls(
            classes=classes,
            filtered=frozenset(name.lower() for t in filtered for name in t.column_names),
            defined=frozenset(defined),
            opaque=opaque,
        )

    def known(self, column: exp.Column) -> bool:
        """Whether ``column`` can only be a table column of the name it has."""
        name = column.name.lower()
        if self.opaque or name not in self.classes or name in self.defined:
            return False
        # ``profile.city`` reads a field of the struct column ``profile``.
        qualifiers = (column.args.get(part) for part in ("table", "db", "catalog"))
        return not any(q is not None and q.name.lower() in self.classes for q in qualifiers)

    def value_class(self, node: exp.Expr | None) -> str:
        """The value class of ``node``, or ``UNKNOWN``."""
        if node is None:
            return UNKNOWN
        if isinstance(node, exp.Paren | exp.Alias):
            return self.value_class(node.this)
        if isinstance(node, exp.Column):
            return self.classes[node.name.lower()] if self.known(node) else UNKNOWN
        if isinstance(node, exp.Literal):
            return ADAPTS if node.is_string else NUMERIC
        if isinstance(node, exp.Null):
            return ADAPTS
        if isinstance(node, (exp.Boolean, exp.Not, exp.Connector, *PREDICATES)):
            return BOOLEAN
        if isinstance(node, exp.Cast | exp.TryCast):
            return type_class(node.to.sql("duckdb"))
        if isinstance(node, exp.Substring | exp.Lower | exp.Upper | exp.Trim | exp.DPipe):
            return STRING
        if isinstance(node, exp.Length | exp.Count | exp.Extract):
            return NUMERIC
        if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Sum | exp.Avg | exp.Neg):
            operands = [node.this, node.args.get("expression")]
            classes = {self.value_class(n) for n in operands if n is not None}
            return NUMERIC if classes <= {NUMERIC} else UNKNOWN
        if isinstance(node, exp.Min | exp.Max):
            return self.value_class(node.this)
        if isinstance(node, exp.Subquery):
            return self.value_class(node.this)
        if isinstance(node, exp.Select) and len(node.expressions) == 1:
            return self.value_class(node.expressions[0])
        return UNKNOWN


def type_class(type_: str) -> str:
    normalized = type_.strip().upper()
    if NUMERIC_TYPE.match(normalized):
        return NUMERIC
    if STRING_TYPE.match(normalized):
        return STRING
    if normalized in ("BOOLEAN", "BOOL"):
        return BOOLEAN
    return normalized  # dates, timestamps, nested types: only the same type compares safely
