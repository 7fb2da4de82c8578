"""S3-compatible object storage (``s3://bucket/prefix``), through s3fs (the ``s3`` extra)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.storage.base import Properties, StorageBackend, check_literal_path

if TYPE_CHECKING:
    import fsspec

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
    "profile": ("s3.profile", ("LAKEMESH_S3_PROFILE", "AWS_PROFILE")),
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
    profile: str | None = None

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
            "profile": self.profile,
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
        if self.profile is not None and self.key is None:
            kwargs["profile"] = self.profile
        return kwargs

    def with_credentials(self) -> S3Options:
        """These options with explicit keys: as configured, else from boto's credential chain
        (the profile, the shared credentials file, the instance's role), for engines that take
        keys only (DuckDB's httpfs).

        Raises:
            StorageError: no credentials are configured and the chain finds none.
        """
        if self.key and self.secret:
            return self
        try:
            session_module = importlib.import_module("botocore.session")
            session = session_module.Session(profile=self.profile)
            credentials = session.get_credentials()
            region = self.region or session.get_config_variable("region")
        except Exception as e:  # an unknown profile, an unreadable credentials file
            raise credentials_missing(self, reason=type(e).__name__) from None
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            raise credentials_missing(self)
        return replace(
            self,
            key=frozen.access_key,
            secret=frozen.secret_key,
            token=frozen.token or None,
            region=region,
        )


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


CREDENTIAL_SOURCES = (
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an AWS profile (AWS_PROFILE), an instance "
    "role, or s3.access-key-id and s3.secret-access-key in the hub settings"
)

# S3 error codes -> (reason, what the message says).
_REFUSED_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "InvalidClientTokenId",
        "TokenRefreshRequired",
    }
)


def credentials_missing(options: S3Options, *, reason: str | None = None) -> StorageError:
    """The error for an S3 store the hub has no credentials for."""
    profile = f" (profile {options.profile}: {reason})" if options.profile and reason else ""
    return StorageError(
        f"No S3 credentials for the hub{profile}: set {CREDENTIAL_SOURCES}",
        details={"reason": "no_credentials", "profile": options.profile},
    )


def describe_s3_error(error: BaseException) -> tuple[str, str] | None:
    """(reason, explanation) for an error of the S3 client, found anywhere in ``error``'s chain;
    None when it is not one. The explanation never quotes botocore's text.

    >>> describe_s3_error(ValueError("x")) is None
    True
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        described = _describe_one(current)
        if described is not None:
            return described
        current = current.__cause__ or current.__context__
    return None


def _describe_one(error: BaseException) -> tuple[str, str] | None:
    name = type(error).__name__
    if not type(error).__module__.startswith("botocore"):
        return None
    if name in ("NoCredentialsError", "PartialCredentialsError", "ProfileNotFound"):
        return "no_credentials", f"no S3 credentials for the hub (set {CREDENTIAL_SOURCES})"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        return "unreachable", "the S3 endpoint cannot be reached"
    response = getattr(error, "response", None)
    code = str((response or {}).get("Error", {}).get("Code", "")) if response else ""
    if code in _REFUSED_CREDENTIALS:
        return "invalid_credentials", f"S3 refused the hub's credentials ({code})"
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        return "access_denied", "S3 denied the hub access (AccessDenied)"
    if code in ("NoSuchBucket",):
        return "no_such_bucket", "the bucket does not exist (NoSuchBucket)"
    if code:
        return "s3_error", f"S3 answered {code}"
    return "s3_error", f"the S3 client failed ({name})"


def storage_error(error: BaseException, *, message: str, details: dict[str, Any]) -> StorageError:
    """A :class:`StorageError` saying ``message: why`` for an error of the storage client, with
    the S3 client's own wording replaced by a named reason (it may quote request details)."""
    described = describe_s3_error(error)
    if described is None:
        return StorageError(f"{message}: {error}", details=details)
    reason, explanation = described
    return StorageError(f"{message}: {explanation}", details={**details, "reason": reason})
