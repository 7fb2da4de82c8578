"""The portal's main navigation: one entry per section, shown to the viewers it is for.

A new section adds a :class:`NavItem` to :data:`NAV_ITEMS` (``shown`` decides who sees the link;
the pages themselves still answer 404/403 through the services, whatever the menu shows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lakemesh.model.actors import Actor


def everyone(viewer: Actor) -> bool:
    """Every signed-in viewer."""
    return True


@dataclass(frozen=True)
class NavItem:
    """A link of the main navigation: its label, its path, who it is shown to."""

    label: str
    path: str
    shown: Callable[[Actor], bool] = everyone


def administrators(viewer: Actor) -> bool:
    """Mesh admins and domain admins."""
    return bool(viewer.admin_of)


NAV_ITEMS: list[NavItem] = [
    NavItem("Home", "/"),
    NavItem("Search", "/search"),
    NavItem("Query", "/query"),
    NavItem("My access", "/access"),
    NavItem("Inbox", "/inbox", shown=administrators),
    NavItem("Governance", "/governance", shown=administrators),
    NavItem("Audit", "/audit", shown=administrators),
]


def navigation(viewer: Actor | None) -> list[NavItem]:
    """The entries ``viewer`` sees (none before sign-in)."""
    if viewer is None:
        return []
    return [item for item in NAV_ITEMS if item.shown(viewer)]
