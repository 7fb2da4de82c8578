"""Comparing the decisions of two hubs (or snapshots): the report ``lakemesh decisions compare``
and ``lakemesh dr-check`` print."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakemesh.errors import DecisionsDifferError
from lakemesh.recovery.compare import Difference, compare_hubs, compare_snapshots, describe
from lakemesh.recovery.decisions import HubDecisions
from lakemesh.recovery.snapshot import DecisionSnapshot
from lakemesh.recovery.sources import is_snapshot_file, open_hub, read_snapshot


@dataclass(frozen=True)
class ComparisonReport:
    """What two sides decide differently, and how much was compared."""

    before: str
    after: str
    principals: int
    tables: int
    differences: list[Difference]
    seconds: float

    @property
    def decisions(self) -> int:
        """Principal-table pairs compared (those on both sides)."""
        return self.principals * self.tables

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "identical": not self.differences,
            "principals": self.principals,
            "tables": self.tables,
            "decisions": self.decisions,
            "seconds": round(self.seconds, 3),
            "differences": [difference.to_dict() for difference in self.differences],
        }

    def lines(self) -> list[str]:
        """Every difference, readable."""
        return [line for difference in self.differences for line in describe(difference)]

    def error(self) -> DecisionsDifferError:
        """The error that ends a check finding differences (exit code 11)."""
        count = len(self.differences)
        return DecisionsDifferError(
            f"{count} difference{'s' * (count != 1)} between the decisions of {self.before} "
            f"and {self.after}",
            details={"before": self.before, "after": self.after, "differences": count},
        )


def report(
    before: str,
    after: str,
    old: HubDecisions | DecisionSnapshot,
    new: HubDecisions | DecisionSnapshot,
    started: float,
) -> ComparisonReport:
    """The report of comparing ``old`` and ``new`` (two hubs: only where inputs differ)."""
    if isinstance(old, HubDecisions) and isinstance(new, HubDecisions):
        differences = compare_hubs(old, new)
    else:
        differences = compare_snapshots(_materialised(old), _materialised(new))
    return ComparisonReport(
        before,
        after,
        len(set(old.principals) & set(new.principals)),
        len(old.tables.keys() & new.tables.keys()),
        differences,
        time.perf_counter() - started,
    )


def _materialised(side: HubDecisions | DecisionSnapshot) -> DecisionSnapshot:
    return side.snapshot() if isinstance(side, HubDecisions) else side


def decisions_of(source: str, stack: ExitStack) -> HubDecisions | DecisionSnapshot:
    """The decisions of a snapshot file, or of a hub home or database (in a read transaction
    held open until ``stack`` closes)."""
    if is_snapshot_file(source):
        return read_snapshot(Path(source).expanduser())
    hub = stack.enter_context(open_hub(source))
    session = stack.enter_context(hub.read())
    return HubDecisions(session)


def compare_sources(before: str, after: str) -> ComparisonReport:
    """Compare the decisions of two sources: snapshot files, hub homes or database URLs."""
    started = time.perf_counter()
    with ExitStack() as stack:
        old = decisions_of(before, stack)
        new = decisions_of(after, stack)
        return report(before, after, old, new, started)


def snapshot_of(source: str) -> DecisionSnapshot:
    """Every decision of a hub home or database, materialised."""
    with open_hub(source) as hub, hub.read() as session:
        return HubDecisions(session).snapshot()
