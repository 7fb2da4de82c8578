"""The Python SDK: one :class:`Client` for a remote hub and for an embedded hub home."""

from __future__ import annotations

from lakemesh.sdk.catalog import ProgressCallback
from lakemesh.sdk.client import Client
from lakemesh.sdk.errors import HubUnreachableError

__all__ = ["Client", "HubUnreachableError", "ProgressCallback"]
