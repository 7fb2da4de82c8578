"""S3-compatible object storage (``s3://bucket/prefix``), through s3fs (the ``s3`` extra)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fsspec

from lakemesh.errors import InvalidInputError
from lakemesh.storage.base import Properties, StorageBackend, check_literal_path

S3_SCHEMES = ("s3", "s3a", "s3n")

# property key -> environment variables, first set wins (after the property itself).
_SETTINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "endpoint_url": (
        "s3.endpoint",
        ("LAKEMESH_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    ),
    "key": ("s3.access-key-id", ("LAKEMESH_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")),
    "secret": (
        "s3.secret-access-key",
        ("LAKEMESH_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
    ),
    "token": ("s3.session-token", ("LAKEMESH_S3_SESSION_TOKEN", "AWS_SESSION_TOKEN")),
    "region": ("s3.region", ("LAKEMESH_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")),
    "url_style": ("s3.url-style", ("LAKEMESH_S3_URL_STYLE",)),
}

ENVIRONMENT_VARIABLES = tuple(
    dict.fromkeys(variable for _, variables in _SETTINGS.values() for variable in variables)
)
"""Every environment variable the S3 options are read from."""

URL_STYLES = ("path", "vhost")
"""``path``: ``endpoint/bucket/key`` (MinIO and most self-hosted stores); ``vhost``:
``bucket.endpoint/key`` (AWS)."""


@dataclass(frozen=True)
class S3Options:
    """How the hub reaches its S3 store; ``None`` leaves the choice to boto's default chain."""

    endpoint_url: str | None = None
    key: str | None = None
    secret: str | None = None
    token: str | None = None
    region: str | None = None
    url_style: str | None = None

    def __post_init__(self) -> None:
        if self.url_style is not None and self.url_style not in URL_STYLES:
            raise InvalidInputError(
                f"Invalid S3 URL style: {self.url_style!r} (expected path or vhost)",
                details={"url_style": self.url_style},
            )

    def __repr__(self) -> str:
        # The options travel in error reports and logs: never print the credentials.
        shown = {
            "endpoint_url": self.endpoint_url,
            "key": self.key,
            "secret": None if self.secret is None else "***",
            "token": None if self.token is None else "***",
            "region": self.region,
            "url_style": self.url_style,
        }
        return "S3Options(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @property
    def effective_url_style(self) -> str:
        """The URL style to use: as configured, else ``path`` for a custom endpoint (self-hosted
        stores rarely resolve bucket host names) and ``vhost`` for AWS."""
        if self.url_style is not None:
            return self.url_style
        return "path" if self.endpoint_url else "vhost"

    @classmethod
    def resolve(
        cls, properties: Properties | None = None, *, environ: Mapping[str, str] | None = None
    ) -> S3Options:
        """Options from hub properties (``s3.endpoint``, ``s3.access-key-id``, ...), else the
        environment (``LAKEMESH_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...).

        Raises:
            InvalidInputError: the URL style is neither ``path`` nor ``vhost``.
        """
        properties = properties or {}
        environ = os.environ if environ is None else environ
        values: dict[str, str | None] = {}
        for field_name, (property_key, variables) in _SETTINGS.items():
            candidates = [properties.get(property_key), *(environ.get(v) for v in variables)]
            values[field_name] = next((c for c in candidates if c), None)
        if values["url_style"] is not None:
            values["url_style"] = values["url_style"].strip().lower()
        return cls(**values)

    def filesystem_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``s3fs.S3FileSystem``."""
        kwargs: dict[str, Any] = {"use_listings_cache": False}
        for name in ("endpoint_url", "key", "secret", "token"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        if self.region is not None:
            kwargs["client_kwargs"] = {"region_name": self.region}
        if self.url_style is not None:
            style = "path" if self.url_style == "path" else "virtual"
            kwargs["config_kwargs"] = {"s3": {"addressing_style": style}}
        return kwargs


class S3Storage(StorageBackend):
    """Buckets and prefixes of an S3-compatible store (AWS, MinIO, Ceph, ...).

    ``s3a://`` and ``s3n://`` (Hadoop spellings) normalize to ``s3://``. Empty segments collapse;
    ``.`` and ``..`` segments and percent-encoded dots and slashes are refused, since S3 keys
    would take them literally while other readers might not.
    """

    scheme = "s3"

    def normalize(self, uri: str) -> str:
        return "s3://" + "/".join(self.segments(uri))

    def segments(self, uri: str) -> tuple[str, ...]:
        check_literal_path(uri)
        scheme, separator, rest = uri.strip().partition("://")
        if not separator or scheme.lower() not in S3_SCHEMES:
            raise InvalidInputError(
                f"Invalid S3 URI: {uri!r} (expected s3://bucket/prefix)", details={"uri": uri}
            )
        parts = tuple(part for part in rest.split("/") if part)
        if not parts:
            raise InvalidInputError(
                f"Invalid S3 URI: {uri!r} (no bucket name)", details={"uri": uri}
            )
        if any(part in (".", "..") for part in parts):
            raise InvalidInputError(
                f"Invalid S3 URI: {uri!r} ('.' and '..' segments are not allowed)",
                details={"uri": uri},
            )
        return parts

    def to_path(self, uri: str) -> str:
        return "/".join(self.segments(uri))

    def to_uri(self, path: str) -> str:
        return self.normalize("s3://" + path)

    def options(self) -> S3Options:
        """The S3 options this backend connects with."""
        return S3Options.resolve(self.properties)

    def filesystem(self) -> fsspec.AbstractFileSystem:
        try:
            s3fs = importlib.import_module("s3fs")
        except ImportError as e:
            raise InvalidInputError(
                "S3 support is not installed: pip install 'lakemesh[s3]'", details={"extra": "s3"}
            ) from e
        filesystem: fsspec.AbstractFileSystem = s3fs.S3FileSystem(
            **self.options().filesystem_kwargs()
        )
        return filesystem
