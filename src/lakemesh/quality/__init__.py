"""Contract checks of data products: quality rules and SLAs measured through the governed
gateway as the producer domain's quality principal, kept with their history."""

from __future__ import annotations

from lakemesh.quality.checks import CheckRun, check_history, quality_principal, run_checks

__all__ = ["CheckRun", "check_history", "quality_principal", "run_checks"]
