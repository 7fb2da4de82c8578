"""``lakemesh login`` and ``lakemesh whoami``: the identity the CLI acts as."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, options, out
from lakemesh.errors import InvalidInputError

PRINCIPAL_FIELDS = [
    ("principal", "name"),
    ("kind", "kind"),
    ("domain", "domain"),
    ("mesh admin", "is_mesh_admin"),
    ("admin of", "admin_of"),
    ("groups", "groups"),
    ("attributes", "attributes"),
]


def login(
    ctx: typer.Context,
    token: Annotated[
        str | None, typer.Option("--token", help="The API token to save (checked first).")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Save it as this profile (default: 'default')."),
    ] = None,
    hub_url: Annotated[
        str | None,
        typer.Option("--hub", help="Remote hub the token belongs to (kept in the profile)."),
    ] = None,
) -> None:
    """Check a token against the hub (whoami) and save it as a profile in profiles.toml."""
    globals_ = options(ctx)
    token = token or globals_.token
    if not token:
        raise InvalidInputError("lakemesh login needs a token: --token T")
    name = profile or globals_.profile or "default"
    hub = hub_url or globals_.hub
    checked = replace(globals_, token=token, hub=hub, profile=None)
    with checked.client() as client:
        me = client.whoami()
    globals_.hub_home.save_profile(name, token=token, hub=hub)
    result: dict[str, Any] = {
        "profile": name,
        "hub": hub,
        "profiles_file": str(globals_.hub_home.profiles_file),
        "principal": me,
    }

    def human() -> None:
        where = f"hub {hub}" if hub else f"hub home {globals_.home}"
        output.success(f"Logged in as {me.name} on {where}; saved as profile '{name}'")

    globals_.output.show(result, human)


def whoami(ctx: typer.Context) -> None:
    """Show the principal the CLI acts as: its domain, roles, groups and attributes."""
    with connect(ctx) as client:
        me = client.whoami()
    out(ctx).record(me, PRINCIPAL_FIELDS)
