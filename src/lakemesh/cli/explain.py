"""``lakemesh explain PRINCIPAL PERMISSION RESOURCE``: a decision and the reasons behind it."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out

NONE = "none"


def explain(
    ctx: typer.Context,
    principal: Annotated[str, typer.Argument(help="Whose access, like user:mia@marketing.")],
    permission: Annotated[str, typer.Argument(help="One permission, like SELECT.")],
    resource: Annotated[
        str,
        typer.Argument(help="D.DB.T[.C], a storage URI, or tag:KEY=VALUE."),
    ],
) -> None:
    """Explain a decision: allowed or not, visible columns, row filter, masks, and the grants,
    tags and filters behind it (--json: {"allowed", "columns", "row_filter", "masks",
    "reasons"})."""
    with connect(ctx) as client:
        decision = client.explain(principal, permission, resource)

    def human() -> None:
        verdict = "ALLOWED" if decision.allowed else "DENIED"
        style = output.success if decision.allowed else output.line
        style(f"{verdict}: {principal} {permission.upper()} on {resource}")
        shown = {
            "columns": output.cell(decision.columns) or NONE,
            "masks": output.cell(decision.masks) or NONE,
            "row_filter": decision.row_filter
            or (f"{NONE} (every row)" if decision.allowed else NONE),
        }
        output.print_record(
            shown, [("columns", "columns"), ("row filter", "row_filter"), ("masks", "masks")]
        )
        output.line("reasons:")
        for reason in decision.reasons or [NONE]:
            output.line(f"  - {reason}")
        vending = decision.vended_credentials
        if vending is not None:  # SELECT on a table
            why = "yes" if vending.allowed else f"no, {vending.reason}"
            output.line(f"vended storage credentials: {why}")

    out(ctx).show(decision, human)
