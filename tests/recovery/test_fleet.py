"""Onboarding at scale from files: 50 generated producer and consumer domains apply in one
command, a second apply changes nothing, and a disaster-recovery drill rebuilds them with
identical decisions."""

from __future__ import annotations

import json
from pathlib import Path

from lakemesh.demo.fleet import generate_fleet
from tests.cli.conftest import Cli


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    one = generate_fleet(tmp_path / "a", data=tmp_path / "a-data", domains=4)
    generate_fleet(tmp_path / "b", data=tmp_path / "a-data", domains=4)
    generate_fleet(tmp_path / "c", data=tmp_path / "c-data", domains=4)
    assert _files(tmp_path / "a-data") == _files(tmp_path / "c-data")
    assert (one.producers, one.consumers) == (["p01", "p03"], ["c02", "c04"])
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert sorted(_files(tmp_path / "a")) == sorted(
        [f"{d}/{f}.yaml" for d in ("c02", "c04") for f in ("domain", "products")]
        + [
            f"{d}/{f}.yaml"
            for d in ("p01", "p03")
            for f in ("domain", "catalog", "access", "products")
        ]
        + ["governance/domain.yaml", "governance/access.yaml", "governance/mesh.yaml"]
    )
    assert len(list((tmp_path / "a-data").rglob("*.parquet"))) == one.tables == 6


def test_fifty_domains_onboard_in_one_apply_and_a_second_changes_nothing(tmp_path: Path) -> None:
    fleet = generate_fleet(tmp_path / "mesh", data=tmp_path / "data", tables_per_producer=2)
    assert (len(fleet.producers), len(fleet.consumers)) == (25, 25)
    cli = Cli(tmp_path / "home")
    cli.run("init")
    first = cli.json("apply", str(fleet.files))
    assert first["summary"]["problems"] == 0
    assert first["summary"]["create"] > 800
    second = cli.json("apply", str(fleet.files))
    assert (second["summary"]["create"], second["summary"]["change"]) == (0, 0)
    assert second["summary"]["remove"] == 0
    assert second["committed"] == []
    assert len(cli.json("domain", "list")) == 51
    # The standard grants decide as described. A consumer's analysts read the previous
    # producer's product by subscription without email, and the first table's email cells of
    # their own region through its regional filter, hashed (pii).
    regional = cli.json("explain", "user:analyst1@c02", "SELECT", "p01.core.t1")
    assert regional["columns"] == ["id", "region", "email", "amount", "day"]
    assert regional["masks"] == {"email": "hash"}
    assert any("""(rows: "region" = 'EU'; columns:""" in r for r in regional["reasons"])
    subscribed = cli.json("explain", "user:analyst2@c04", "SELECT", "p03.core.t2")
    assert subscribed["columns"] == ["id", "region", "amount", "day"]
    assert subscribed["row_filter"] is None
    public = cli.json("explain", "user:analyst1@c04", "SELECT", "p49.core.t1")
    assert public["columns"] == ["id", "region", "amount", "day"]
    own = cli.json("explain", "user:analyst1@p05", "SELECT", "p05.core.t2")
    assert own["masks"] == {"email": "hash"}
    denied = cli.json("explain", "user:analyst1@c02", "SELECT", "p49.core.t2")
    assert denied["allowed"] is False
    # Rebuilt from the same files into a fresh hub, with the storage re-crawled: identical.
    drill = json.loads(
        cli.run("--json", "dr-check", str(fleet.files), "--against", str(cli.home)).stdout
    )
    assert drill["identical"] is True
    assert drill["crawled"] == {"unchanged": 50}
    assert drill["comparison"]["tables"] == 50
