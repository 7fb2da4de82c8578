"""``lakemesh doctor``: the mesh's risky states, most severe first (mesh admins)."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.errors import EXIT_UNEXPECTED
from lakemesh.errors import InvalidInputError

SEVERITIES = ("high", "medium", "low", "info")
COLUMNS = [
    ("severity", "severity"),
    ("kind", "kind"),
    ("resource", "resource"),
    ("message", "message"),
]


def doctor(
    ctx: typer.Context,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit with 1 when a finding of this severity or worse exists "
            "(high, medium, low, info); for scripts and CI.",
        ),
    ] = None,
) -> None:
    """List risky states: untagged shared tables, sensitive columns granted, grants whose grantor
    is gone, tokens that never expire, mesh admin count, domains without admins."""
    if fail_on is not None and fail_on not in SEVERITIES:
        raise InvalidInputError(
            f"Unknown severity: {fail_on!r} (known: {', '.join(SEVERITIES)})",
            details={"severity": fail_on},
        )
    with connect(ctx) as client:
        result = client.doctor()

    def human() -> None:
        output.print_table(result.findings, COLUMNS, empty="No findings.")
        counts = result.counts
        output.line(", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES))

    out(ctx).show(result, human)
    if fail_on is not None:
        worst = SEVERITIES[: SEVERITIES.index(fail_on) + 1]
        if any(result.counts.get(severity, 0) for severity in worst):
            raise typer.Exit(EXIT_UNEXPECTED)
