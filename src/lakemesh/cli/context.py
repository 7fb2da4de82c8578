"""The global options of every command, and the one SDK client built from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from lakemesh.cli.output import ConsoleOutput, JsonOutput, Output
from lakemesh.cli.serving import served_url
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
    def output(self) -> Output:
        """Where results go: JSON on stdout under ``--json``, else the console."""
        return JsonOutput() if self.json else ConsoleOutput()

    @property
    def hub_home(self) -> HubHome:
        return HubHome(self.home)

    def _profile(self) -> tuple[str, dict[str, Any]] | None:
        """The chosen profile's name and entry (``--profile``, else the default one if any)."""
        home = self.hub_home
        name = home.profile_name(self.profile)
        if self.profile:
            return name, home.profile(name)
        try:
            return name, home.profile(name)
        except NotFoundError:
            return None

    def _hub_and_token(self) -> tuple[str | None, str]:
        """Where to send requests (``None``: the hub home) and the token to send there.

        A profile's token goes only to its own hub (its ``hub`` URL, else the hub home): with
        ``--hub`` pointing elsewhere it is never sent, so a mistyped or hostile URL cannot
        collect the mesh admin's token. An empty ``--token`` (an unset shell variable) is an
        error, never a silent fall back to the default profile.
        """
        if self.token is not None:
            if not self.token.strip():
                raise InvalidInputError(
                    "Empty API token given with --token or LAKEMESH_TOKEN (an unset shell "
                    "variable?): pass a token, or leave both out to use the profile's token",
                    details={"token": ""},
                )
            if self.hub is None and self.profile:
                found = self._profile()
                return (found[1].get("hub") if found else None), self.token
            return self.hub, self.token
        found = self._profile()
        if found is None:
            raise AuthenticationError(
                "No API token: pass --token, set LAKEMESH_TOKEN, or save a profile with "
                "'lakemesh login --token T'"
            )
        name, profile = found
        profile_hub: str | None = profile.get("hub")
        if self.hub is not None and not _same_hub(self.hub, profile_hub):
            owner = f"hub {profile_hub}" if profile_hub else f"hub home {self.home}"
            raise AuthenticationError(
                f"No API token for hub {self.hub}: profile '{name}' belongs to {owner} and its "
                "token is sent nowhere else. Pass --token (or set LAKEMESH_TOKEN), or save a "
                f"profile for that hub: lakemesh login --hub {self.hub} --token T --profile NAME",
                details={"hub": self.hub, "profile": name},
            )
        token = profile.get("token")
        if not token:
            raise AuthenticationError(
                f"Profile '{name}' has no token (in {self.hub_home.profiles_file}): log in "
                "again with 'lakemesh login --token T'",
                details={"profile": name},
            )
        return self.hub or profile_hub, str(token)

    def client(self) -> Client:
        """The SDK client: remote with ``--hub`` (or the profile's hub), else on ``--home``:
        through the hub serving that home when one does, else embedded in this process. The
        token of ``--token``, else of the profile (see ``_hub_and_token``).
        """
        home = self.hub_home
        if self.hub is None and not home.exists() and not home.profiles_file.exists():
            raise self._missing_home()
        hub, token = self._hub_and_token()
        if hub is None and not home.exists():
            raise self._missing_home()
        if hub:
            return Client.connect(hub, token=token)
        served = served_url(self.home)
        if served is not None:
            # A hub serves this home (lakemesh serve, demo): ask it, rather than load a whole hub
            # into this process for one command (startup time); its answers are the same.
            return Client.connect(served, token=token)
        return Client.open(self.home, token=token)

    def _missing_home(self) -> InvalidInputError:
        return InvalidInputError(
            f"Hub home does not exist: {self.home} (run 'lakemesh init' first, or pass "
            "--hub URL to use a remote hub)",
            details={"home": str(self.home)},
        )


def _same_hub(url: str, profile_hub: str | None) -> bool:
    """Whether ``url`` names the profile's hub (a profile without one belongs to the home)."""
    return profile_hub is not None and url.rstrip("/") == profile_hub.rstrip("/")


def options(ctx: typer.Context) -> GlobalOptions:
    """The global options of the running command."""
    found = ctx.find_object(GlobalOptions)
    return found if found is not None else GlobalOptions(home=default_home())


def out(ctx: typer.Context) -> Output:
    """The output of the running command (console or JSON, chosen once by ``--json``)."""
    return options(ctx).output


def connect(ctx: typer.Context) -> Client:
    """The SDK client for the running command (use it as a context manager)."""
    return options(ctx).client()


def command_for(home: Path) -> str:
    """How to call the CLI on ``home`` in a hint: ``lakemesh``, plus ``--home`` when needed."""
    home = home.absolute()
    return "lakemesh" if home == default_home().absolute() else f"lakemesh --home {home}"


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
