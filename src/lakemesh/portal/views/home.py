"""The home page: who the viewer is and the data products it may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.model.actors import Actor
from lakemesh.sharing import products

HOME_PRODUCTS = 12


@dataclass(frozen=True)
class Home:
    """The viewer's groups and domains, and the newest products it may see."""

    groups: list[str]
    administers: list[str]
    products: list[dict[str, Any]]


def home(session: Session, *, viewer: Actor) -> Home:
    """The home page of ``viewer``."""
    rows = products.list_products(session, actor=viewer)
    rows.sort(key=lambda row: row.updated_at, reverse=True)
    return Home(
        groups=sorted(viewer.groups),
        administers=sorted(viewer.admin_of),
        products=[products.describe_product(row) for row in rows[:HOME_PRODUCTS]],
    )
