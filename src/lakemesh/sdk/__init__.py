"""The Python SDK: one :class:`Client` for a remote hub and for an embedded hub home."""

from __future__ import annotations

from lakemesh.errors import HubUnreachableError
from lakemesh.sdk.catalog import ProgressCallback
from lakemesh.sdk.client import Client

__all__ = ["Client", "HubUnreachableError", "ProgressCallback"]
