"""``lakemesh init`` and ``lakemesh serve``: make a hub home, and serve it over HTTP.

These two work on the hub home itself rather than through the SDK: ``init`` runs before any token
exists, and ``serve`` is what remote clients talk to.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import command_for, options
from lakemesh.cli.serving import not_served, serve_home
from lakemesh.errors import ConflictError
from lakemesh.home import HubHome

DEFAULT_ADMIN = "user:admin@governance"
# What `init --force` deletes: the hub's own state. Domain data under storage/ stays.
HUB_STATE_FILES = ("hub.db", "hub.db-wal", "hub.db-shm", "config.toml", "profiles.toml")


def _forget_hub_state(home: Path) -> None:
    for name in HUB_STATE_FILES:
        (home / name).unlink(missing_ok=True)
    shutil.rmtree(home / "tmp", ignore_errors=True)


def init(
    ctx: typer.Context,
    admin: Annotated[
        str,
        typer.Option(
            "--admin",
            help="The first mesh admin: a user of the governance domain.",
            show_default=True,
        ),
    ] = DEFAULT_ADMIN,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Keep the hub state in this database (postgresql+psycopg://USER@HOST/DB); "
            "default: hub.db (SQLite) in the home.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Start over in an initialised home: delete its hub.db, config.toml and "
            "profiles.toml first (domain data under storage/ is kept).",
        ),
    ] = False,
) -> None:
    """Create a hub home and its first mesh admin.

    The admin's token is saved in the home's default profile and printed (shown only once).
    """
    # Imported here for CLI startup time: the services load only for this command.
    from lakemesh.bootstrap import init_home

    globals_ = options(ctx)
    home = globals_.home.absolute()
    initialised_before = HubHome(home).exists()
    if initialised_before and not force:
        raise ConflictError(
            f"Hub home is initialised already: {home} (use another --home, or --force to "
            "start over and lose its hub state)",
            details={"home": str(home)},
        )
    with not_served(home, then=f"{command_for(home)} init --force"):
        if initialised_before:
            _forget_hub_state(home)
        initialised = init_home(home, admin=admin, database_url=database_url)
        initialised.hub.close()
    result = initialised.to_dict()

    def human() -> None:
        output.success(f"Initialised hub home {home}")
        output.print_record(
            result,
            [("mesh admin", "principal"), ("database", "database_url"), ("token", "token")],
        )
        output.note(
            "The token is saved in the default profile of profiles.toml and shown only once. "
            "Next: lakemesh domain create NAME --producer --admin user:NAME@DOMAIN"
        )

    globals_.output.show(result, human)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on.", show_default=True)
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", show_default=True)] = (
        8000
    ),
    log_level: Annotated[
        str,
        typer.Option("--log-level", help="uvicorn log level (debug, info, warning, error)."),
    ] = "info",
    pg_port: Annotated[
        int | None,
        typer.Option(
            "--pg-port",
            help="Also serve governed SQL over the PostgreSQL protocol on this port (psql, "
            "BI tools; user = principal, password = token). Default: pgwire.port in "
            "config.toml, else off.",
        ),
    ] = None,
) -> None:
    """Serve the hub home's REST API (under /api/v1, docs at /api/v1/docs) until interrupted.

    With --pg-port, PostgreSQL clients connect too. A port another process listens on is
    reported before anything is served (exit code 10).
    """
    home = options(ctx).home

    def announce(url: str) -> None:
        if url.startswith("postgresql://"):
            output.note(f"Serving governed SQL on {url} (PostgreSQL protocol)")
        else:
            output.note(f"Serving hub home {home} on {url} (API docs: /api/v1/docs)")

    serve_home(home, host, port, log_level=log_level, announce=announce, pg_port=pg_port)
