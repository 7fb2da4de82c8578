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

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "resource": self.resource,
            "message": self.message,
            "details": self.details,
        }
