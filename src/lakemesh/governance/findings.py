"""What ``lakemesh doctor`` reports: findings, by severity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("high", "medium", "low", "info")


@dataclass(frozen=True)
class Finding:
    """One risky state."""

    kind: str
    severity: str
    resource: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
