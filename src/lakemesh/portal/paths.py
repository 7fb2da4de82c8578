"""Which paths are the portal's (imports nothing heavy: the API's error handlers ask it)."""

from __future__ import annotations

NOT_PORTAL = ("/api/", "/iceberg/", "/static/")
"""Path prefixes that are not the portal's: their errors keep the JSON error shape."""


def is_portal_path(path: str) -> bool:
    """Whether an error on ``path`` is answered as a page (not in the API's JSON shape).

    >>> is_portal_path("/products/x/y"), is_portal_path("/api/v1/nothing")
    (True, False)
    """
    return not path.startswith(NOT_PORTAL)
