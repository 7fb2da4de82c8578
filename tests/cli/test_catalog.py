"""The CLI through a whole catalog: domains, principals, tokens, locations, crawl, tables."""

from __future__ import annotations

from tests.cli.conftest import Cli
from tests.factories.lake import Lake

DAYS = ("2026-01-01", "2026-01-02")


def _orders(lake: Lake, *, with_discount: bool = False) -> None:
    for day in DAYS:
        data: dict[str, list[object]] = {"id": [1, 2], "amount": [9.5, 3.0]}
        if with_discount:
            data["discount"] = [0.1, 0.0]
        lake.parquet(f"sales/orders/day={day}/part-0.parquet", data)


def test_domains(admin_cli: Cli) -> None:
    cli = admin_cli
    created = cli.json(
        "domain", "create", "sales", "--producer", "--admin", "user:sam@sales",
        "--description", "Shops",
    )  # fmt: skip
    assert (created["name"], created["producer"], created["admins"]) == (
        "sales",
        True,
        ["user:sam@sales"],
    )
    assert "sales" in cli.run("domain", "list").stdout
    assert cli.json("domain", "show", "sales")["description"] == "Shops"
    updated = cli.json("domain", "update", "sales", "--consumer", "--no-producer")
    assert (updated["producer"], updated["consumer"]) == (False, True)
    assert cli.json("domain", "add-admin", "sales", "user:sue@sales")["admins"] == [
        "user:sam@sales",
        "user:sue@sales",
    ]
    assert cli.json("domain", "remove-admin", "sales", "user:sam@sales")["admins"] == [
        "user:sue@sales"
    ]
    assert "Deleted domain sales" in cli.run("domain", "delete", "sales").stdout
    assert [d["name"] for d in cli.json("domain", "list")] == ["governance"]


def test_principals_groups_and_tokens(admin_cli: Cli) -> None:
    cli = admin_cli
    cli.run("domain", "create", "marketing", "--admin", "user:maria@marketing")
    cli.run("attribute", "create", "region", "--values", "EU,US")
    cli.run("attribute", "create", "team", "--values", "crm,growth")
    alice = cli.json("principal", "create", "user:alice@marketing", "--attr", "region=EU")
    assert alice["attributes"] == {"region": "EU"}
    cli.run("principal", "create", "group:analysts@marketing")
    group = cli.json("group", "add-member", "group:analysts@marketing", "user:alice@marketing")
    assert group["members"] == ["user:alice@marketing"]
    shown = cli.json("principal", "show", "user:alice@marketing")
    assert shown["groups"] == ["group:analysts@marketing"]
    changed = cli.json(
        "principal", "set-attr", "user:alice@marketing", "team=growth", "--unset", "region"
    )
    assert changed["attributes"] == {"team": "growth"}
    users = cli.json("principal", "list", "--domain", "marketing", "--kind", "user")
    assert [p["name"] for p in users] == ["user:alice@marketing", "user:maria@marketing"]
    cli.run("group", "remove-member", "group:analysts@marketing", "user:alice@marketing")

    issued = cli.json("token", "create", "user:alice@marketing", "--expires", "30d")
    assert issued["principal"] == "user:alice@marketing"
    assert cli.json("--token", issued["token"], "whoami")["name"] == "user:alice@marketing"
    tokens = cli.json("token", "list", "--principal", "user:alice@marketing")
    assert [t["id"] for t in tokens] == [issued["id"]]
    assert "revoked" in cli.run("token", "list", "--principal", "user:alice@marketing").stdout
    assert cli.json("token", "revoke", str(issued["id"]))["active"] is False
    cli.run("--token", issued["token"], "whoami", code=4)

    human = cli.run("token", "create", "user:maria@marketing").stdout
    assert "lm_" in human
    cli.run("principal", "delete", "user:alice@marketing")
    cli.run("principal", "show", "user:alice@marketing", code=3)


def test_locations_and_databases(admin_cli: Cli, lake: Lake) -> None:
    cli = admin_cli
    cli.run("domain", "create", "sales")
    location = cli.json("location", "register", str(lake.root / "sales"), "--domain", "sales")
    assert location["uri"] == lake.uri_of("sales")
    assert [loc["uri"] for loc in cli.json("location", "list", "--domain", "sales")] == [
        lake.uri_of("sales")
    ]
    assert cli.json("database", "create", "sales.crm", "--description", "CRM")["name"] == (
        "sales.crm"
    )
    assert [d["name"] for d in cli.json("database", "list", "--domain", "sales")] == ["sales.crm"]
    assert cli.json("database", "show", "sales.crm")["description"] == "CRM"
    assert cli.json("database", "update", "sales.crm", "--description", "C")["description"] == "C"
    cli.run("database", "drop", "sales.crm")
    assert cli.json("database", "list") == []
    cli.run("location", "remove", lake.uri_of("sales"))
    assert cli.json("location", "list") == []


def test_crawl_then_show_tables(admin_cli: Cli, lake: Lake) -> None:
    cli = admin_cli
    _orders(lake)
    cli.run("domain", "create", "sales", "--producer")
    cli.run("location", "register", str(lake.root / "sales"), "--domain", "sales")

    crawled = cli.json("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "shop")
    assert [(t["name"], t["status"], t["files"]) for t in crawled] == [
        ("sales.shop.orders", "created", 2)
    ]
    # The fields in the order crawls have always printed them.
    assert list(crawled[0]) == [
        "proposal",
        "name",
        "status",
        "schema_version",
        "files",
        "bytes",
        "changes",
        "warnings",
    ]

    table = cli.json("table", "show", "sales.shop.orders")
    assert table["name"] == "sales.shop.orders"
    assert [(c["name"], c["type"]) for c in table["columns"]] == [
        ("id", "BIGINT"),
        ("amount", "DOUBLE"),
        ("day", "DATE"),
    ]
    assert table["partition_columns"] == ["day"]
    assert table["format"] == "parquet"
    assert table["location"] == lake.uri_of("sales/orders")

    shown = cli.run("table", "show", "sales.shop.orders").stdout
    assert "BIGINT" in shown
    assert "parquet" in shown
    listed = cli.json("table", "list", "--database", "sales.shop")
    assert [t["name"] for t in listed] == ["sales.shop.orders"]

    _orders(lake, with_discount=True)
    human = cli.run("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "shop")
    assert "sales.shop.orders" in human.stdout
    assert "updated" in human.stdout
    assert "discount" in human.stdout

    history = cli.json("table", "history", "sales.shop.orders")
    assert [v["version"] for v in history] == [1, 2]
    assert "discount" in cli.run("table", "history", "sales.shop.orders").stdout

    unchanged = cli.json("crawl", lake.uri_of("sales"), "--domain", "sales", "--database", "shop")
    assert [t["status"] for t in unchanged] == ["unchanged"]

    (lake.root / "sales" / "elsewhere").symlink_to(lake.root)
    skipped = cli.json("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "shop")
    assert [(t["name"], t["status"]) for t in skipped] == [
        ("sales.shop.elsewhere", "skipped"),
        ("sales.shop.orders", "unchanged"),
    ]
    linked = cli.run("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "shop")
    assert (
        f"warning: Skipped symbolic link {lake.uri_of('sales/elsewhere')}: it leads to "
        f"{lake.uri}, outside location {lake.uri_of('sales')}"
    ) in " ".join(linked.stderr.split())
    (lake.root / "sales" / "elsewhere").unlink()

    cli.run("table", "drop", "sales.shop.orders")
    assert cli.json("table", "list") == []


def test_a_corrupt_file_fails_the_crawl_naming_it(admin_cli: Cli, lake: Lake) -> None:
    cli = admin_cli
    _orders(lake)
    broken = lake.truncated_parquet("sales/orders/day=2026-01-03/part-0.parquet", {"id": [1]})
    cli.run("domain", "create", "sales")
    cli.run("location", "register", str(lake.root / "sales"), "--domain", "sales")
    result = cli.run(
        "crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "shop", code=9
    )
    assert result.stderr.startswith("Error: ")
    assert broken.name in result.stderr
    assert cli.json("table", "list") == []


def test_attribute_keys_and_delegates(admin_cli: Cli) -> None:
    cli = admin_cli
    cli.run("domain", "create", "sales", "--admin", "user:hr@sales")
    created = cli.json("attribute", "create", "region", "--values", "EU,US", "--description", "x")
    assert created["values"] == ["EU", "US"]
    assert (
        "user:hr@sales may now set attribute region"
        in cli.run("attribute", "delegate", "region", "user:hr@sales").stdout
    )
    assert cli.json("attribute", "show", "region")["delegates"] == ["user:hr@sales"]
    assert [k["key"] for k in cli.json("attribute", "list")] == ["region"]
    cli.json("attribute", "update", "region", "--values", "EU,US,APAC")
    cli.json("attribute", "undelegate", "region", "user:hr@sales")
    cli.run("attribute", "delete", "region")
    assert cli.json("attribute", "list") == []
