"""``lakemesh webhook …``: where your (or your domain's) notifications are posted, signed."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.cli.grants import split_list
from lakemesh.errors import InvalidInputError
from lakemesh.notifications.kinds import KINDS

app = typer.Typer(
    help="Webhooks: your (or a domain's) notifications posted as JSON, signed with "
    "HMAC-SHA256 (X-Lakemesh-Signature over 'TIMESTAMP.BODY', X-Lakemesh-Timestamp), retried "
    "with backoff, each delivery recorded.",
    no_args_is_help=True,
)

SECRET_VARIABLE = "LAKEMESH_WEBHOOK_SECRET"
Domain = Annotated[
    str | None, typer.Option("--domain", help="Act for this domain (its admins), not yourself.")
]
COLUMNS = [
    ("id", "id"),
    ("owner", "owner"),
    ("url", "url"),
    ("secret", "secret"),
    ("events", "kinds"),
    ("product", "product"),
]
SECRET_COLUMNS = [
    ("owner", "owner"),
    ("secret", "name"),
    ("by", "created_by"),
    ("at", "created_at"),
]
DELIVERY_COLUMNS = [
    ("id", "id"),
    ("webhook", "webhook"),
    ("kind", "kind"),
    ("status", "status"),
    ("tries", "attempts"),
    ("answer", "response_status"),
    ("error", "error"),
    ("delivered", "delivered_at"),
]


@app.command("secret")
def secret(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The secret's name, like 'hooks'.")],
    domain: Domain = None,
) -> None:
    """Set a signing secret from the environment variable LAKEMESH_WEBHOOK_SECRET (at least 16
    characters; never on the command line, never shown again)."""
    value = os.environ.get(SECRET_VARIABLE)
    if not value:
        raise InvalidInputError(
            f"Set the secret's value in the environment variable {SECRET_VARIABLE}",
            details={"secret": name},
        )
    with connect(ctx) as client:
        saved = client.set_webhook_secret(name, value=value, domain=domain)
    out(ctx).done(saved, f"Saved webhook secret {saved.name} of {saved.owner}")


@app.command("secrets")
def secrets(ctx: typer.Context) -> None:
    """Your and your domains' secrets (names only)."""
    with connect(ctx) as client:
        found = client.list_webhook_secrets()
    out(ctx).table(found, SECRET_COLUMNS, empty="No webhook secret.")


@app.command("delete-secret")
def delete_secret(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The secret's name.")],
    domain: Domain = None,
) -> None:
    """Delete a secret no webhook uses."""
    with connect(ctx) as client:
        client.delete_webhook_secret(name, domain=domain)
    out(ctx).done({"name": name}, f"Deleted webhook secret {name}")


@app.command("create")
def create(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="https://... (or http:// to a loopback address).")],
    secret: Annotated[str, typer.Option("--secret", help="The name of the signing secret.")],
    domain: Domain = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events", help=f"Event kinds, comma-separated (default: all of {', '.join(KINDS)})."
        ),
    ] = None,
    product: Annotated[str | None, typer.Option("--product", help="Only this product's.")] = None,
) -> None:
    """Post your (or --domain's) notifications to URL."""
    with connect(ctx) as client:
        hook = client.create_webhook(
            url, secret=secret, domain=domain, kinds=split_list(events) or [], product=product
        )
    out(ctx).done(hook, f"Created webhook {hook.id} of {hook.owner} to {hook.url}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Your and your domains' webhooks."""
    with connect(ctx) as client:
        found = client.list_webhooks()
    out(ctx).table(found, COLUMNS, empty="No webhook.")


@app.command("delete")
def delete(
    ctx: typer.Context, webhook: Annotated[int, typer.Argument(help="The webhook's number.")]
) -> None:
    """Delete a webhook."""
    with connect(ctx) as client:
        client.delete_webhook(webhook)
    out(ctx).done({"id": webhook}, f"Deleted webhook {webhook}")


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    webhook: Annotated[int | None, typer.Option("--webhook", help="One webhook's only.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many.")] = 100,
) -> None:
    """Deliveries to your webhooks, newest first: status, tries, last answer."""
    with connect(ctx) as client:
        found = client.webhook_deliveries(webhook=webhook, limit=limit)
    out(ctx).table(found, DELIVERY_COLUMNS, empty="No delivery.")


@app.command("redeliver")
def redeliver(
    ctx: typer.Context, delivery: Annotated[int, typer.Argument(help="The delivery's number.")]
) -> None:
    """Try a delivery again (a fresh round of tries)."""
    with connect(ctx) as client:
        found = client.redeliver(delivery)
    out(ctx).done(found, f"Delivery {delivery} queued again")
