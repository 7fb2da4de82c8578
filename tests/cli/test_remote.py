"""One code path, two modes: the CLI on a remote hub (--hub, profiles with a hub) and login."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from tests.cli.conftest import Cli


@pytest.fixture
def served(admin_cli: Cli) -> Iterator[str]:
    """The admin CLI's hub home, also served by uvicorn on 127.0.0.1; yields its URL."""
    hub = Hub.open(admin_cli.home)
    try:
        with serve_in_background(hub) as url:
            yield url
    finally:
        hub.close()


def test_hub_option_and_variable_use_the_remote_hub(
    admin_cli: Cli, served: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    token = HubHome(admin_cli.home).profile(None)["token"]
    elsewhere = Cli(tmp_path_factory.mktemp("client") / "no-home")
    created = elsewhere.json("--hub", served, "--token", token, "domain", "create", "sales")
    assert created["name"] == "sales"
    env = {"LAKEMESH_HUB": served, "LAKEMESH_TOKEN": token}
    assert [d["name"] for d in elsewhere.json("domain", "list", env=env)] == [
        "governance",
        "sales",
    ]
    assert [d["name"] for d in admin_cli.json("domain", "list")] == ["governance", "sales"]


def test_login_checks_the_token_and_saves_a_profile(admin_cli: Cli) -> None:
    admin_cli.run("domain", "create", "sales", "--admin", "user:sam@sales")
    token = admin_cli.json("token", "create", "user:sam@sales")["token"]
    result = admin_cli.run("login", "--token", token, "--profile", "sam")
    assert "Logged in as user:sam@sales" in result.stdout
    assert HubHome(admin_cli.home).profile("sam") == {"token": token}
    assert admin_cli.json("--profile", "sam", "whoami")["name"] == "user:sam@sales"
    # The default profile is still the admin's.
    assert admin_cli.json("whoami")["name"] == "user:admin@governance"


def test_login_with_a_bad_token_saves_nothing(admin_cli: Cli) -> None:
    error = admin_cli.error("login", "--token", "lm_bad", "--profile", "bad", code=4)
    assert error["message"] == "Invalid API token"
    assert "bad" not in HubHome(admin_cli.home).profiles()["profiles"]


def test_a_profile_with_a_hub_talks_to_that_hub(
    admin_cli: Cli, served: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    token = HubHome(admin_cli.home).profile(None)["token"]
    laptop = Cli(tmp_path_factory.mktemp("laptop") / "home")
    logged_in = laptop.json("login", "--hub", served, "--token", token, "--profile", "prod")
    assert logged_in["principal"]["name"] == "user:admin@governance"
    assert HubHome(laptop.home).profile("prod") == {"token": token, "hub": served}
    # The laptop has no hub home of its own: the profile's hub is used.
    assert laptop.json("--profile", "prod", "whoami")["name"] == "user:admin@governance"
    assert laptop.json("whoami")["name"] == "user:admin@governance"  # the first profile


def test_a_profile_token_is_never_sent_to_another_hub(
    admin_cli: Cli, served: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The default profile (the mesh admin's, for the hub home) must not go to --hub URL: the
    # served hub would accept it, so a success here would mean the token was sent.
    error = admin_cli.error("--hub", served, "whoami", code=4)
    assert error["message"].startswith(f"No API token for hub {served}: profile 'default' ")
    assert "Pass --token (or set LAKEMESH_TOKEN)" in error["message"]
    error = admin_cli.error("--hub", served, "--profile", "default", "whoami", code=4)
    assert "token is sent nowhere else" in error["message"]
    # A profile saved for that hub goes there, and only there.
    token = HubHome(admin_cli.home).profile(None)["token"]
    laptop = Cli(tmp_path_factory.mktemp("laptop") / "home")
    laptop.run("login", "--hub", served + "/", "--token", token, "--profile", "prod")
    assert laptop.json("--hub", served, "whoami")["name"] == "user:admin@governance"
    error = laptop.error("--hub", "http://127.0.0.1:9", "whoami", code=4)
    assert error["message"].startswith(
        f"No API token for hub http://127.0.0.1:9: profile 'prod' belongs to hub {served}/"
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--token", ""), {}), ((), {"LAKEMESH_TOKEN": ""}), (("--token", "  "), {})],
)
def test_an_empty_token_is_an_error_not_the_default_profile(
    admin_cli: Cli, args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = admin_cli.run("--json", *args, "whoami", code=6, env=env)
    assert result.stdout == ""
    assert "Empty API token given with --token or LAKEMESH_TOKEN" in result.stderr
