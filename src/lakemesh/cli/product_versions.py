"""``lakemesh product versions / accept-change / reject-change``: a product's versions and the
breaking schema changes of its tables that wait for its domain's admins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.cli.output import print_table
from lakemesh.cli.products import Name, _read_contract

Proposal = Annotated[int, typer.Argument(help="The proposal's number (lakemesh product versions).")]
Comment = Annotated[str, typer.Option("--comment", help="Why, for the subscribers told.")]

VERSION_COLUMNS = [
    ("version", "version"),
    ("contract", "contract_version"),
    ("reason", "reason"),
    ("proposal", "proposal"),
    ("schemas", "schemas"),
    ("by", "actor"),
    ("at", "created_at"),
]
PROPOSAL_COLUMNS = [
    ("proposal", "id"),
    ("table", "table"),
    ("status", "status"),
    ("mode", "mode"),
    ("breaking", "breaking"),
    ("changes", "summary"),
    ("found", "created_at"),
    ("decided by", "decided_by"),
]


def versions(ctx: typer.Context, name: Name) -> None:
    """The product's versions (oldest first) and its tables' schema proposals (newest first):
    breaking changes a crawl found that wait for review, decided ones and compatible ones
    applied."""
    with connect(ctx) as client:
        found = client.product_versions(name)

    def human() -> None:
        print_table(
            found.versions,
            VERSION_COLUMNS,
            title=f"{name} {found.version} ({found.status})",
            empty="No version recorded yet.",
        )
        print_table(
            found.proposals,
            PROPOSAL_COLUMNS,
            title="Schema proposals",
            empty="No schema change.",
        )

    out(ctx).show(found, human)


def accept_change(
    ctx: typer.Context,
    name: Name,
    proposal: Proposal,
    contract: Annotated[
        Path | None,
        typer.Option(
            "--contract",
            help="The ODCS v3 contract of the new version (default: the current one revised: "
            "dropped properties removed, changed ones retyped, new ones added).",
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", help="The new version (default: the next major one)."),
    ] = None,
    comment: Comment = "",
) -> None:
    """Accept a breaking schema change (the product's domain's admins): the table serves the
    new schema and the product is published at its next major version. Subscribers are told."""
    text = _read_contract(contract)
    with connect(ctx) as client:
        decided = client.accept_schema_change(
            name, proposal, contract=text, version=version, comment=comment
        )
        product = client.get_product(name)
    out(ctx).done(
        decided,
        f"Accepted schema proposal {proposal}: {decided.table} serves schema version "
        f"{decided.schema_version}; {name} is now version {product.version}",
    )


def reject_change(
    ctx: typer.Context, name: Name, proposal: Proposal, comment: Comment = ""
) -> None:
    """Reject a breaking schema change (the product's domain's admins): the table keeps serving
    the contracted schema until its files match it again. Subscribers are told."""
    with connect(ctx) as client:
        decided = client.reject_schema_change(name, proposal, comment=comment)
    out(ctx).done(
        decided,
        f"Rejected schema proposal {proposal}: {decided.table} keeps serving its contracted schema",
    )
