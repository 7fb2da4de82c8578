"""Lineage from OpenLineage run events: linked to catalog tables by location, refused for an
output the sender may not write, shown per principal (tables it may not DESCRIBE hidden, never
named), through the service, real HTTP (the SDK), the CLI, and exported as OpenLineage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from lakemesh.api.schemas.lineage import LineageRecorded, TableLineage
from lakemesh.api.server import serve_in_background
from lakemesh.cli.main import app
from lakemesh.errors import AccessDeniedError, InvalidInputError, NotFoundError
from lakemesh.lineage import MAX_DEPTH, export_events, record_event, table_lineage
from lakemesh.sdk import Client
from tests.factories.quality import ANA, SHOP_ADMIN, Shop
from tests.factories.tokens import clear_cli_environment, token_of

TARGET = "shop.sales.orders_parquet"


def event(shop: Shop, *, output: str = "shop/sales/orders_parquet") -> dict[str, Any]:
    root = shop.lake.root
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T03:00:00Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0190b2e4-8d35-7bd2-9d2a-7b1c1f7a1b11"},
        "job": {"namespace": "spark", "name": "orders_etl"},
        "inputs": [
            {"namespace": "file", "name": f"{root}/shop/sales/orders_csv"},
            {"namespace": "file", "name": f"{root}/vault/keys/k/"},
            {"namespace": "s3://elsewhere", "name": "raw/orders"},
        ],
        "outputs": [{"namespace": "file", "name": f"{root}/{output}"}],
    }


def _record(shop: Shop, ref: str, sent: dict[str, Any]) -> dict[str, Any]:
    with shop.env.hub.transaction() as session:
        recorded = record_event(session, actor=shop.actor(ref), event=sent)
    return LineageRecorded.from_row(recorded).model_dump()


def _lineage(shop: Shop, ref: str, table: str = TARGET) -> dict[str, Any]:
    with shop.env.hub.read() as session:
        found = table_lineage(session, actor=shop.actor(ref), table=table)
    return TableLineage.from_row(found).model_dump()  # as the API shows it


def test_an_event_links_inputs_to_outputs_by_location(shop: Shop) -> None:
    assert _record(shop, SHOP_ADMIN, event(shop))["edges"] == 3
    assert _record(shop, SHOP_ADMIN, event(shop))["edges"] == 0  # the same run again
    seen = _lineage(shop, SHOP_ADMIN)["upstream"]
    assert [step["node"] for step in seen] == [
        {"kind": "table", "name": "shop.sales.orders_csv"},
        {"kind": "table", "hidden": True},
        {
            "kind": "dataset",
            "name": "s3://elsewhere/raw/orders",
            "namespace": "s3://elsewhere",
            "dataset": "raw/orders",
        },
    ]
    assert [step["via"] for step in seen] == ["spark/orders_etl", None, "spark/orders_etl"]
    admin = _lineage(shop, "user:admin@governance")["upstream"]
    assert {"kind": "table", "name": "vault.keys.k"} in [step["node"] for step in admin]
    downstream = _lineage(shop, SHOP_ADMIN, "shop.sales.orders_csv")["downstream"]
    assert downstream == [
        {"depth": 1, "node": {"kind": "table", "name": TARGET}, "via": "spark/orders_etl"}
    ]


def test_a_principal_sees_only_what_it_may_describe(shop: Shop) -> None:
    _record(shop, SHOP_ADMIN, event(shop))
    seen = [step["node"] for step in _lineage(shop, ANA)["upstream"]]
    assert seen == [
        {"kind": "table", "name": "shop.sales.orders_csv"},
        {"kind": "table", "hidden": True},
        {"kind": "dataset", "hidden": True},
    ]
    assert "vault" not in json.dumps(seen)
    with pytest.raises(NotFoundError, match="Table does not exist: vault.keys.k"):
        _lineage(shop, ANA, "vault.keys.k")
    with shop.env.hub.read() as session:
        (exported,) = export_events(session, actor=shop.actor(ANA), table=TARGET)
    assert exported["inputs"] == [{"namespace": "lakemesh", "name": "shop.sales.orders_csv"}]
    assert exported["outputs"] == [{"namespace": "lakemesh", "name": TARGET}]
    assert exported["run"]["facets"]["lakemesh_hidden_inputs"]["count"] == 2
    assert exported["job"] == {"namespace": "spark", "name": "orders_etl"}


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"run": {}}, InvalidInputError, "Invalid OpenLineage event: run.runId is required"),
        ({"eventType": "DONE"}, InvalidInputError, "eventType 'DONE' is not one of"),
        ({"inputs": [{"name": "x"}]}, InvalidInputError, r"inputs\[0\] needs a namespace"),
    ],
)
def test_bad_events_are_refused_by_field(
    shop: Shop, change: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        _record(shop, SHOP_ADMIN, {**event(shop), **change})


def test_outputs_must_be_tables_the_sender_may_write(shop: Shop) -> None:
    with pytest.raises(InvalidInputError, match="OpenLineage output file/.*/shop/nowhere is no"):
        _record(shop, SHOP_ADMIN, event(shop, output="shop/nowhere"))
    with pytest.raises(AccessDeniedError, match=f"user:ana@shop lacks INSERT on {TARGET}"):
        _record(shop, ANA, event(shop))
    assert _lineage(shop, SHOP_ADMIN)["upstream"] == []


def test_lineage_over_http_and_the_cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    token = token_of(shop.env, SHOP_ADMIN)
    with serve_in_background(shop.env.hub) as url:
        posted = httpx.post(  # as OpenLineage's HTTP transport sends it
            f"{url}/api/v1/lineage",
            json=event(shop),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert posted.status_code == 200, posted.text
        headers = {"Authorization": f"Bearer {token}"}
        for depth, status in ((MAX_DEPTH, 200), (MAX_DEPTH + 1, 400), (0, 400)):
            answer = httpx.get(
                f"{url}/api/v1/lineage/{TARGET}", params={"depth": depth}, headers=headers
            )
            assert answer.status_code == status, answer.text
        assert "query.depth" in answer.text
        with Client.connect(url, token=token_of(shop.env, ANA)) as client:
            assert client.lineage(TARGET).upstream[1].node == {
                "kind": "table",
                "hidden": True,
            }
            assert len(client.lineage_events(TARGET)) == 1
    clear_cli_environment(monkeypatch)
    base = ["--home", str(shop.env.home), "--token", token]
    runner = CliRunner()
    shown = runner.invoke(app, [*base, "lineage", "show", TARGET])
    assert shown.exit_code == 0, shown.stderr
    assert "shop.sales.orders_csv" in shown.stdout
    assert "you may not see" in shown.stdout
    sent = Path(shop.lake.root / "event.json")
    sent.write_text(json.dumps({**event(shop), "job": {"namespace": "dbt", "name": "m"}}))
    recorded = runner.invoke(app, [*base, "--json", "lineage", "send", str(sent)])
    assert json.loads(recorded.stdout)["edges"] == 3
    exported = runner.invoke(app, [*base, "--json", "lineage", "export", TARGET])
    assert [e["job"]["namespace"] for e in json.loads(exported.stdout)] == ["dbt", "spark"]
