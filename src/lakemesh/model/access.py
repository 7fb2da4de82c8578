"""What a principal may read of one table: the contract between the policy engine and query engines.

DESIGN §4: each SELECT grant contributes a pair (row predicate, column set). Rows returned are the
rows for which any pair's predicate holds; a cell is its value when some pair covers both its row
and its column, otherwise NULL. Masks apply after filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MASK_FUNCTIONS = ("redact", "hash", "last4", "null", "email_domain")


@dataclass(frozen=True)
class CellPair:
    """One grant's contribution: rows where ``predicate`` holds (all rows when None), ``columns``.

    ``predicate`` is a SQL boolean expression over the table's columns in DuckDB syntax, with every
    ``principal_attribute('name')`` already bound to the querying principal's value.
    """

    predicate: str | None
    columns: frozenset[str]


@dataclass(frozen=True)
class ColumnAccess:
    """The readable shape of one table for one principal: its cell pairs and its masks."""

    pairs: tuple[CellPair, ...]
    masks: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> frozenset[str]:
        """Columns available: the union of the pairs' column sets."""
        result: frozenset[str] = frozenset()
        for pair in self.pairs:
            result |= pair.columns
        return result

    def vend_refusal(self, all_columns: frozenset[str]) -> str | None:
        """Why raw storage credentials would show more than this access allows (None when they
        would not: every column, every row, no mask), in words for the principal.

        >>> pair = CellPair(None, frozenset({"id", "email"}))
        >>> ColumnAccess((pair,)).vend_refusal(frozenset({"id", "email"})) is None
        True
        >>> ColumnAccess((CellPair("region = 'EU'", pair.columns),)).vend_refusal(pair.columns)
        'a row filter applies'
        """
        if self.masks:
            return f"masks apply to {', '.join(sorted(self.masks))}"
        every = {column.lower() for column in all_columns}
        readable = {column.lower() for column in self.columns}
        if not every <= readable:
            return f"it may not read the columns {', '.join(sorted(every - readable))}"
        whole = [p for p in self.pairs if every <= {c.lower() for c in p.columns}]
        if not whole:
            return "no one grant covers every column (cells are guarded)"
        if all(pair.predicate is not None for pair in whole):
            return "a row filter applies"
        return None

    def is_unrestricted(self, all_columns: frozenset[str]) -> bool:
        """True when some pair reads every row of every column and no mask applies."""
        return not self.masks and any(
            pair.predicate is None and pair.columns >= all_columns for pair in self.pairs
        )
