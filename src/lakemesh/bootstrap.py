"""Making a new hub home: ``lakemesh init`` and the demo both start here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakemesh.catalog.domains import bootstrap
from lakemesh.errors import ConflictError, StorageError
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.identity.tokens import IssuedToken

DEFAULT_ADMIN = "user:admin@governance"


@dataclass
class Initialised:
    """A new hub and its first mesh admin's token (also saved as the default profile)."""

    hub: Hub
    token: IssuedToken

    def to_dict(self) -> dict[str, Any]:
        return {
            "token": self.token.token,
            "principal": self.token.principal,
            "home": str(self.hub.home.path),
            "database_url": self.hub.database_url,
        }


def init_home(
    home: Path,
    *,
    admin: str = DEFAULT_ADMIN,
    database_url: str | None = None,
    extra_config: dict[str, Any] | None = None,
) -> Initialised:
    """Create the hub home, its store and the first mesh admin; save the admin's token as the
    home's default profile.

    Raises:
        ConflictError: the home (or the store it names) is initialised already.
    """
    hub_home = HubHome(home)
    if hub_home.exists():
        raise ConflictError(f"Hub home is initialised already: {home}", details={"home": str(home)})
    try:
        hub_home.storage.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(
            f"Cannot create hub home {home}: {e}", details={"home": str(home)}
        ) from e
    config: dict[str, Any] = dict(extra_config or {})
    if database_url:
        config["database_url"] = database_url
    hub = Hub(home=home, database_url=database_url)
    try:
        with hub.transaction() as session:
            token = bootstrap(session, admin=admin)
    except Exception:
        hub.close()
        raise
    # Written last: a home counts as initialised only once its store holds the first admin.
    hub_home.write_config(config)
    hub_home.save_profile("default", token=token.token, make_default=True)
    return Initialised(hub, token)
