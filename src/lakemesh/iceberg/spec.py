"""The Iceberg REST spec's requests, parsed with pyiceberg's models (the ``tables`` extra, which
writes need and reads do not: it is imported when a write comes)."""

from __future__ import annotations

import importlib
from typing import Any

from lakemesh.errors import InvalidInputError


def parse_request(model: Any, body: dict[str, Any]) -> Any:
    """``body`` as pyiceberg's ``model`` (InvalidInputError naming each problem and where)."""
    try:
        return model.model_validate(body)
    except ValueError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in getattr(e, "errors", lambda: [])()
        )
        raise InvalidInputError(
            f"Invalid request: {problems or e}", details={"errors": problems}
        ) from None


def pyiceberg(module: str) -> Any:
    """The pyiceberg ``module``, or InvalidInputError naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InvalidInputError(
            "Writing Iceberg tables through the hub needs pyiceberg: "
            "pip install 'lakemesh[tables]'",
            details={"extra": "tables"},
        ) from e
