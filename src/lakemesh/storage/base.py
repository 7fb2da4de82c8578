"""The storage interface: one backend per URI scheme, each exposing an fsspec filesystem."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import fsspec

Properties = Mapping[str, str]
"""Backend settings from the hub configuration, keyed like pyiceberg's (``s3.endpoint``)."""


class StorageBackend(ABC):
    """One kind of storage (``file``, ``s3``), addressed by URIs of one scheme.

    A backend turns URIs into their one normalized spelling, maps them to paths inside its fsspec
    filesystem and back, and splits them into segments so that containment is a prefix test.
    """

    scheme: ClassVar[str]

    def __init__(self, properties: Properties | None = None) -> None:
        self.properties: dict[str, str] = dict(properties or {})

    @abstractmethod
    def normalize(self, uri: str) -> str:
        """The normalized URI: ``scheme://...`` with no trailing slash (except a root).

        Raises:
            InvalidInputError: the URI cannot be a location of this backend.
        """

    @abstractmethod
    def segments(self, uri: str) -> tuple[str, ...]:
        """The path segments of ``uri`` from its root (for S3 the bucket comes first)."""

    @abstractmethod
    def to_path(self, uri: str) -> str:
        """The path of ``uri`` inside :meth:`filesystem`."""

    @abstractmethod
    def to_uri(self, path: str) -> str:
        """The normalized URI of a path inside :meth:`filesystem` (inverse of :meth:`to_path`)."""

    @abstractmethod
    def filesystem(self) -> fsspec.AbstractFileSystem:
        """The fsspec filesystem that reads and writes this backend's URIs."""
