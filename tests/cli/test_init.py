"""`lakemesh init`: a new hub home whose admin token lands in the default profile."""

from __future__ import annotations

import tomllib
from pathlib import Path

from lakemesh.home import HubHome
from tests.cli.conftest import Cli


def test_init_creates_the_home_and_saves_the_admin_token(cli: Cli) -> None:
    result = cli.json("init")
    assert set(result) >= {"token", "principal", "home"}
    assert result["principal"] == "user:admin@governance"
    assert result["home"] == str(cli.home)
    assert result["token"].startswith("lm_")
    home = HubHome(cli.home)
    assert home.profile(None)["token"] == result["token"]
    assert home.storage.is_dir()
    assert home.database_file.exists()
    assert cli.json("whoami")["name"] == "user:admin@governance"


def test_init_prints_the_token_for_people(cli: Cli) -> None:
    result = cli.run("init", "--admin", "user:steward@governance")
    token = HubHome(cli.home).profile(None)["token"]
    assert token in result.stdout
    assert "user:steward@governance" in result.stdout
    assert f"Initialised hub home {cli.home}" in result.stdout


def test_init_refuses_an_initialised_home(cli: Cli) -> None:
    cli.run("init")
    result = cli.run("init", code=5)
    assert result.stderr.strip() == (
        f"Error: Hub home is initialised already: {cli.home} (use another --home, or --force "
        "to start over and lose its hub state)"
    )
    error = cli.error("init", code=5)
    assert error["type"] == "conflict"
    assert error["message"].startswith(f"Hub home is initialised already: {cli.home}")


def test_init_force_starts_over(cli: Cli) -> None:
    first = cli.json("init")["token"]
    cli.run("domain", "create", "sales")
    second = cli.json("init", "--force")["token"]
    assert second != first
    assert [d["name"] for d in cli.json("domain", "list")] == ["governance"]
    error = cli.error("--token", first, "whoami", code=4)
    assert error == {"type": "unauthenticated", "message": "Invalid API token", "details": {}}


def test_init_keeps_a_database_url_in_the_config(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    result = cli.json("init", "--database-url", url)
    assert result["database_url"] == url
    config = tomllib.loads((cli.home / "config.toml").read_text())
    assert config["database_url"] == url
    assert (tmp_path / "elsewhere.db").exists()
    assert not (cli.home / "hub.db").exists()
    assert cli.json("whoami")["name"] == "user:admin@governance"


def test_init_refuses_a_first_admin_outside_governance(cli: Cli) -> None:
    error = cli.error("init", "--admin", "user:bob@sales", code=6)
    assert error["message"] == (
        "The first mesh admin must be a user of the governance domain, got user:bob@sales"
    )
    assert not HubHome(cli.home).exists()
    cli.run("init")
