"""The ``lakemesh`` command: global options, error handling, and the command groups wired in.

Every command calls the SDK (embedded on ``--home`` or remote on ``--hub``); only ``init``,
``serve`` and ``demo`` work on a hub home directly, since they make or serve one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from lakemesh._version import __version__
from lakemesh.cli import (
    attributes,
    audit,
    backups,
    crawl,
    databases,
    demo,
    doctor,
    domains,
    explain,
    filters,
    grants,
    groups,
    guardrails,
    hub,
    inbox,
    lineage,
    links,
    locations,
    masks,
    mesh,
    onboard,
    principals,
    product_versions,
    products,
    query,
    recovery,
    schedules,
    session,
    shares,
    subscriptions,
    tables,
    tags,
    tokens,
    webhooks,
    workgroups,
)
from lakemesh.cli.context import GlobalOptions
from lakemesh.cli.errors import EXIT_CODES_HELP, EXIT_UNEXPECTED, exit_code, print_error
from lakemesh.errors import LakemeshError
from lakemesh.home import DEFAULT_HOME

JSON_FLAG = "--json"


class LakemeshGroup(TyperGroup):
    """The root command: accepts ``--json`` anywhere and turns errors into exit codes."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # `lakemesh table show x --json` reads as `lakemesh --json table show x`.
        end = args.index("--") if "--" in args else len(args)
        if JSON_FLAG in args[1:end]:
            args = [JSON_FLAG, *(arg for arg in args[:end] if arg != JSON_FLAG), *args[end:]]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        remaining = list(ctx.args)  # the subcommand's arguments (invoking consumes them)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except LakemeshError as error:
            parameters = _invoked_command(ctx, remaining).params
            print_error(error, as_json=_json_requested(ctx), parameters=parameters)
            raise typer.Exit(exit_code(error)) from error
        except Exception as error:
            if os.environ.get("LAKEMESH_DEBUG"):
                raise
            unexpected = LakemeshError(
                f"Unexpected {type(error).__name__}: {error} "
                "(set LAKEMESH_DEBUG=1 to see the traceback)"
            )
            print_error(unexpected, as_json=_json_requested(ctx))
            raise typer.Exit(EXIT_UNEXPECTED) from error


def _invoked_command(ctx: typer.Context, args: list[str]) -> Any:
    """The command the arguments named (``workgroup update``), found again from the root and the
    arguments after the subcommand's name: its own context is gone once it failed."""
    command: Any = ctx.command
    name = ctx.invoked_subcommand
    while name is not None and hasattr(command, "get_command"):
        found = command.get_command(ctx, name)
        if found is None and getattr(command, "default_command", None):
            found = command.get_command(ctx, command.default_command)  # ``query "SQL"``
        if found is None:
            break
        command = found
        positional = [arg for arg in args if not arg.startswith("-")]
        name = positional[0] if positional else None
        if name is not None:
            args = args[args.index(name) + 1 :]
    return command


def _json_requested(ctx: typer.Context) -> bool:
    found = ctx.find_object(GlobalOptions)
    return found.json if found is not None else bool(ctx.params.get("json_output"))


app = typer.Typer(
    name="lakemesh",
    cls=LakemeshGroup,
    help="lakemesh: a self-hosted data mesh. Domains own their data, the hub catalogs and "
    "governs it, consumers query it in place.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"lakemesh {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Path,
        typer.Option(
            "--home",
            envvar="LAKEMESH_HOME",
            help="The hub home: hub.db, config.toml, storage/ and profiles.toml.",
            show_default=True,
        ),
    ] = DEFAULT_HOME,
    hub_url: Annotated[
        str | None,
        typer.Option(
            "--hub",
            envvar="LAKEMESH_HUB",
            help="URL of a remote hub (http://HOST:PORT); without it the hub home is used "
            "in-process.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="LAKEMESH_TOKEN", help="API token (default: the profile's token)."
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="LAKEMESH_PROFILE",
            help="Profile of profiles.toml to take the token (and hub URL) from; default: the "
            "default profile.",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option(
            JSON_FLAG,
            help="Machine output: JSON on stdout; errors as the JSON error shape on stderr.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Global options, also read from the environment."""
    if token is None and os.environ.get("LAKEMESH_TOKEN") == "":
        token = ""  # click reads an empty variable as unset; an empty token is an error here
    ctx.obj = GlobalOptions(
        home=home.expanduser(),
        hub=hub_url or None,
        token=token,
        profile=profile or None,
        json=json_output,
    )


app.command("init")(hub.init)
app.command("serve")(hub.serve)
app.command("demo")(demo.demo)
app.command("login")(session.login)
app.command("whoami")(session.whoami)
app.add_typer(domains.app, name="domain")
app.add_typer(principals.app, name="principal")
app.add_typer(attributes.app, name="attribute")
app.add_typer(groups.app, name="group")
app.add_typer(tokens.app, name="token")
app.add_typer(locations.app, name="location")
app.add_typer(databases.app, name="database")
app.command("crawl")(crawl.crawl)
app.add_typer(tables.app, name="table")
app.add_typer(tags.app, name="tag")
app.add_typer(filters.app, name="filter")
app.add_typer(masks.app, name="mask")
app.command("grant")(grants.grant)
app.command("revoke")(grants.revoke)
app.add_typer(grants.app, name="grants")
app.command("explain")(explain.explain)
app.add_typer(guardrails.app, name="guardrail")
app.command("doctor")(doctor.doctor)
app.add_typer(audit.app, name="audit")
app.add_typer(query.app, name="query")
app.add_typer(workgroups.app, name="workgroup")
app.add_typer(shares.app, name="share")
app.add_typer(links.app, name="link")
products.app.command("versions")(product_versions.versions)
products.app.command("accept-change")(product_versions.accept_change)
products.app.command("reject-change")(product_versions.reject_change)
app.add_typer(products.app, name="product")
app.add_typer(subscriptions.app, name="subscription")
app.add_typer(schedules.app, name="schedule")
app.add_typer(lineage.app, name="lineage")
app.add_typer(onboard.app, name="onboard")
app.add_typer(inbox.app, name="inbox")
app.add_typer(webhooks.app, name="webhook")
app.command("backup")(backups.backup)
app.command("restore")(backups.restore)
app.command("export")(mesh.export)
app.command("plan")(mesh.plan)
app.command("apply")(mesh.apply)
app.add_typer(recovery.app, name="decisions")
app.command("dr-check")(recovery.dr_check)


def main() -> None:
    """Entry point of the ``lakemesh`` console script."""
    app(prog_name="lakemesh")
