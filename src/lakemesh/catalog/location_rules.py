"""Where locations may lie and who may register them (the Lake Formation model).

Every check works on real paths (:func:`lakemesh.storage.real_uri`): a symbolic link,
``/proc/self/root``, ``/proc/self/cwd``, ``..`` or ``//`` cannot make one folder look like another.

- Never a location, for anyone: the system folders ``/proc``, ``/sys`` and ``/dev``, the hub home
  (its database, configuration and tokens), the hub's SQLite database file, and any folder inside
  or containing one of them, except the hub home's ``storage/`` folder, where domains keep their
  data by default.
- Mesh admins register anywhere else (within the ``location-prefixes`` guardrails).
- A domain admin registers for its domain only inside a prefix granted to the domain: the hub
  home's ``storage/<domain>``, a ``location-prefixes`` guardrail prefix written with ``{domain}``,
  or a registered location on which it holds ``DATA_LOCATION_ACCESS``.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lakemesh.authz import decide
from lakemesh.authz.guardrail_rules import LOCATION_PREFIXES, list_guardrails, location_prefixes
from lakemesh.errors import AccessDeniedError
from lakemesh.hub import Hub
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.policy import Location as LocationResource
from lakemesh.storage import is_within, real_uri, scheme_of
from lakemesh.store.schema import Location

SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
"""Folders of the operating system: reading them exposes the hub process and every other one."""


def shown(uri: str, real: str) -> str:
    """``uri``, followed by what it resolves to when that differs."""
    return uri if uri == real else f"{uri} (resolves to {real})"


def _file_uri(path: str | Path) -> str:
    return "file://" + os.path.realpath(path)


def default_storage(hub: Hub, domain: str) -> str:
    """The folder a domain may register without a grant: ``<hub home>/storage/<domain>``."""
    return _file_uri(hub.storage_root / domain)


def _protected(hub: Hub) -> list[tuple[str, str, str | None]]:
    """(real URI, what it is, the folder inside it that is exempt) of every protected place."""
    places: list[tuple[str, str, str | None]] = [
        (_file_uri(folder), f"the system folder {folder}", None) for folder in SYSTEM_FOLDERS
    ]
    places.append(
        (
            _file_uri(hub.home.path),
            "the hub home (its database, configuration and tokens)",
            _file_uri(hub.storage_root),
        )
    )
    url = make_url(hub.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        places.append((_file_uri(str(url.database)), "the hub database", None))
    return places


def reserved_reason(hub: Hub, uri: str, real: str) -> str | None:
    """Why ``uri`` (really ``real``) can never be a location, or None when it may be one."""
    if scheme_of(real) != "file":
        return None
    for place, what, exempt in _protected(hub):
        for candidate in dict.fromkeys((uri, real)):
            if exempt is not None and is_within(candidate, exempt):
                continue
            if is_within(candidate, place):
                return f"it lies inside {what}: {place}"
            if is_within(place, candidate):
                return f"it contains {what}: {place}"
    return None


def check_not_reserved(session: Session, *, uri: str, real: str, actor: Actor | None) -> None:
    """Refuse (and audit) a location inside or around a protected place.

    Raises:
        AccessDeniedError: ``Location file:///proc/self/root/x may not be registered: it lies
            inside the system folder /proc: file:///proc``.
    """
    reason = reserved_reason(Hub.of(session), uri, real)
    if reason is not None:
        raise AccessDeniedError(
            f"Location {shown(uri, real)} may not be registered: {reason}",
            details={
                "principal": actor.ref if actor is not None else "unknown",
                "action": Action.LOCATION_REGISTER,
                "resource": uri,
            },
        )


def holds_location_access(session: Session, actor: Actor, row: Location) -> bool:
    """Whether ``actor`` holds DATA_LOCATION_ACCESS on the registered location ``row``."""
    decision = decide(
        session,
        actor=actor,
        permission=Permission.DATA_LOCATION_ACCESS,
        resource=LocationResource(row.uri, row.domain.name),
    )
    return decision.allowed


def granted_prefixes(session: Session, domain: str) -> list[str]:
    """The prefixes a domain's admins may register in without holding a location grant."""
    prefixes = [default_storage(Hub.of(session), domain)]
    for row in list_guardrails(session, kind=LOCATION_PREFIXES):
        own = [prefix for prefix in row.config.get("prefixes", []) if "{domain}" in prefix]
        prefixes.extend(real_uri(prefix) for prefix in location_prefixes(row, domain, own))
    return prefixes


def check_may_register(
    session: Session,
    *,
    actor: Actor,
    uri: str,
    real: str,
    domain: str,
    granted_parents: list[Location],
) -> None:
    """Refuse a domain admin's location outside every prefix granted to its domain.

    ``granted_parents`` are the registered locations containing ``real`` on which ``actor`` holds
    DATA_LOCATION_ACCESS. Mesh admins register anywhere that is not reserved.

    Raises:
        AccessDeniedError: naming the prefixes the domain may use.
    """
    if actor.is_mesh_admin or granted_parents:
        return
    prefixes = granted_prefixes(session, domain)
    if any(is_within(real, prefix) for prefix in prefixes):
        return
    raise actor.deny(
        f"{actor.ref} lacks DATA_LOCATION_ACCESS on {shown(uri, real)}: a domain admin "
        f"registers locations only inside {' or '.join(prefixes)} or inside a registered "
        "location granted with DATA_LOCATION_ACCESS (ask a mesh admin)",
        action=Action.LOCATION_REGISTER,
        resource=uri,
    )
