"""Errors only a client can meet: the hub itself cannot be reached."""

from __future__ import annotations

from lakemesh.errors import LakemeshError


class HubUnreachableError(LakemeshError):
    """The hub did not answer: nothing listens at its URL, or the connection broke."""

    status = 503
    error_type = "hub_unreachable"
