"""A resource of the mesh files: a kind, a key, the folder it lives in, a comparable body and the
resources it refers to; what ``plan`` compares and ``apply`` orders. :mod:`.flatten` makes them
from the files, or from the hub's state read as files, in the spelling of :mod:`.canonical`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = (
    "setting",
    "tag",
    "attribute",
    "mask",
    "guardrail",
    "workgroup",
    "domain",
    "principal",
    "admin",
    "member",
    "token",
    "location",
    "database",
    "table",
    "tag_assignment",
    "filter",
    "grant",
    "share",
    "product",
    "subscription",
    "link",
)
"""Every kind of resource, in the order apply creates them (removals go in reverse)."""
STAGE = {kind: position for position, kind in enumerate(KINDS)}

Ref = tuple[str, str]
Fingerprints = Callable[[str, str], str | None]
"""A token's secret fingerprint by principal (``workgroup:NAME`` for a workgroup's Spark Connect
token) and secret name (None: the secret is not given)."""


@dataclass(frozen=True)
class Resource:
    """One resource of the files: ``kind`` and ``key`` identify it across hubs."""

    kind: str
    key: str
    folder: str
    body: dict[str, Any]
    refs: tuple[Ref, ...] = ()

    @property
    def ref(self) -> Ref:
        return (self.kind, self.key)

    @property
    def label(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.key}"
