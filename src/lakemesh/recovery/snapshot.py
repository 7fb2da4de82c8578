"""A decision snapshot: every principal's SELECT decision on every table of a hub (and the tables
it may DESCRIBE), in a stable, comparable form.

The decisions come from the authorization kernel (:func:`lakemesh.authz.state.policy_index`, the
index behind ``lakemesh explain``); nothing here decides. What makes two hubs' snapshots
comparable is the normalisation: grant ids (which differ between a hub and its rebuild) are
dropped from the reasons, reasons and row predicates are sorted, masks and cell pairs are keyed
by column and predicate. A table a principal may not SELECT at all is left out (denied).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lakemesh.errors import InvalidInputError
from lakemesh.policy import Decision

SNAPSHOT_FORMAT = 1
GRANT_ID = re.compile(r"\bgrant #\d+ ")
"""Grant ids in reasons: ``grant #12 SELECT on ...`` reads ``grant SELECT on ...``."""


@dataclass(frozen=True)
class TableDecision:
    """What one principal may SELECT of one table (the ``explain`` answer, normalised).

    ``cells`` maps each row predicate (``"*"`` for every row) to the columns it covers, so a
    change in which rows of which columns are readable shows even when the union does not.
    """

    columns: tuple[str, ...]
    row_filter: str | None
    cells: tuple[tuple[str, tuple[str, ...]], ...]
    masks: tuple[tuple[str, str], ...]
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, decision: Decision) -> TableDecision:
        """The normalised form of an allowed SELECT decision."""
        pairs = decision.access.pairs if decision.access is not None else ()
        cells: dict[str, set[str]] = {}
        for pair in pairs:
            cells.setdefault(pair.predicate or EVERY_ROW, set()).update(pair.columns)
        return cls(
            columns=tuple(decision.columns),
            row_filter=_row_filter(decision, pairs_predicates=cells.keys()),
            cells=tuple((key, tuple(sorted(cells[key]))) for key in sorted(cells)),
            masks=tuple(sorted(decision.masks.items())),
            reasons=tuple(sorted({GRANT_ID.sub("grant ", reason) for reason in decision.reasons})),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "row_filter": self.row_filter,
            "cells": {predicate: list(columns) for predicate, columns in self.cells},
            "masks": dict(self.masks),
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableDecision:
        return cls(
            columns=tuple(data["columns"]),
            row_filter=data["row_filter"],
            cells=tuple((key, tuple(value)) for key, value in sorted(data["cells"].items())),
            masks=tuple(sorted(data["masks"].items())),
            reasons=tuple(data["reasons"]),
        )


EVERY_ROW = "*"


def _row_filter(decision: Decision, *, pairs_predicates: Iterable[str]) -> str | None:
    """The union of the row predicates in a fixed order (the kernel's follows grant ids)."""
    if decision.row_filter is None:
        return None
    predicates = sorted(p for p in pairs_predicates if p != EVERY_ROW)
    return " OR ".join(f"({predicate})" for predicate in predicates)


@dataclass(frozen=True)
class DecisionSnapshot:
    """Every principal-table SELECT decision of a hub; absent pairs are denied."""

    principals: tuple[str, ...]
    tables: dict[str, tuple[str, ...]]
    """Each table (``d.db.t``) with its columns in order."""
    decisions: dict[tuple[str, str], TableDecision] = field(default_factory=dict)
    """``(principal, table)`` → the allowed decision."""
    describable: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each principal → the tables it may DESCRIBE (see, without reading), sorted."""

    def decision(self, principal: str, table: str) -> TableDecision | None:
        """The decision, or None when denied."""
        return self.decisions.get((principal, table))

    def to_dict(self) -> dict[str, Any]:
        """A JSON document in a stable order (two snapshots of one state are equal text)."""
        by_principal: dict[str, dict[str, Any]] = {}
        for (principal, table), decision in sorted(self.decisions.items()):
            by_principal.setdefault(principal, {})[table] = decision.to_dict()
        return {
            "format": SNAPSHOT_FORMAT,
            "principals": list(self.principals),
            "tables": {name: list(columns) for name, columns in sorted(self.tables.items())},
            "decisions": by_principal,
            "describe": {ref: list(tables) for ref, tables in sorted(self.describable.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionSnapshot:
        """A snapshot read back from :meth:`to_dict`.

        Raises:
            InvalidInputError: for a document that is not a decision snapshot of this format.
        """
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise InvalidInputError(
                f"Not a decision snapshot of format {SNAPSHOT_FORMAT}",
                details={"format": data.get("format") if isinstance(data, dict) else None},
            )
        try:
            decisions = {
                (principal, table): TableDecision.from_dict(decision)
                for principal, tables in data["decisions"].items()
                for table, decision in tables.items()
            }
            return cls(
                principals=tuple(data["principals"]),
                tables={name: tuple(columns) for name, columns in data["tables"].items()},
                decisions=decisions,
                describable={
                    ref: tuple(tables) for ref, tables in data.get("describe", {}).items()
                },
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise InvalidInputError(
                f"Invalid decision snapshot: {e!r} is missing or malformed"
            ) from e
