"""A data product's health: one summary of its last contract check, for consumers to judge it.

- ``status``: the last run's outcome (``passed``, ``failed``, ``error``) or ``unchecked``;
- ``quality_pass_rate``: the percentage of its quality rules that passed;
- ``completeness``: the same over the completeness rules (null and missing values, required
  columns, rules of dimension ``completeness``);
- ``freshness``: ``on_time`` or ``late`` (by how much) against the latency SLA, as measured;
- ``checked_at``: when that was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lakemesh.contracts.rules import LIBRARY, MISSING_VALUES, NULL_VALUES, SQL
from lakemesh.contracts.sla import LATENCY
from lakemesh.store.schema import QualityResult, QualityRun

UNCHECKED, ON_TIME, LATE = "unchecked", "on_time", "late"
FACETS = ("passed", "failed", "error", UNCHECKED, ON_TIME, LATE)
"""The values ``product search --health`` filters on."""


def _rate(results: list[QualityResult]) -> float | None:
    if not results:
        return None
    return round(100.0 * sum(r.status == "passed" for r in results) / len(results), 1)


def _freshness(results: list[QualityResult]) -> dict[str, Any] | None:
    latency = next((r for r in results if r.kind == "sla" and r.metric == LATENCY), None)
    if latency is None:
        return None
    details = dict(latency.details or {})
    if latency.status == "error":
        return {"status": "unknown", "message": latency.message}
    return {
        "status": ON_TIME if details.get("on_time") else LATE,
        "late_by_seconds": details.get("late_by_seconds", 0),
        "last_update": details.get("last_update"),
        "promise": latency.threshold,
    }


def health_summary(run: QualityRun | None) -> dict[str, Any]:
    """The health of a product whose newest check run is ``run`` (None: never checked)."""
    if run is None:
        return {
            "status": UNCHECKED,
            "checked_at": None,
            "quality_pass_rate": None,
            "completeness": None,
            "freshness": None,
        }
    results = list(run.results)
    quality = [r for r in results if r.kind in (LIBRARY, SQL)]
    complete = [
        r
        for r in quality
        if r.metric in (NULL_VALUES, MISSING_VALUES) or (r.dimension or "") == "completeness"
    ]
    return {
        "status": run.status,
        "checked_at": run.finished_at.isoformat(),
        "quality_pass_rate": _rate(quality),
        "completeness": _rate(complete),
        "freshness": _freshness(results),
    }


def matches(health: dict[str, Any], facet: str) -> bool:
    """Whether a health summary is in ``facet`` (a run status, ``unchecked``, ``on_time`` or
    ``late``)."""
    if facet in (ON_TIME, LATE):
        freshness = health.get("freshness") or {}
        return bool(freshness.get("status") == facet)
    return bool(health["status"] == facet)


def facet_counts(healths: Iterable[dict[str, Any]]) -> dict[str, int]:
    """How many of the health summaries fall in each facet (every facet named, zeros too).

    >>> facet_counts([health_summary(None)])["unchecked"]
    1
    """
    found = list(healths)
    return {facet: sum(matches(health, facet) for health in found) for facet in FACETS}
