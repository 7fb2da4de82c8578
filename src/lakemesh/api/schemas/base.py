"""The bases of every API model: strict request bodies, documented responses, bounded integers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakemesh.model.integers import MAX_STORED_INTEGER as MAX_STORED_INTEGER
from lakemesh.model.names import check_text

Count = Annotated[int, Field(ge=0, le=MAX_STORED_INTEGER)]
"""A non-negative integer a request sets and the store keeps (bytes, seconds, a concurrency)."""

Timestamp = Annotated[str, Field(description="An ISO 8601 timestamp with its UTC offset")]


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value (keys too), with the dotted path of the field it is in."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield inner, key
            yield from _strings(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


class RequestBody(BaseModel):
    """Base of every request body: unknown fields are an error, values are not coerced
    (``"yes"`` is not a boolean, ``"5"`` not a number), and no string holds a control character
    (an ESC or a bidi override in a name or description would reach other users' terminals)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        for field, text in _strings(data, ""):
            check_text(text, field)
        return data


class ResponseModel(BaseModel):
    """Base of every response body: the fields the hub promises. A field a newer hub adds passes
    through to older clients (``extra="allow"``)."""

    model_config = ConfigDict(extra="allow")


class RowModel(ResponseModel):
    """Base of a response shaped from a store row (``from_row``): exactly its fields, no more.

    Services return rows; turning one into what the API shows is the model's job.
    """

    model_config = ConfigDict(extra="forbid")


def stamp(value: datetime | None) -> str | None:
    """A stored time as the API shows it (ISO 8601 with its UTC offset).

    >>> from datetime import UTC
    >>> stamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2026-01-02T03:04:05+00:00'
    """
    return None if value is None else value.isoformat()
