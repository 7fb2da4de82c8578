"""``lakemesh mask …``: masking functions on columns matching a tag expression."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.model.access import MASK_FUNCTIONS

app = typer.Typer(
    help="Masks: a function applied to every column whose tags match an expression, unless "
    "the reader holds UNMASK on it.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Mask name, like hide_pii.")]

COLUMNS = [("mask", "name"), ("on tags", "tag_expression"), ("function", "function")]
FIELDS = [*COLUMNS, ("created by", "created_by"), ("created", "created_at")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    on_tags: Annotated[
        str,
        typer.Option("--on-tags", help="Tag expression of the masked columns: sensitivity=pii."),
    ],
    function: Annotated[
        str, typer.Option("--function", help=f"Masking function: {'|'.join(MASK_FUNCTIONS)}.")
    ],
) -> None:
    """Create a mask (mesh admins)."""
    with connect(ctx) as client:
        mask = client.create_mask(name, tag_expression=on_tags, function=function)
    out(ctx).done(mask, f"Created mask {mask.name}: {mask.function} on {mask.tag_expression}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List masks."""
    with connect(ctx) as client:
        masks = client.list_masks()
    out(ctx).table(masks, COLUMNS, empty="No masks.")


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show one mask."""
    with connect(ctx) as client:
        mask = client.get_mask(name)
    out(ctx).record(mask, FIELDS)


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a mask (mesh admins)."""
    with connect(ctx) as client:
        client.delete_mask(name)
    out(ctx).done({"deleted": name}, f"Deleted mask {name}")
