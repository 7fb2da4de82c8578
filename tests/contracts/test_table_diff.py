"""``lakemesh table diff``: schema versions from real re-crawls, breaking changes marked."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from lakemesh.catalog import crawler, domains, locations
from lakemesh.catalog.table_diff import diff_table
from lakemesh.cli.main import app
from lakemesh.errors import NotFoundError
from lakemesh.model.names import parse_resource
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.tokens import clear_cli_environment

TABLE = "shop.sales.items"


def _crawl(env: HubEnv, lake: Lake, data: dict[str, pa.Array]) -> None:
    lake.parquet("shop/sales/items/part-0.parquet", pa.table(data))
    crawler.crawl(
        env.hub, actor=env.admin, uri=lake.uri_of("shop/sales"), domain="shop", database="sales"
    )


@pytest.fixture
def versions(sqlite_env: HubEnv, tmp_path: Path) -> HubEnv:
    lake = Lake(tmp_path / "lake")
    lake.folder("shop/sales")
    with sqlite_env.hub.transaction() as session:
        domains.create_domain(session, actor=sqlite_env.admin, name="shop", producer=True)
        locations.register_location(
            session, actor=sqlite_env.admin, uri=lake.uri_of("shop"), domain="shop"
        )
    ids = pa.array([1, 2], pa.int32())
    _crawl(sqlite_env, lake, {"id": ids, "name": pa.array(["a", "b"])})
    wide = pa.array([1, 2], pa.int64())
    _crawl(sqlite_env, lake, {"id": wide, "extra": pa.array([True, False])})  # v2
    _crawl(sqlite_env, lake, {"id": pa.array(["1", "2"]), "extra": pa.array([True, False])})
    return sqlite_env


def _diff(env: HubEnv, **versions: int) -> dict[str, object]:
    with env.hub.read() as session:
        return diff_table(session, actor=env.admin, name=parse_resource(TABLE), **versions)


def test_a_new_column_and_a_widened_type_are_compatible_a_drop_is_not(versions: HubEnv) -> None:
    diff = _diff(versions, from_version=1, to_version=2)
    assert [c["name"] for c in diff["added"]] == ["extra"]  # type: ignore[union-attr]
    assert [c["name"] for c in diff["removed"]] == ["name"]  # type: ignore[union-attr]
    assert diff["changed"] == [
        {
            "name": "id",
            "from": "INTEGER",
            "to": "BIGINT",
            "partition": False,
            "breaking": False,
            "reasons": [],
        }
    ]
    assert diff["breaking"] is True  # the dropped column


def test_the_default_is_the_current_version_against_the_one_before(versions: HubEnv) -> None:
    diff = _diff(versions)
    assert (diff["from"], diff["to"], diff["breaking"]) == (2, 3, True)
    changed = diff["changed"][0]  # type: ignore[index]
    assert changed["reasons"] == ["type BIGINT -> VARCHAR does not hold every old value"]


def test_a_missing_version_is_named(versions: HubEnv) -> None:
    with pytest.raises(NotFoundError, match=f"Schema version 9 of {TABLE} does not exist"):
        _diff(versions, from_version=9)


def test_the_cli_shows_the_diff(versions: HubEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cli_environment(monkeypatch)
    base = ["--home", str(versions.home), "--token", versions.token, "table", "diff", TABLE]
    runner = CliRunner()
    human = runner.invoke(app, [*base, "--from", "1", "--to", "2"])
    assert human.exit_code == 0, human.stderr
    assert f"{TABLE} v1 -> v2: breaking" in human.stdout
    assert "INTEGER -> BIGINT" in human.stdout
    found = json.loads(runner.invoke(app, ["--json", *base]).stdout)
    assert (found["from"], found["to"]) == (2, 3)


def test_nullability_tightened_is_breaking_in_the_diff_and_the_cli(
    versions: HubEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(tmp_path / "lake")
    schema = pa.schema([pa.field("id", pa.string()), pa.field("extra", pa.bool_(), nullable=False)])
    lake.parquet(
        "shop/sales/items/part-0.parquet",
        pa.table({"id": ["1", "2"], "extra": [True, False]}, schema=schema),
    )
    crawler.crawl(
        versions.hub,
        actor=versions.admin,
        uri=lake.uri_of("shop/sales"),
        domain="shop",
        database="sales",
    )
    diff = _diff(versions)
    assert (diff["from"], diff["to"], diff["breaking"]) == (3, 4, True)
    assert diff["changed"] == [
        {
            "name": "extra",
            "from": "BOOLEAN",
            "to": "BOOLEAN",
            "partition": False,
            "breaking": True,
            "reasons": ["nullability tightened: nullable -> NOT NULL"],
            "nullable_from": True,
            "nullable_to": False,
        }
    ]
    for name in ("LAKEMESH_HOME", "LAKEMESH_HUB", "LAKEMESH_TOKEN", "LAKEMESH_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    base = ["--home", str(versions.home), "--token", versions.token, "table"]
    human = CliRunner().invoke(app, [*base, "diff", TABLE])
    assert human.exit_code == 0, human.stderr
    assert "nullable -> NOT NULL (breaking: nullability tightened" in human.stdout
    shown = CliRunner().invoke(app, [*base, "history", TABLE])
    assert "extra (nullable -> NOT NULL)" in shown.stdout
