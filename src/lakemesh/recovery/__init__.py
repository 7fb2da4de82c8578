"""Disaster recovery: do two hubs decide the same? (issue 15)

- :mod:`~lakemesh.recovery.snapshot`: every principal's SELECT decision on every table, in a
  stable, comparable form;
- :mod:`~lakemesh.recovery.decisions`: a hub's decisions from the authorization kernel, and the
  inputs they rest on;
- :mod:`~lakemesh.recovery.compare`: the differences between two hubs or snapshots;
- :mod:`~lakemesh.recovery.checks`: comparing sources (hub homes, databases, snapshot files).
"""

from __future__ import annotations

from lakemesh.recovery.checks import ComparisonReport, compare_sources, snapshot_of
from lakemesh.recovery.compare import Difference, compare_hubs, compare_snapshots
from lakemesh.recovery.decisions import HubDecisions, take_snapshot
from lakemesh.recovery.snapshot import DecisionSnapshot, TableDecision

__all__ = [
    "ComparisonReport",
    "DecisionSnapshot",
    "Difference",
    "HubDecisions",
    "TableDecision",
    "compare_hubs",
    "compare_snapshots",
    "compare_sources",
    "snapshot_of",
    "take_snapshot",
]
