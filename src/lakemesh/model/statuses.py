"""The states of shares, subscriptions, data products and queries.

Members are strings, so the store keeps their plain value and a row read back compares equal:

>>> ShareStatus("accepted") is ShareStatus.ACCEPTED, ShareStatus.ACCEPTED == "accepted"
(True, True)
"""

from __future__ import annotations

from enum import StrEnum


class ShareStatus(StrEnum):
    """A share's answer from its consumer domain (DESIGN §3 share)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class SubscriptionStatus(StrEnum):
    """Where a request for a data product stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


class ProductStatus(StrEnum):
    """A data product's life: drafted, published for discovery, deprecated (still readable);
    ``contract_violated`` while its tables serve a breaking change nobody accepted yet."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"
    CONTRACT_VIOLATED = "contract_violated"


class QueryStatus(StrEnum):
    """A query in the history: waiting or running, then its outcome."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """An outcome: the query no longer waits or runs.

        >>> QueryStatus.RUNNING.finished, QueryStatus.DENIED.finished
        (False, True)
        """
        return self not in (QueryStatus.QUEUED, QueryStatus.RUNNING)
