"""``lakemesh token …``: API tokens, shown once, with expiry and revocation."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out

app = typer.Typer(help="API tokens of principals.", no_args_is_help=True)

COLUMNS = [
    ("id", "id"),
    ("principal", "principal"),
    ("prefix", "prefix"),
    ("description", "description"),
    ("created", "created_at"),
    ("expires", "expires_at"),
    ("revoked", "revoked_at"),
    ("active", "active"),
]


@app.command("create")
def create(
    ctx: typer.Context,
    principal: Annotated[str, typer.Argument(help="Who the token is for, like service:etl@sales.")],
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Lifetime like 30d, 12h or 2w (default: no expiry)."),
    ] = None,
    description: Annotated[str, typer.Option("--description", help="What the token is for.")] = "",
) -> None:
    """Create a token; the secret is printed once and never again."""
    with connect(ctx) as client:
        issued = client.create_token(principal, expires_in=expires, description=description)

    def human() -> None:
        output.success(f"Created token {issued.id} for {issued.principal}")
        output.line(issued.token)
        output.note("Store it now: the secret is not shown again.")

    out(ctx).show(issued, human)


@app.command("list")
def list_(
    ctx: typer.Context,
    principal: Annotated[
        str | None,
        typer.Option("--principal", help="Whose tokens (default: your own)."),
    ] = None,
) -> None:
    """List tokens (never their secrets)."""
    with connect(ctx) as client:
        tokens = client.list_tokens(principal=principal)
    out(ctx).table(tokens, COLUMNS, empty="No tokens.")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id (see 'token list').")],
) -> None:
    """Revoke a token: the next request that presents it is refused."""
    with connect(ctx) as client:
        token = client.revoke_token(token_id)
    out(ctx).done(token, f"Revoked token {token_id} of {token.principal}")
