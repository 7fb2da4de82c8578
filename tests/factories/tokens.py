"""Principals' actors and API tokens straight from the store, and a process environment free of
the developer's own ``LAKEMESH_*`` settings, for suites that drive a hub through its interfaces."""

from __future__ import annotations

import pytest

from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.identity.tokens import issue_token
from lakemesh.model.actors import Actor
from tests.conftest import HubEnv

CLI_ENVIRONMENT = ("LAKEMESH_HOME", "LAKEMESH_HUB", "LAKEMESH_TOKEN", "LAKEMESH_PROFILE")


def actor_of(env: HubEnv, ref: str) -> Actor:
    """The actor of the existing principal ``ref`` (its groups and attributes loaded)."""
    with env.hub.read() as session:
        return load_actor(session, get_principal(session, ref))


def token_of(env: HubEnv, ref: str) -> str:
    """A new API token of the existing principal ``ref`` that never expires."""
    with env.hub.transaction() as session:
        return issue_token(session, get_principal(session, ref), expires_in=None).token


def clear_cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset the variables that would point the CLI or SDK at another home, hub or profile."""
    for name in CLI_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
