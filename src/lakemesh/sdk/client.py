"""The lakemesh Python SDK: one client for a remote hub and for an embedded hub home.

>>> client = Client.connect("http://127.0.0.1:8000", token=TOKEN)  # doctest: +SKIP
>>> client = Client.open("~/.lakemesh")                             # doctest: +SKIP
>>> client.list_domains()                                          # doctest: +SKIP

Both modes speak the same REST API (docs/rest-api.md); only the transport differs. A method
returns the API's own response models (:mod:`lakemesh.api.schemas`, the ones the OpenAPI document
describes), and every API error is raised again as the matching
:class:`~lakemesh.errors.LakemeshError` subclass with its message and details.
"""

from __future__ import annotations

import ssl
import weakref
from pathlib import Path
from types import TracebackType

import httpx

from lakemesh.errors import InvalidInputError
from lakemesh.home import HubHome
from lakemesh.sdk.audit import AuditMethods
from lakemesh.sdk.catalog import CatalogMethods, ProgressCallback
from lakemesh.sdk.embedded import open_transport
from lakemesh.sdk.governance import GovernanceMethods
from lakemesh.sdk.governance_tags import GovernanceTagMethods
from lakemesh.sdk.identity import IdentityMethods
from lakemesh.sdk.lineage import LineageMethods
from lakemesh.sdk.mesh import MeshMethods
from lakemesh.sdk.notifications import NotificationMethods
from lakemesh.sdk.query import QueryMethods, WorkgroupMethods
from lakemesh.sdk.scheduling import ScheduleMethods
from lakemesh.sdk.sharing import SharingMethods

__all__ = ["Client", "ProgressCallback"]

API_PREFIX = "/api/v1"
EMBEDDED_BASE_URL = "http://embedded.lakemesh"
DEFAULT_TIMEOUT = 300.0


class Client(
    IdentityMethods,
    CatalogMethods,
    AuditMethods,
    QueryMethods,
    WorkgroupMethods,
    GovernanceTagMethods,
    GovernanceMethods,
    SharingMethods,
    NotificationMethods,
    ScheduleMethods,
    LineageMethods,
    MeshMethods,
):
    """A connection to one hub, remote (:meth:`connect`) or embedded (:meth:`open`).

    Use it as a context manager (``with Client.open(home) as client: ...``), or call
    :meth:`close`, to release the connection (and, embedded, the hub's event loop and database).
    A client left open is closed when it is garbage-collected or the interpreter exits.
    """

    def __init__(self, http: httpx.Client, *, url: str) -> None:
        super().__init__(http, url=url)
        # Not a method of self: the finalizer must not keep the client alive.
        self._release = weakref.finalize(self, http.close)

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def connect(
        cls, url: str, *, token: str | None = None, timeout: float | None = DEFAULT_TIMEOUT
    ) -> Client:
        """A client of the hub served at ``url`` (``http://127.0.0.1:8000``)."""
        base = url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise InvalidInputError(
                f"Invalid hub URL: {url!r} (expected http://HOST:PORT or https://HOST)",
                details={"hub": url},
            )
        http = httpx.Client(
            base_url=base + API_PREFIX,
            headers=_headers(token),
            timeout=timeout,
            verify=_verification(base),
        )
        return cls(http, url=base)

    @classmethod
    def open(
        cls, home: str | Path, *, token: str | None = None, profile: str | None = None
    ) -> Client:
        """A client of the hub home at ``home``, served in this process (no server needed).

        ``token=None`` uses the token of ``profile`` (the home's default profile when ``None``).
        """
        path = Path(home).expanduser()
        if not HubHome(path).exists():
            raise InvalidInputError(
                f"Hub home does not exist: {path} (run 'lakemesh init' first)",
                details={"home": str(path)},
            )
        if token is None:
            token = str(HubHome(path).profile(profile)["token"])
        transport = open_transport(path)
        http = httpx.Client(
            transport=transport,
            base_url=EMBEDDED_BASE_URL + API_PREFIX,
            headers=_headers(token),
            timeout=None,
        )
        return cls(http, url=f"embedded hub home {path}")

    def close(self) -> None:
        """Close the connection; an embedded hub also stops and releases its database."""
        self._release()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # ``explain(principal, permission, resource) -> DecisionPublic`` comes with the governance
    # methods.


def _verification(base: str) -> ssl.SSLContext | bool:
    """How TLS is verified: httpx's default (certifi) for an ``https://`` hub. A plain HTTP hub
    never negotiates TLS, so loading the CA bundle would only cost startup time (about 0.15 s);
    it gets a context without CAs, which refuses any certificate it were ever shown."""
    if base.startswith("https://"):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
