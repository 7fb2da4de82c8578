"""Pagination of the catalog's lists: ``pageToken`` in, ``next-page-token`` out.

A token is the last name of the previous page, encoded: a page starts after it, so names added
or removed meanwhile shift nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from lakemesh.errors import InvalidInputError

MAX_PAGE_SIZE = 1000


def page(
    names: Sequence[str], *, page_token: str | None, page_size: int | None
) -> tuple[list[str], str | None]:
    """The names (sorted) of one page, and the token of the next (None on the last page).

    >>> page(["a", "b", "c"], page_token=None, page_size=2)
    (['a', 'b'], 'Yg')
    >>> page(["a", "b", "c"], page_token="Yg", page_size=2)
    (['c'], None)

    Raises:
        InvalidInputError: the token is not one this catalog gave, or the size is out of range.
    """
    ordered = sorted(names)
    if page_token:
        after = _decode(page_token)
        ordered = [name for name in ordered if name > after]
    if page_size is None:
        return ordered, None
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"Invalid pageSize: {page_size} (expected 1 to {MAX_PAGE_SIZE})",
            details={"pageSize": page_size},
        )
    chosen = ordered[:page_size]
    more = len(ordered) > page_size
    return chosen, _encode(chosen[-1]) if more else None


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _decode(token: str) -> str:
    invalid = InvalidInputError(f"Invalid pageToken: {token!r}", details={"pageToken": token})
    try:
        padded = token + "=" * (-len(token) % 4)
        name = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise invalid from e
    if not name or _encode(name) != token:
        raise invalid
    return name
