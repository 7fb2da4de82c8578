"""The plumbing every SDK method shares: one request, errors raised as :class:`LakemeshError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from lakemesh.errors import HubUnreachableError, LakemeshError, error_class
from lakemesh.sdk.transport import error_body


def segment(name: str) -> str:
    """One path segment: a dotted name or a principal ref, percent-encoded."""
    return quote(name, safe="")


Model = TypeVar("Model", bound=BaseModel)


def parsed(model: type[Model], body: Any) -> Model:
    """A response body as the API's model of it (:mod:`lakemesh.api.schemas`). A field a newer
    hub adds is kept where the model allows extra fields, and dropped where it is shaped exactly
    (``RowModel``), never an error."""
    if model.model_config.get("extra") == "forbid":
        return model.model_validate(body, extra="ignore")
    return model.model_validate(body)


def parsed_list(model: type[Model], body: Any) -> list[Model]:
    """A list response body as the API's models."""
    return [parsed(model, item) for item in body]


def only_set(**values: Any) -> dict[str, Any]:
    """The given values without the ones left ``None`` (query parameters, PATCH bodies)."""
    return {key: value for key, value in values.items() if value is not None}


class ApiBase:
    """An HTTP client of ``/api/v1`` of one hub, with the JSON error shape mapped to exceptions."""

    def __init__(self, http: httpx.Client, *, url: str) -> None:
        self._http = http
        self.url = url

    # -- plumbing -------------------------------------------------------------------------------

    def _unreachable(self, error: httpx.TransportError) -> HubUnreachableError:
        return HubUnreachableError(
            f"Cannot reach the hub at {self.url}: {error}", details={"hub": self.url}
        )

    def _error(self, error: Mapping[str, Any]) -> LakemeshError:
        """The exception for one JSON error object ``{"type", "message", "details"}``."""
        error_type = str(error.get("type", "internal_error"))
        cls = error_class(error_type)
        exception = cls(str(error.get("message", "")), details=dict(error.get("details") or {}))
        if cls.error_type != error_type:
            exception.error_type = error_type  # keep a type this client does not know yet
        return exception

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        error = error_body(response)
        if error is not None:
            raise self._error(error)
        raise LakemeshError(
            f"The hub at {self.url} answered {response.status_code} {response.reason_phrase}: "
            f"{response.text[:200]}",
            details={"hub": self.url, "status": response.status_code},
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one API request (``path`` below ``/api/v1``) and return its decoded JSON body.

        Raises:
            LakemeshError: the matching subclass for an API error; HubUnreachableError when the
                hub cannot be reached.
        """
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TransportError as e:
            raise self._unreachable(e) from e
        self._raise_for_status(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=only_set(**params))
