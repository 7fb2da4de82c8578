"""Subscribers told: a breaking crawl on a subscribed product leaves the subscriber's results
unchanged until the producer accepts, then changes them, with each event in the inbox and posted
to a webhook receiver on 127.0.0.1 that checks the signatures. Through a real hub server, the
SDK and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lakemesh.api.schemas.notifications import DeliveryPublic, WebhookPublic
from lakemesh.api.server import serve_in_background
from lakemesh.cli.main import app
from lakemesh.errors import AccessDeniedError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.notifications import delivery
from lakemesh.notifications.delivery import wait_for_deliveries
from lakemesh.sdk import Client
from tests.conftest import HubEnv
from tests.factories.contracted import MIA, NARROWED, SUE, TABLE, Shop, build_shop
from tests.factories.lake import Lake
from tests.factories.tokens import clear_cli_environment, token_of
from tests.factories.webhooks import webhook_receiver

SECRET = "mia-signs-with-this-0123456789"
SELECT = f"SELECT * FROM {TABLE} ORDER BY id"


@pytest.fixture
def shop(sqlite_env: HubEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shop:
    clear_cli_environment(monkeypatch)
    return build_shop(sqlite_env, Lake(tmp_path / "lake"))


def test_a_subscriber_is_told_by_inbox_and_signed_webhook_and_reads_unchanged_until_accepted(
    shop: Shop,
) -> None:
    mia, sue = token_of(shop.env, MIA), token_of(shop.env, SUE)
    runner = CliRunner()
    with webhook_receiver(SECRET) as receiver, serve_in_background(shop.env.hub) as url:
        with Client.connect(url, token=mia) as client:
            client.set_webhook_secret("hooks", value=SECRET)
            hook = client.create_webhook(receiver.url, secret="hooks", product="items")
            assert isinstance(hook, WebhookPublic)
            assert (hook.secret, hook.owner) == ("hooks", MIA)
            shown = [
                m.model_dump() for m in [*client.list_webhooks(), *client.list_webhook_secrets()]
            ]
            assert SECRET not in json.dumps(shown, default=str)
            before = client.query(SELECT)
            crawled = shop.crawl(NARROWED)
            assert crawled.status == "held"
            assert client.query(SELECT).equals(before)
            assert wait_for_deliveries()
            [proposed] = receiver.received
            assert proposed.signed
            assert proposed.headers["x-lakemesh-event"] == "schema_change_proposed"
            assert proposed.event["details"]["proposal"] == crawled.proposal
            [told] = client.inbox(unread=True)
            assert told.kind == "schema_change_proposed"

        base = ["--hub", url, "--token", sue, "--json"]
        listed = runner.invoke(app, [*base, "product", "versions", "items"])
        assert listed.exit_code == 0, listed.stderr
        [proposal] = json.loads(listed.stdout)["proposals"]
        assert (proposal["id"], proposal["status"]) == (crawled.proposal, "pending")
        diff = json.loads(runner.invoke(app, [*base, "table", "diff", TABLE]).stdout)
        assert (diff["to"], diff["pending_proposal"]) == (1, proposal["id"])  # served: v1
        proposed = runner.invoke(
            app, [*base, "table", "diff", TABLE, "--proposal", str(proposal["id"])]
        )
        found = json.loads(proposed.stdout)
        assert (found["from"], found["to"], found["breaking"]) == (1, None, True)
        assert [c["name"] for c in found["added"]] == ["note"]
        accepted = runner.invoke(
            app, [*base, "product", "accept-change", "items", str(proposal["id"])]
        )
        assert accepted.exit_code == 0, accepted.stderr
        assert json.loads(accepted.stdout)["status"] == "accepted"
        assert wait_for_deliveries()
        assert receiver.kinds() == ["schema_change_proposed", "schema_change_accepted"]
        assert all(item.signed for item in receiver.received)
        assert receiver.received[1].event["details"]["version"] == "2.0.0"
        diff = runner.invoke(app, [*base, "table", "diff", TABLE])
        assert json.loads(diff.stdout)["changed"][0]["to"] == "INTEGER"

        with Client.connect(url, token=mia) as client:
            after = client.query(SELECT)
            assert after.column_names == ["id", "name", "amount", "note"]
            assert after.schema.field("id").type == pa.int32()
            deliveries = client.webhook_deliveries()
            assert [(d.kind, d.status, d.attempts) for d in deliveries] == [
                ("schema_change_accepted", "delivered", 1),
                ("schema_change_proposed", "delivered", 1),
            ]
        mine = ["--hub", url, "--token", mia, "--json"]
        inbox = runner.invoke(app, [*mine, "inbox", "--unread"])
        assert [n["kind"] for n in json.loads(inbox.stdout)] == [
            "schema_change_accepted",
            "schema_change_proposed",
        ]
        read = runner.invoke(app, [*mine, "inbox", "read", "--all"])
        assert read.exit_code == 0, read.stderr
        assert json.loads(runner.invoke(app, [*mine, "inbox", "--unread"]).stdout) == []


def test_a_failing_receiver_is_retried_with_backoff_and_the_outcome_recorded(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", (0.05, 0.1))
    with (
        webhook_receiver(SECRET, statuses=[500, 503]) as receiver,
        Client.open(shop.env.home, token=token_of(shop.env, MIA)) as client,
    ):
        client.set_webhook_secret("hooks", value=SECRET)
        client.create_webhook(receiver.url, secret="hooks")
        shop.crawl(NARROWED)
        assert wait_for_deliveries()
        [delivered] = client.webhook_deliveries()
        assert (delivered.status, delivered.attempts) == ("delivered", 3)
        assert len(receiver.received) == 3
    with (
        webhook_receiver(SECRET, statuses=[500, 500, 500]) as down,
        Client.open(shop.env.home, token=token_of(shop.env, SUE)) as client,
    ):
        client.set_webhook_secret("shop_hooks", value=SECRET, domain="shop")
        client.create_webhook(down.url, secret="shop_hooks", domain="shop")
        client.deprecate_product("items", message="use items_v2")
        assert wait_for_deliveries()
        [failed] = client.webhook_deliveries()
        assert (failed.kind, failed.status, failed.attempts) == (
            "product_deprecated",
            "failed",
            3,
        )
        assert failed.error == "HTTP 500"
        again = client.redeliver(failed.id)
        assert isinstance(again, DeliveryPublic)
        assert again.status == "pending"
        assert wait_for_deliveries()
        [retried] = client.webhook_deliveries()
        assert (retried.status, retried.response_status) == ("delivered", 200)
    assert [item.signed for item in down.received] == [True] * 4


def test_webhooks_refuse_bad_urls_secrets_and_kinds_naming_them(shop: Shop) -> None:
    with Client.open(shop.env.home, token=token_of(shop.env, MIA)) as client:
        with pytest.raises(InvalidInputError, match="Secret hooks is too short: 5 characters"):
            client.set_webhook_secret("hooks", value="short")
        with pytest.raises(NotFoundError, match="Webhook secret does not exist: hooks"):
            client.create_webhook("https://example.org/h", secret="hooks")
        client.set_webhook_secret("hooks", value=SECRET)
        with pytest.raises(
            InvalidInputError,
            match="Webhook URL must be https:// \\(or http:// to a loopback address\\): "
            "http://example.org/h",
        ):
            client.create_webhook("http://example.org/h", secret="hooks")
        with pytest.raises(InvalidInputError, match="Unknown event kind: late"):
            client.create_webhook("https://example.org/h", secret="hooks", kinds=["late"])
        hook = client.create_webhook("https://example.org/h", secret="hooks")
        with pytest.raises(ConflictError, match=f"used by webhook {hook.id}"):
            client.delete_webhook_secret("hooks")
        with pytest.raises(NotFoundError, match="Notification does not exist: 9"):
            client.mark_read([9])
    with (
        Client.open(shop.env.home, token=token_of(shop.env, MIA)) as client,
        pytest.raises(AccessDeniedError, match=f"{MIA} is not an admin of domain shop"),
    ):
        client.set_webhook_secret("x", value=SECRET, domain="shop")


def test_the_rest_api_never_echoes_a_secret(shop: Shop) -> None:
    headers = {"Authorization": f"Bearer {token_of(shop.env, MIA)}"}
    with serve_in_background(shop.env.hub) as url:
        saved = httpx.put(
            f"{url}/api/v1/webhooks/secrets",
            json={"name": "hooks", "value": SECRET},
            headers=headers,
            timeout=30,
        )
        assert saved.status_code == 200
        assert SECRET not in saved.text
        listed = httpx.get(f"{url}/api/v1/webhooks/secrets", headers=headers, timeout=30)
        assert [s["name"] for s in listed.json()] == ["hooks"]
        assert SECRET not in listed.text
