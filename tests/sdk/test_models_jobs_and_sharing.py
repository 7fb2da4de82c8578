"""SDK methods of queries, schedules, notifications and sharing answer with the API's models, and a
remote client's equal an embedded one's."""

from __future__ import annotations

import time
from pathlib import Path

from lakemesh.api.schemas.notifications import NotificationPublic, SecretPublic, WebhookPublic
from lakemesh.api.schemas.queries import JobStatus, JobSubmitted, QueryPublic, QueryResult
from lakemesh.api.schemas.schedules import SchedulePublic
from lakemesh.api.schemas.sharing import LinkPublic, SharePublic, SubscriptionPublic
from lakemesh.api.server import serve_in_background
from lakemesh.bootstrap import init_home
from lakemesh.sdk import Client
from tests.sdk.conftest import Mesh

SECRET = "s3cret-s3cret-s3cret"


def _fill(client: Client) -> str:
    """A webhook, a finished query job and nothing else shared: the job's id."""
    client.set_webhook_secret("hooks", value=SECRET)
    client.create_webhook("https://hooks.example.org/lakemesh", secret="hooks", kinds=[])
    job = client.submit_query("SELECT 42 AS answer")
    deadline = time.monotonic() + 30
    while client.query_status(job.id).outcome is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return job.id


def test_methods_return_the_api_models(mesh: Mesh, client: Client) -> None:
    job_id = _fill(client)
    assert all(isinstance(one, SecretPublic) for one in client.list_webhook_secrets())
    (hook,) = client.list_webhooks()
    assert isinstance(hook, WebhookPublic)
    assert (hook.secret, hook.kinds) == ("hooks", [])
    assert all(isinstance(one, NotificationPublic) for one in client.inbox())
    assert isinstance(client.query_status(job_id), JobStatus)
    assert isinstance(client.submit_query("SELECT 1"), JobSubmitted)
    assert isinstance(client.query_json("SELECT 1 AS n"), QueryResult)
    assert all(isinstance(one, QueryPublic) for one in client.query_history())
    assert all(isinstance(one, SchedulePublic) for one in client.list_schedules())
    assert all(isinstance(one, SharePublic) for one in client.list_shares())
    assert all(isinstance(one, LinkPublic) for one in client.list_links())
    assert all(isinstance(one, SubscriptionPublic) for one in client.list_subscriptions())


def test_a_remote_client_answers_as_the_embedded_one(tmp_path: Path) -> None:
    initialised = init_home(tmp_path / "home")
    token = initialised.token.token
    try:
        with serve_in_background(initialised.hub) as url:
            with Client.connect(url, token=token) as remote:
                job_id = _fill(remote)
                seen_remote = (
                    remote.list_webhooks(),
                    remote.list_webhook_secrets(),
                    remote.query_status(job_id),
                    remote.query_history(),
                    remote.list_schedules(),
                    remote.list_shares(),
                )
            with Client.open(tmp_path / "home", token=token) as embedded:
                seen_embedded = (
                    embedded.list_webhooks(),
                    embedded.list_webhook_secrets(),
                    embedded.query_status(job_id),
                    embedded.query_history(),
                    embedded.list_schedules(),
                    embedded.list_shares(),
                )
    finally:
        initialised.hub.close()
    assert seen_remote == seen_embedded
    assert seen_remote[0][0].url == "https://hooks.example.org/lakemesh"
