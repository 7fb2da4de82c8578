"""``lakemesh subscription …``: ask for a data product; the producer approves or rejects."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakemesh.api.schemas.sharing import SubscriptionPublic
from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.grants import split_list
from lakemesh.cli.params import Columns, ExcludeColumns
from lakemesh.cli.products import warn

app = typer.Typer(
    help="Subscriptions: requests for access to data products. The producer's admins approve "
    "(issuing the share and the delegation) or reject; revoking takes the access back.",
    no_args_is_help=True,
)

SubscriptionId = Annotated[int, typer.Argument(help="The subscription's number.")]

COLUMNS = [
    ("id", "id"),
    ("product", "product"),
    ("for", "principal"),
    ("status", "status"),
    ("scope", "scope_text"),
    ("reason", "reason"),
    ("comment", "comment"),
    ("requested by", "requested_by"),
]
FIELDS = [
    *COLUMNS,
    ("consumer", "consumer_domain"),
    ("decided by", "decided_by"),
    ("decided", "decided_at"),
    ("active", "active"),
    ("grants", "grant_ids"),
    ("created", "created_at"),
]
HISTORY = [("when", "time"), ("action", "action"), ("by", "actor"), ("details", "details")]


def _row(subscription: SubscriptionPublic) -> dict[str, Any]:
    scope = subscription.scope
    if scope.get("filter"):
        text = f"filter {scope['filter']}"
    elif scope.get("columns") is not None:
        text = f"columns {', '.join(scope['columns'])}"
    elif scope.get("exclude_columns"):
        text = f"all but {', '.join(scope['exclude_columns'])}"
    else:
        text = "all columns"
    grants = [f"#{g.grant_id} {g.role}" for g in subscription.grants]
    return {**output.plain(subscription), "scope_text": text, "grant_ids": grants}


def _done(verb: str, subscription: SubscriptionPublic) -> None:
    output.success(
        f"{verb} subscription #{subscription.id} of {subscription.principal} to "
        f"{subscription.product} ({subscription.status})"
    )


@app.command("request")
def request(
    ctx: typer.Context,
    product: Annotated[str, typer.Argument(help="The data product, like sales_customers.")],
    for_: Annotated[
        str,
        typer.Option(
            "--for",
            help="Who gets access: yourself, a group of yours, or (admins) anyone of your domain.",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why you need the data.")],
    columns: Columns = None,
    exclude_columns: ExcludeColumns = None,
    filter_name: Annotated[
        str | None,
        typer.Option("--filter", help="Through this data filter of the product's tables."),
    ] = None,
) -> None:
    """Request access to a data product (JSON: an object with id and status)."""
    with connect(ctx) as client:
        subscription = client.request_subscription(
            product,
            principal=for_,
            reason=reason,
            columns=split_list(columns),
            exclude_columns=split_list(exclude_columns) or [],
            filter=filter_name,
        )
    warn(subscription.warning)
    out(ctx).show(subscription, lambda: _done("Requested", subscription))


@app.command("list")
def list_(
    ctx: typer.Context,
    product: Annotated[
        str | None, typer.Option("--product", help="Only this product's (its full history).")
    ] = None,
    consumer: Annotated[
        str | None, typer.Option("--consumer", help="Only this consuming domain's.")
    ] = None,
    principal: Annotated[
        str | None, typer.Option("--principal", help="Only those for this principal.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only pending, approved, rejected or revoked ones."),
    ] = None,
) -> None:
    """List subscriptions you may see, newest first (JSON includes each one's history)."""
    with connect(ctx) as client:
        found = client.list_subscriptions(
            product=product, consumer=consumer, principal=principal, status=status
        )
    out(ctx).table(found, COLUMNS, rows=[_row(s) for s in found], empty="No subscriptions.")


@app.command("show")
def show(ctx: typer.Context, subscription_id: SubscriptionId) -> None:
    """Show a subscription, its grants and its history."""
    with connect(ctx) as client:
        subscription = client.get_subscription(subscription_id)
    warn(subscription.warning)

    def human() -> None:
        output.print_record(_row(subscription), FIELDS)
        output.print_table(subscription.history, HISTORY, title="history")

    out(ctx).show(subscription, human)


@app.command("approve")
def approve(
    ctx: typer.Context,
    subscription_id: SubscriptionId,
    comment: Annotated[str, typer.Option("--comment", help="A note for the requester.")] = "",
    exclude_columns: Annotated[
        str | None,
        typer.Option("--exclude-columns", help="Approve less: leave these out, comma-separated."),
    ] = None,
) -> None:
    """Approve a request: the share and the delegation are issued in one transaction."""
    with connect(ctx) as client:
        subscription = client.approve_subscription(
            subscription_id, comment=comment, exclude_columns=split_list(exclude_columns) or []
        )
    out(ctx).show(subscription, lambda: _done("Approved", subscription))


@app.command("reject")
def reject(
    ctx: typer.Context,
    subscription_id: SubscriptionId,
    reason: Annotated[str, typer.Option("--reason", help="Why (the requester reads it).")],
) -> None:
    """Reject a request with a reason."""
    with connect(ctx) as client:
        subscription = client.reject_subscription(subscription_id, reason=reason)
    out(ctx).show(subscription, lambda: _done("Rejected", subscription))


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    subscription_id: SubscriptionId,
    reason: Annotated[str, typer.Option("--reason", help="Why the access ends.")] = "",
) -> None:
    """Revoke an approved subscription: its grants go, links to them break."""
    with connect(ctx) as client:
        subscription = client.revoke_subscription(subscription_id, reason=reason)
    out(ctx).show(subscription, lambda: _done("Revoked", subscription))
