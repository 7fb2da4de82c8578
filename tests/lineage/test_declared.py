"""Lineage declared in a product's ODCS contract (customProperties ``inputs``), recorded when
the contract is published: inputs the publisher may not see refused as missing, shown to each
principal as far as it may DESCRIBE, replaced when the contract is published again; through the
service and the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lakemesh.api.schemas.lineage import TableLineage
from lakemesh.catalog import crawler
from lakemesh.cli.main import app
from lakemesh.errors import InvalidInputError
from lakemesh.lineage import table_lineage
from lakemesh.sharing import products
from lakemesh.sharing.product_lineage import declared_edges
from lakemesh.sharing.products import ProductSpec
from lakemesh.sharing.schema_changes import accept_schema_change
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories import contracted
from tests.factories.lake import Lake
from tests.factories.quality import ANA, SHOP_ADMIN, Shop, contract
from tests.factories.tokens import clear_cli_environment, token_of
from tests.lineage.test_lineage import TARGET

ADMIN = "user:admin@governance"


def declaring(*inputs: str, vendor: str | None = None) -> str:
    owner = f", vendor: {vendor}" if vendor else ""
    listed = ", ".join(inputs)
    return (
        contract("orders_parquet")
        + f"customProperties:\n  - {{property: inputs{owner}, value: [{listed}]}}\n"
    )


def _publish(shop: Shop, ref: str, text: str) -> None:
    with shop.env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=shop.actor(ref),
            spec=ProductSpec(name="orders_parquet", domain="shop", contract=text),
        )


def _upstream(shop: Shop, ref: str) -> list[dict[str, Any]]:
    with shop.env.hub.read() as session:
        found = table_lineage(session, actor=shop.actor(ref), table=TARGET)
    return TableLineage.from_row(found).model_dump()["upstream"]  # as the API shows it


def test_a_contract_declares_its_input_products_and_tables(shop: Shop) -> None:
    _publish(shop, SHOP_ADMIN, declaring("orders_csv", "shop.sales.orders_parts"))
    assert _upstream(shop, ANA) == [
        {
            "depth": 1,
            "node": {"kind": "table", "name": f"shop.sales.{t}"},
            "via": "contract/orders_parquet",
        }
        for t in ("orders_csv", "orders_parts")
    ]
    with shop.env.hub.read() as session:
        downstream = table_lineage(session, actor=shop.actor(ANA), table="shop.sales.orders_csv")
        published = session.query(AuditEvent).filter(AuditEvent.action == "product.publish").all()
    assert downstream.downstream[0].node == {"kind": "table", "name": TARGET}
    assert published[-1].details["declared_inputs"] == ["orders_csv", "shop.sales.orders_parts"]
    _publish(shop, SHOP_ADMIN, declaring("orders_csv"))  # published again: replaced
    assert [step["node"]["name"] for step in _upstream(shop, ANA)] == ["shop.sales.orders_csv"]
    _publish(shop, SHOP_ADMIN, declaring("orders_csv", vendor="othervendor"))  # not ours
    assert _upstream(shop, ANA) == []


def test_inputs_the_viewer_may_not_describe_are_hidden_never_named(shop: Shop) -> None:
    # The mesh admin sees the vault table and declares it; ana may not DESCRIBE it.
    _publish(shop, ADMIN, declaring("orders_csv", "vault.keys.k"))
    seen = _upstream(shop, ANA)
    assert [step["node"] for step in seen] == [
        {"kind": "table", "name": "shop.sales.orders_csv"},
        {"kind": "table", "hidden": True},
    ]
    assert [step["via"] for step in seen] == ["contract/orders_parquet", None]
    assert "vault" not in json.dumps(seen)
    assert {"kind": "table", "name": "vault.keys.k"} in [s["node"] for s in _upstream(shop, ADMIN)]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (("vault.keys.k",), "Declared input does not exist: table vault.keys.k"),
        (("vault.keys.nothing",), "Declared input does not exist: table vault.keys.nothing"),
        (("no_such_product",), "Declared input does not exist: data product no_such_product"),
        (("orders_parquet",), "Declared input orders_parquet is the product's own table"),
        (("1", "2"), "customProperties inputs must be product names or tables"),
    ],
)
def test_inputs_the_publisher_may_not_see_are_refused_as_missing(
    shop: Shop, inputs: tuple[str, ...], message: str
) -> None:
    # sue administers shop, not vault: its existing table reads as missing, like an absent one.
    with pytest.raises(InvalidInputError, match=message):
        _publish(shop, SHOP_ADMIN, declaring(*inputs))
    assert _upstream(shop, SHOP_ADMIN) == []


def test_declared_lineage_through_the_cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cli_environment(monkeypatch)
    file = Path(shop.lake.root / "orders.odcs.yaml")
    file.write_text(declaring("orders_csv"))
    runner = CliRunner()
    base = ["--home", str(shop.env.home), "--token", token_of(shop.env, SHOP_ADMIN)]
    published = runner.invoke(
        app,
        [
            *base,
            "product",
            "publish",
            "orders_parquet",
            "--domain",
            "shop",
            "--contract",
            str(file),
        ],
    )
    assert published.exit_code == 0, published.stderr
    ana = ["--home", str(shop.env.home), "--token", token_of(shop.env, ANA), "--json"]
    shown = runner.invoke(app, [*ana, "lineage", "show", TARGET])
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["upstream"][0] == {
        "depth": 1,
        "node": {"kind": "table", "name": "shop.sales.orders_csv"},
        "via": "contract/orders_parquet",
    }


def test_an_accepted_schema_proposal_records_its_contracts_inputs(
    env: HubEnv, tmp_path: Path
) -> None:
    items = contracted.build_shop(env, Lake(tmp_path / "lake"))
    for table in ("a", "b"):
        items.lake.parquet(f"shop/raw/{table}/part-0.parquet", {"id": [1]})
    crawler.crawl(
        env.hub, actor=env.admin, uri=items.lake.uri_of("shop/raw"), domain="shop", database="raw"
    )
    inputs = "customProperties:\n  - {property: inputs, value: [shop.raw.%s]}\n"
    with env.hub.transaction() as session:
        products.publish_product(
            session,
            actor=items.actor(contracted.SUE),
            spec=ProductSpec(
                name="items", domain="shop", contract=contracted.CONTRACT + inputs % "a"
            ),
        )
    assert items.crawl(contracted.NARROWED).status == "held"
    [proposal] = items.versions()["proposals"]
    with env.hub.transaction() as session:
        accept_schema_change(
            session,
            actor=items.actor(contracted.SUE),
            product="items",
            proposal_id=proposal["id"],
            contract=contracted.CONTRACT + inputs % "b",
            version="2.0.0",
        )
    with env.hub.read() as session:
        seen = table_lineage(session, actor=items.actor(contracted.SUE), table=contracted.TABLE)
        mia = table_lineage(session, actor=items.actor(contracted.MIA), table=contracted.TABLE)
        [edge] = declared_edges(session, "items")
    assert [step.node["name"] for step in seen.upstream] == ["shop.raw.b"]
    # The subscriber may read items, not the raw table it is made from.
    assert [step.node for step in mia.upstream] == [{"kind": "table", "hidden": True}]
    assert edge.run_id == "1.0.0"  # the contract's own version, as given
