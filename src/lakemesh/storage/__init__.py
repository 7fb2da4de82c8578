"""Storage: URIs and fsspec filesystems for the places domains keep their data (file, s3).

>>> normalize_uri("/data/sales/")
'file:///data/sales'
"""

from __future__ import annotations

from lakemesh.storage.base import Link, Listing, Properties, StorageBackend
from lakemesh.storage.registry import (
    AVAILABLE_BACKENDS,
    backend_for,
    filesystem_for,
    is_within,
    join_uri,
    normalize_uri,
    overlaps,
    real_uri,
    scheme_of,
)
from lakemesh.storage.s3 import S3Options

__all__ = [
    "AVAILABLE_BACKENDS",
    "Link",
    "Listing",
    "Properties",
    "S3Options",
    "StorageBackend",
    "backend_for",
    "filesystem_for",
    "is_within",
    "join_uri",
    "normalize_uri",
    "overlaps",
    "real_uri",
    "scheme_of",
]
