"""``lakemesh demo``: build the NimbusCart demo mesh in the hub home, then serve it."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import options
from lakemesh.home import default_home

PERSONA_COLUMNS = [
    ("profile", "profile"),
    ("principal", "principal"),
    ("role", "role"),
    ("token", "token"),
]
EXAMPLES = (
    "--profile marketing-analyst whoami",
    "--profile steward domain list",
    "--profile sales-admin table show sales.crm.customers",
    "--profile steward explain user:mia@marketing SELECT sales.crm.customers",
    "--profile steward audit search --since 1d",
)


def demo(
    ctx: typer.Context,
    no_serve: Annotated[
        bool,
        typer.Option("--no-serve", help="Build the demo mesh and exit instead of serving it."),
    ] = False,
    host: Annotated[
        str, typer.Option("--host", help="Interface to serve on.", show_default=True)
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to serve on.", show_default=True)] = (
        8000
    ),
    orders: Annotated[
        int,
        typer.Option("--orders", help="Number of generated order rows.", show_default=True),
    ] = 1_000_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the generated data.", show_default=True)
    ] = 7,
) -> None:
    """Build the NimbusCart demo mesh, then serve it.

    NimbusCart is a retailer: producer and consumer domains, generated data in each domain's
    storage, everything crawled, and a token per persona (saved as profiles).
    """
    from lakemesh.demo.mesh import build_demo

    globals_ = options(ctx)
    home = globals_.home.absolute()
    report = (lambda message: None) if globals_.json else output.note
    result = build_demo(home, orders=orders, seed=seed, progress=report)

    def human() -> None:
        output.success(f"NimbusCart is ready in {home}: {len(result.tables)} tables crawled")
        output.print_table(
            [
                {
                    "profile": p.profile,
                    "principal": p.principal,
                    "role": p.role,
                    "token": result.tokens[p.profile],
                }
                for p in result.personas
            ],
            PERSONA_COLUMNS,
            title="Personas (tokens saved as profiles in profiles.toml)",
        )
        command = "lakemesh" if home == default_home().absolute() else f"lakemesh --home {home}"
        output.line("Try:")
        for example in EXAMPLES:
            output.line(f"  {command} {example}")
        output.line("Queries through the gateway, as each persona:")
        for profile, description, sql in result.queries:
            output.line(f"  # {description}")
            output.line(f'  {command} --profile {profile} query "{sql}"')

    output.emit(globals_.json, result.to_dict(), human)
    if not no_serve:
        from lakemesh.api.server import serve as serve_api
        from lakemesh.hub import Hub

        hub = Hub.open(home)
        try:
            output.note(f"Serving the demo on http://{host}:{port} (Ctrl-C to stop)")
            serve_api(hub, host, port)
        finally:
            hub.close()
