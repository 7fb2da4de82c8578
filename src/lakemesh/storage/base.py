"""The storage interface: one backend per URI scheme, each exposing an fsspec filesystem."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from lakemesh.errors import InvalidInputError

if TYPE_CHECKING:
    import fsspec

Properties = Mapping[str, str]
"""Backend settings from the hub configuration, keyed like pyiceberg's (``s3.endpoint``)."""

# Percent-encoded '.', '/', '\\' and NUL: lakemesh takes paths literally, but another reader of the
# same URI (an engine, a proxy) might decode them into '..' or a separator.
_ENCODED_SEPARATOR = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)


def check_literal_path(uri: str) -> None:
    """Refuse a URI that hides a path separator, a dot segment or a control character.

    Raises:
        InvalidInputError: naming the URI.
    """
    if _ENCODED_SEPARATOR.search(uri):
        raise InvalidInputError(
            f"Invalid storage URI: {uri!r} (percent-encoded '.', '/', '\\' or NUL are not "
            "allowed; write the path literally)",
            details={"uri": uri},
        )
    if any(ord(character) < 32 or 127 <= ord(character) < 160 for character in uri):
        raise InvalidInputError(
            f"Invalid storage URI: {uri!r} (control characters are not allowed)",
            details={"uri": uri},
        )


@dataclass(frozen=True)
class Link:
    """A symbolic link met while listing a folder: it is never followed."""

    path: str  # the link, inside the filesystem
    target: str  # the real path it leads to


@dataclass
class Listing:
    """The regular files under a folder (path inside the filesystem -> size), and the links met."""

    files: dict[str, int] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)


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

    def real_uri(self, uri: str) -> str:
        """The normalized URI of what ``uri`` really names (local storage resolves links)."""
        return self.normalize(uri)

    def list_files(self, path: str) -> Listing:
        """Every file under the folder ``path`` (one recursive listing).

        Raises:
            OSError: the folder cannot be listed.
        """
        entries = self.filesystem().find(path, detail=True)
        return Listing(
            {
                name: int(info.get("size") or 0)
                for name, info in entries.items()
                if info.get("type") == "file"
            }
        )
