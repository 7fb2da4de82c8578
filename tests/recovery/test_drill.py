"""`lakemesh dr-check`: the mesh rebuilt into a fresh hub (from a backup or an export, on SQLite
or PostgreSQL), its storage re-crawled, every decision compared with the original hub's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from tests.cli.conftest import Cli
from tests.factories.cli_mesh import build_small_mesh
from tests.factories.demo import DemoBackup
from tests.factories.lake import Lake


@pytest.fixture
def small_mesh(tmp_path: Path) -> tuple[Cli, Lake]:
    return build_small_mesh(tmp_path)


def _drill(cli: Cli, *args: str, code: int = 0) -> dict[str, object]:
    result = cli.run("--json", "dr-check", *args, code=code)
    report: dict[str, object] = json.loads(result.stdout)
    if code:
        assert json.loads(result.stderr)["error"]["type"] == "decisions_differ"
    return report


def test_a_backup_rebuilds_the_demo_mesh_with_identical_decisions(
    demo_backup: DemoBackup, tmp_path: Path
) -> None:
    cli = Cli(tmp_path / "unused")
    report = _drill(cli, str(demo_backup.file), "--against", str(demo_backup.home))
    assert report["method"] == "restore"
    assert report["identical"] is True
    assert report["crawled"] == {"unchanged": 10}
    comparison = report["comparison"]
    assert isinstance(comparison, dict)
    assert (comparison["principals"], comparison["tables"]) == (20, 10)
    assert comparison["differences"] == []
    human = cli.run("dr-check", str(demo_backup.file), "--against", str(demo_backup.home))
    assert "re-crawled tables: unchanged: 10\nIdentical decisions: 20 principals x 10 tables" in (
        human.stdout
    )


def test_a_grant_made_after_the_backup_fails_the_drill_naming_it(
    demo_backup: DemoBackup, tmp_path: Path
) -> None:
    original = Cli(tmp_path / "original")
    original.run("restore", str(demo_backup.file))
    original.run(
        "--token", demo_backup.steward_token, "grant", "SELECT", "--on", "finance.ledger.invoices",
        "--columns", "amount", "--to", "user:sol@supply_chain",
    )  # fmt: skip
    report = _drill(original, str(demo_backup.file), "--against", str(original.home), code=11)
    comparison = report["comparison"]
    assert isinstance(comparison, dict)
    (difference,) = comparison["differences"]
    assert difference["principal"] == "user:sol@supply_chain"
    assert difference["table"] == "finance.ledger.invoices"
    assert difference["before"]["columns"] == ["amount"]
    assert difference["after"] == "denied"
    human = original.run(
        "dr-check", str(demo_backup.file), "--against", str(original.home), code=11
    )
    assert (
        "user:sol@supply_chain on finance.ledger.invoices: access: allowed (columns amount) -> "
        "denied" in human.stdout
    )


def test_an_export_applied_to_a_fresh_hub_decides_the_same(
    small_mesh: tuple[Cli, Lake], tmp_path: Path
) -> None:
    cli, _ = small_mesh
    export = tmp_path / "export"
    cli.run("export", str(export))
    kept = tmp_path / "rebuilt"
    report = _drill(cli, str(export), "--against", str(cli.home), "--rebuild-home", str(kept))
    assert report["method"] == "apply"
    assert report["identical"] is True
    assert report["crawled"] == {"unchanged": 2}
    # The kept hub is a working home whose first admin is the export's mesh admin.
    rebuilt = Cli(kept)
    assert rebuilt.json("whoami")["name"] == "user:admin@governance"
    assert rebuilt.json("decisions", "compare", str(cli.home), str(kept))["identical"] is True


def test_storage_that_drifted_from_the_catalog_shows_after_the_re_crawl(
    small_mesh: tuple[Cli, Lake], tmp_path: Path
) -> None:
    cli, lake = small_mesh
    backup = tmp_path / "hub.lmbackup"
    cli.run("backup", str(backup))
    lake.parquet("crm/orders/part-0.parquet", {"id": [1], "amount": [1.0], "note": ["late"]})
    lake.parquet("crm/refunds/part-0.parquet", {"id": [7]})
    report = _drill(cli, str(backup), "--against", str(cli.home), code=11)
    assert report["crawled"] == {"created": 1, "unchanged": 1, "updated": 1}
    comparison = report["comparison"]
    assert isinstance(comparison, dict)
    tables = {
        d["table"]: (d["before"], d["after"])
        for d in comparison["differences"]
        if d["aspect"] == "table"
    }
    assert tables == {
        "sales.crm.orders": (["id", "amount"], ["id", "amount", "note"]),
        "sales.crm.refunds": ("absent", ["id"]),
    }
    # Mia reads public columns by tag: the new column is public by inheritance.
    gained = {
        d["principal"]: (d["before"], d["after"])
        for d in comparison["differences"]
        if d["aspect"] == "columns"
    }
    assert gained == {
        "user:mia@marketing": (["id", "amount"], ["id", "amount", "note"]),
        "user:sam@sales": (["id", "amount"], ["id", "amount", "note"]),
    }


def test_a_rebuild_on_postgresql_decides_as_the_sqlite_original(
    small_mesh: tuple[Cli, Lake], tmp_path: Path, postgres_database: str
) -> None:
    cli, _ = small_mesh
    export = tmp_path / "export"
    cli.run("export", str(export))
    report = _drill(
        cli, str(export), "--against", str(cli.home), "--rebuild-database-url", postgres_database
    )
    assert report["identical"] is True
    rebuilt = report["rebuilt"]
    assert isinstance(rebuilt, dict)
    assert rebuilt["database_url"] == postgres_database


def test_what_cannot_be_rebuilt_into_is_refused_by_name(
    small_mesh: tuple[Cli, Lake], tmp_path: Path
) -> None:
    cli, _ = small_mesh
    export = tmp_path / "export"
    cli.run("export", str(export))
    taken = tmp_path / "taken"
    (taken / "x").mkdir(parents=True)
    error = cli.error(
        "dr-check", str(export), "--against", str(cli.home), "--rebuild-home", str(taken), code=5
    )
    assert error["message"] == f"Rebuild home is not empty: {taken} (give a new folder)"
    missing = tmp_path / "missing"
    error = cli.error("dr-check", str(missing), "--against", str(cli.home), code=3)
    assert error["message"] == f"Export folder or backup file does not exist: {missing}"
    error = cli.error("dr-check", str(export), "--against", str(missing), code=3)
    assert error["message"].startswith(f"Hub home does not exist: {missing}")
    assert HubHome(cli.home).exists()


def test_the_demo_mesh_rebuilt_from_its_export_decides_the_same(
    demo_backup: DemoBackup, tmp_path: Path
) -> None:
    original = Cli(tmp_path / "original")
    original.run("restore", str(demo_backup.file))
    original.run("login", "--token", demo_backup.steward_token, "--profile", "steward")
    export = tmp_path / "export"
    original.run("--profile", "steward", "export", str(export))
    report = _drill(original, str(export), "--against", str(original.home))
    assert report["method"] == "apply"
    assert report["identical"] is True
    assert report["crawled"] == {"unchanged": 10}
    # A tag assignment made after the export is what the drill reports, and nothing else: the
    # original (before) hides the now-pii city from the tag grant, the rebuild (after) does not.
    original.run(
        "--profile", "steward", "tag", "assign", "sales.crm.stores.city", "sensitivity=pii"
    )  # fmt: skip
    report = _drill(original, str(export), "--against", str(original.home), code=11)
    comparison = report["comparison"]
    assert isinstance(comparison, dict)
    assert {d["table"] for d in comparison["differences"]} == {"sales.crm.stores"}
    assert any(
        d["aspect"] == "columns" and "city" not in d["before"] and "city" in d["after"]
        for d in comparison["differences"]
    )


def test_the_demo_mesh_rebuilds_on_postgresql(
    demo_backup: DemoBackup, tmp_path: Path, postgres_database: str
) -> None:
    original = Cli(tmp_path / "original")
    original.run("restore", str(demo_backup.file))
    export = tmp_path / "export"
    original.run("--token", demo_backup.steward_token, "export", str(export))
    report = _drill(
        original,
        str(export),
        "--against",
        str(original.home),
        "--rebuild-database-url",
        postgres_database,
    )
    assert report["identical"] is True
    assert report["crawled"] == {"unchanged": 10}


def test_a_running_hub_is_compared_over_http(small_mesh: tuple[Cli, Lake], tmp_path: Path) -> None:
    cli, _ = small_mesh
    export = tmp_path / "export"
    cli.run("export", str(export))
    token = cli.json("token", "create", "user:admin@governance")["token"]
    mia = cli.json("token", "create", "user:mia@marketing")["token"]
    hub = Hub.open(cli.home)
    try:
        with serve_in_background(hub) as url:
            # Made after the export: the one decision the rebuild lacks.
            cli.run("grant", "SELECT", "--on", "sales.crm.orders", "--to", "user:mia@marketing")
            result = cli.run(
                "--json", "--token", token, "dr-check", str(export), "--against", url, code=11
            )
            report = json.loads(result.stdout)
            comparison = report["comparison"]
            assert isinstance(comparison, dict)
            assert comparison["before"] == url
            assert [
                (d["principal"], d["table"], d["aspect"]) for d in comparison["differences"]
            ] == [("user:mia@marketing", "sales.crm.orders", "reasons")]
            missing = cli.error("dr-check", str(export), "--against", url, code=6)
            assert missing["message"] == (
                f"dr-check --against {url} needs a mesh admin's token of that hub "
                "(--token or LAKEMESH_TOKEN)"
            )
            denied = cli.error("--token", mia, "dr-check", str(export), "--against", url, code=4)
            assert denied["message"] == "user:mia@marketing is not a mesh admin"
    finally:
        hub.close()
