"""`lakemesh decisions snapshot` and `lakemesh decisions compare` on copies of the demo mesh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakemesh.home import HubHome
from tests.cli.conftest import Cli
from tests.factories.demo import DemoBackup


@pytest.fixture
def copies(demo_backup: DemoBackup, tmp_path: Path) -> tuple[Cli, Cli]:
    """Two restored copies of the demo mesh, each a CLI acting as the steward."""
    clis = []
    for name in ("one", "two"):
        cli = Cli(tmp_path / name)
        cli.run("restore", str(demo_backup.file))
        cli.run("login", "--token", demo_backup.steward_token, "--profile", "steward")
        clis.append(cli)
    return clis[0], clis[1]


def test_snapshots_of_equal_hubs_are_equal_text_and_compare_identical(
    copies: tuple[Cli, Cli], tmp_path: Path
) -> None:
    one, two = copies
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    written = one.json("decisions", "snapshot", "-o", str(first))
    assert written["file"] == str(first)
    assert (written["principals"], written["tables"]) == (20, 10)
    two.run("decisions", "snapshot", "--output", str(second))
    assert first.read_text() == second.read_text()
    assert json.loads(one.run("decisions", "snapshot").stdout) == json.loads(first.read_text())
    report = one.json("decisions", "compare", str(first), str(two.home))
    assert report["identical"] is True
    assert (report["principals"], report["tables"], report["decisions"]) == (20, 10, 200)
    human = one.run("decisions", "compare", str(one.home), str(two.home)).stdout
    assert human.startswith("Identical decisions: 20 principals x 10 tables (200 decisions)")


def test_a_planted_grant_is_printed_and_exits_11(copies: tuple[Cli, Cli], tmp_path: Path) -> None:
    one, two = copies
    snapshot = tmp_path / "before.json"
    one.run("decisions", "snapshot", "-o", str(snapshot))
    two.run(
        "--profile", "steward", "grant", "SELECT", "--on", "sales.crm.stores",
        "--columns", "city,country", "--to", "user:sol@supply_chain",
    )  # fmt: skip
    result = one.run("--json", "decisions", "compare", str(snapshot), str(two.home), code=11)
    report = json.loads(result.stdout)
    assert report["identical"] is False
    (difference,) = report["differences"]
    assert difference["principal"] == "user:sol@supply_chain"
    assert difference["table"] == "sales.crm.stores"
    assert difference["aspect"] == "access"
    assert difference["before"] == "denied"
    assert difference["after"]["columns"] == ["city", "country"]
    error = json.loads(result.stderr)["error"]
    assert error["type"] == "decisions_differ"
    assert error["message"] == (f"1 difference between the decisions of {snapshot} and {two.home}")
    human = one.run("decisions", "compare", str(one.home), str(two.home), code=11)
    assert (
        "user:sol@supply_chain on sales.crm.stores: access: denied -> allowed (columns city, "
        "country)\n1 differences; compared 20 principals x 10 tables" in human.stdout
    )
    assert "Error: 1 difference between the decisions of" in human.stderr


def test_a_store_is_named_by_its_database_url(copies: tuple[Cli, Cli]) -> None:
    one, two = copies
    url = HubHome(two.home).database_url()
    assert one.json("decisions", "compare", str(one.home), url)["identical"] is True


def test_what_is_not_a_hub_or_a_snapshot_is_named(copies: tuple[Cli, Cli], tmp_path: Path) -> None:
    one, _ = copies
    missing = tmp_path / "nowhere"
    error = one.error("decisions", "compare", str(one.home), str(missing), code=3)
    assert error["message"].startswith(f"Hub home does not exist: {missing}")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1, "principals": []}')
    error = one.error("decisions", "compare", str(bad), str(one.home), code=6)
    assert error["message"].startswith("Invalid decision snapshot")
    assert error["message"].endswith(str(bad))
    bad.write_text("not json")
    error = one.error("decisions", "compare", str(bad), str(one.home), code=6)
    assert error["message"].startswith(f"Cannot read decision snapshot {bad}")
    remote = one.error("--hub", "http://127.0.0.1:9", "decisions", "snapshot", code=6)
    assert "works on a hub home" in remote["message"]
