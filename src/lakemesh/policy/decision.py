"""The answer of the policy engine, with the reasons behind it (``lakemesh explain``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakemesh.errors import AccessDeniedError
from lakemesh.model.access import ColumnAccess
from lakemesh.model.names import PrincipalName


@dataclass(frozen=True)
class Decision:
    """Whether ``principal`` may use ``permission`` on ``resource``, and in what shape.

    ``permission`` is a :class:`~lakemesh.model.permissions.Permission`, or ``GRANT SELECT, ...``
    for a grant-option check (:func:`lakemesh.policy.grant_option.can_grant`).

    For SELECT on a table or column: ``columns`` are the visible columns in table order,
    ``row_filter`` is the union of the row predicates (``(p1) OR (p2)``; None when some pair
    reads every row), ``access`` the cell pairs and masks for the query gateway, ``masks`` maps
    each masked column to its function. For UNMASK: ``columns`` are the unmasked columns. For
    other permissions only ``allowed`` and ``reasons`` matter.
    """

    allowed: bool
    principal: PrincipalName
    permission: str
    resource: str
    columns: tuple[str, ...] = ()
    row_filter: str | None = None
    access: ColumnAccess | None = None
    masks: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    sources: tuple[int, ...] = ()
    """Ids of the grants the decision rests on (for a grant-option check: the grants the new
    grant derives from, so revoking them cascades to it)."""
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """For ``explain``: the principal attributes the row filters read, each with its value and
    who set it (``{"region": {"value", "set_by", "set_at"}}``)."""

    vended_credentials: dict[str, Any] | None = None
    """For ``explain`` of SELECT on a table: whether the principal would be vended storage
    credentials for it (``{"allowed": bool, "reason": str | None}``)."""

    def require(self) -> Decision:
        """Return self when allowed, else raise the denial naming what was missing.

        Raises:
            AccessDeniedError: ``user:bob@marketing lacks SELECT on sales.crm.customers``.
        """
        if not self.allowed:
            raise AccessDeniedError(
                f"{self.principal} lacks {self.permission} on {self.resource}",
                details={
                    "principal": str(self.principal),
                    "permission": str(self.permission),
                    "resource": self.resource,
                    "reasons": list(self.reasons),
                },
            )
        return self
