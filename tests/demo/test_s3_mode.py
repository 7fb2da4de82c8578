"""``lakemesh demo --s3``: the sales domain's data in a SeaweedFS store on 127.0.0.1 beside the
hub (same ports and key on every run), crawled and queried from there like local data."""

from __future__ import annotations

from pathlib import Path

from lakemesh.demo.object_store import demo_store
from lakemesh.home import HubHome
from tests.cli.conftest import Cli


def test_the_s3_mode_keeps_the_sales_data_in_the_store(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "demo")
    built = cli.json("demo", "--no-serve", "--s3", "--orders", "100")
    sales = {table["name"] for table in built["tables"] if table["name"].startswith("sales.")}
    assert "sales.crm.orders" in sales
    settings = HubHome(cli.home).config()["storage"]["s3"]
    assert settings["endpoint"].startswith("http://127.0.0.1:")
    for name in ("sales.crm.orders", "marketing.campaigns.campaigns"):
        shown = cli.json("table", "show", name)
        scheme = "s3://nimbuscart-sales/" if name.startswith("sales.") else "file://"
        assert shown["location"].startswith(scheme), shown["location"]
    # The examples on sales data that are allowed (the last one is a denial).
    queries = [(q["profile"], q["sql"]) for q in built["queries"] if "sales.crm" in q["sql"]][:2]
    # The store stopped with the command; the next run starts it on the same endpoint.
    with demo_store(cli.home) as store:
        assert store.endpoint == settings["endpoint"]
        keys = store.client().list_objects_v2(Bucket="nimbuscart-sales")["Contents"]
        assert any(item["Key"].startswith("crm/orders/") for item in keys)
        for profile, sql in queries:
            assert cli.json("--profile", profile, "query", sql)["rows"], sql
        regions = cli.json("--profile", "eu-manager", "query", queries[1][1])
        assert [row[0] for row in regions["rows"]] == ["EU"]  # the row filter, on S3 data
    again = cli.run("demo", "--no-serve")
    assert "starting the demo's S3 store" in again.stdout + again.stderr
