"""Which backend serves a URI, and the URI operations every caller shares."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from lakemesh.errors import InvalidInputError
from lakemesh.storage.base import Properties, StorageBackend
from lakemesh.storage.local import LocalStorage
from lakemesh.storage.s3 import S3Storage

if TYPE_CHECKING:
    import fsspec

AVAILABLE_BACKENDS: dict[str, Callable[[Properties | None], StorageBackend]] = {
    "file": LocalStorage,
    "s3": S3Storage,
    "s3a": S3Storage,
    "s3n": S3Storage,
}
"""URI scheme -> backend factory. Optional libraries (s3fs) are imported only when used."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def scheme_of(uri: str) -> str:
    """The lower-cased scheme of ``uri``; ``file`` for a plain local path.

    >>> scheme_of("S3://bucket/x"), scheme_of("/data/sales")
    ('s3', 'file')
    """
    match = _SCHEME.match(uri.strip())
    if match is None or (match.group(1).lower() != "file" and "://" not in uri):
        return "file"
    return match.group(1).lower()


def backend_for(uri: str, *, properties: Properties | None = None) -> StorageBackend:
    """The backend for ``uri``'s scheme, configured with ``properties``.

    Raises:
        InvalidInputError: no backend serves that scheme.
    """
    scheme = scheme_of(uri)
    factory = AVAILABLE_BACKENDS.get(scheme)
    if factory is None:
        known = ", ".join(f"{name}://" for name in sorted(AVAILABLE_BACKENDS))
        raise InvalidInputError(
            f"Unsupported storage URI: {uri!r} (scheme {scheme}:// is not one of {known})",
            details={"uri": uri},
        )
    return factory(properties)


def normalize_uri(uri: str) -> str:
    """The one spelling of a storage URI: absolute, scheme lower-cased, no trailing slash.

    >>> normalize_uri("/data/sales/")
    'file:///data/sales'
    >>> normalize_uri("s3a://bucket/sales/")
    's3://bucket/sales'
    """
    return backend_for(uri).normalize(uri)


def real_uri(uri: str) -> str:
    """The normalized URI of what ``uri`` really names: for local storage the real path, with
    symbolic links, ``/proc/self/root`` and ``..`` resolved; object stores have no aliases.

    >>> real_uri("s3://bucket//sales/")
    's3://bucket/sales'
    """
    return backend_for(uri).real_uri(uri)


def filesystem_for(
    uri: str, *, properties: Properties | None = None
) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem that holds ``uri``, and the path of ``uri`` inside it."""
    backend = backend_for(uri, properties=properties)
    return backend.filesystem(), backend.to_path(uri)


def join_uri(base: str, *parts: str) -> str:
    """``base`` with path ``parts`` appended, normalized.

    >>> join_uri("s3://bucket/sales", "orders", "day=2024-01-01")
    's3://bucket/sales/orders/day=2024-01-01'
    """
    backend = backend_for(base)
    return backend.normalize("/".join([backend.normalize(base), *parts]))


def is_within(child_uri: str, parent_uri: str) -> bool:
    """Whether ``child_uri`` is ``parent_uri`` or lies under it, segment by segment.

    >>> is_within("file:///a/b/c", "file:///a/b"), is_within("file:///a/bc", "file:///a/b")
    (True, False)
    """
    child, parent = backend_for(child_uri), backend_for(parent_uri)
    if child.scheme != parent.scheme:
        return False
    parent_segments = parent.segments(parent_uri)
    return child.segments(child_uri)[: len(parent_segments)] == parent_segments


def overlaps(first_uri: str, second_uri: str) -> bool:
    """Whether one of two locations lies within the other (so they cannot both be owned)."""
    return is_within(first_uri, second_uri) or is_within(second_uri, first_uri)
