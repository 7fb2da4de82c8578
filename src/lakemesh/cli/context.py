"""The global options of every command, and the one SDK client built from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from lakemesh.errors import AuthenticationError, InvalidInputError, NotFoundError
from lakemesh.home import HubHome, default_home
from lakemesh.sdk import Client


@dataclass(frozen=True)
class GlobalOptions:
    """``--home``, ``--hub``, ``--token``, ``--profile`` and ``--json`` (or their variables)."""

    home: Path
    hub: str | None = None
    token: str | None = None
    profile: str | None = None
    json: bool = False

    @property
    def hub_home(self) -> HubHome:
        return HubHome(self.home)

    def _profile(self) -> dict[str, Any] | None:
        """The chosen profile (``--profile``, else the default one when it exists)."""
        if self.profile:
            return self.hub_home.profile(self.profile)
        try:
            return self.hub_home.profile(None)
        except NotFoundError:
            return None

    def client(self) -> Client:
        """The SDK client: remote with ``--hub`` (or the profile's hub), else embedded on
        ``--home``; the token of ``--token``, else of the profile.
        """
        hub, token = self.hub, self.token
        if token is None or (self.profile and hub is None):
            profile = self._profile()
            if profile is not None:
                token = token or profile.get("token")
                hub = hub or profile.get("hub")
        if hub is None and not self.hub_home.exists():
            raise InvalidInputError(
                f"Hub home does not exist: {self.home} (run 'lakemesh init' first, or pass "
                "--hub URL to use a remote hub)",
                details={"home": str(self.home)},
            )
        if not token:
            raise AuthenticationError(
                "No API token: pass --token, set LAKEMESH_TOKEN, or save a profile with "
                "'lakemesh login --token T'"
            )
        if hub:
            return Client.connect(hub, token=token)
        return Client.open(self.home, token=token)


def options(ctx: typer.Context) -> GlobalOptions:
    """The global options of the running command."""
    found = ctx.find_object(GlobalOptions)
    return found if found is not None else GlobalOptions(home=default_home())


def connect(ctx: typer.Context) -> Client:
    """The SDK client for the running command (use it as a context manager)."""
    return options(ctx).client()


def local_uri(uri: str) -> str:
    """A storage URI as typed: a bare path is made absolute against the current directory."""
    if "://" in uri:
        return uri
    return str(Path(uri).expanduser().resolve())


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, str]:
    """``["k=v", ...]`` as a dict, refusing an item without ``=``."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(
                f"Invalid {what}: {pair!r} (expected KEY=VALUE)", details={what: pair}
            )
        result[key.strip()] = value
    return result
