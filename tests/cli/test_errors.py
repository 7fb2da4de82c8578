"""Errors: one red line for people, the JSON error shape under --json, an exit code per family."""

from __future__ import annotations

import socket

import pytest

from lakemesh.cli.main import app
from tests.cli.conftest import Cli


def _sam(cli: Cli) -> str:
    cli.run("domain", "create", "sales", "--admin", "user:sam@sales")
    token: str = cli.json("token", "create", "user:sam@sales")["token"]
    return token


def test_not_found_is_one_line_on_stderr_and_exit_3(admin_cli: Cli) -> None:
    result = admin_cli.run("domain", "show", "nope", code=3)
    assert result.stdout == ""
    assert result.stderr == "Error: Domain does not exist: nope\n"


def test_not_found_under_json_is_the_error_shape(admin_cli: Cli) -> None:
    error = admin_cli.error("domain", "show", "nope", code=3)
    assert error == {
        "type": "not_found",
        "message": "Domain does not exist: nope",
        "details": {"domain": "nope"},
    }


def test_access_denied_exits_4(admin_cli: Cli) -> None:
    token = _sam(admin_cli)
    error = admin_cli.error("--token", token, "domain", "create", "finance", code=4)
    assert error["type"] == "access_denied"
    assert error["message"] == "user:sam@sales is not a mesh admin"


def test_an_invalid_token_exits_4(admin_cli: Cli) -> None:
    error = admin_cli.error("--token", "lm_nope", "whoami", code=4)
    assert error == {"type": "unauthenticated", "message": "Invalid API token", "details": {}}


def test_already_exists_exits_5(admin_cli: Cli) -> None:
    admin_cli.run("domain", "create", "sales")
    error = admin_cli.error("domain", "create", "sales", code=5)
    assert error["type"] == "already_exists"
    assert error["message"] == "Domain already exists: sales"


def test_invalid_input_exits_6(admin_cli: Cli) -> None:
    error = admin_cli.error("principal", "create", "alice", code=6)
    assert error["type"] == "invalid_input"
    assert error["message"].startswith("Invalid principal: 'alice'")


def test_a_malformed_attribute_exits_6(admin_cli: Cli) -> None:
    admin_cli.run("domain", "create", "sales")
    result = admin_cli.run("principal", "create", "user:a@sales", "--attr", "region", code=6)
    assert result.stderr == "Error: Invalid attribute: 'region' (expected KEY=VALUE)\n"


def test_a_missing_home_says_to_init(cli: Cli) -> None:
    result = cli.run("domain", "list", code=6)
    assert result.stderr.startswith(f"Error: Hub home does not exist: {cli.home}")
    assert "lakemesh init" in result.stderr


def test_a_missing_token_says_how_to_get_one(admin_cli: Cli) -> None:
    (admin_cli.home / "profiles.toml").unlink()
    result = admin_cli.run("whoami", code=4)
    assert result.stderr.startswith("Error: No API token: pass --token, set LAKEMESH_TOKEN")


def test_an_unknown_profile_exits_3(admin_cli: Cli) -> None:
    result = admin_cli.run("--profile", "ci", "whoami", code=3)
    assert result.stderr.startswith("Error: Profile does not exist: ci")


def test_an_unreachable_hub_exits_7(cli: Cli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    error = cli.error("--hub", url, "--token", "lm_x", "domain", "list", code=7)
    assert error["type"] == "hub_unreachable"
    assert error["message"].startswith(f"Cannot reach the hub at {url}")


@pytest.mark.parametrize(
    "args",
    [
        ("domain", "create"),
        ("domain", "frobnicate"),
        ("token", "revoke", "not-a-number"),
        ("crawl", "/data"),
    ],
)
def test_usage_errors_exit_2(admin_cli: Cli, args: tuple[str, ...]) -> None:
    admin_cli.run(*args, code=2)


def test_json_may_follow_the_command(admin_cli: Cli) -> None:
    result = admin_cli.runner.invoke(
        app, ["--home", str(admin_cli.home), "domain", "show", "nope", "--json"]
    )
    assert result.exit_code == 3
    assert result.stderr.startswith('{"error": {"type": "not_found"')


def test_a_control_character_in_a_description_exits_6(admin_cli: Cli) -> None:
    result = admin_cli.run("domain", "create", "sales", "--description", "\x1b]8;;x\x1b\\", code=6)
    assert result.stderr.startswith(
        "Error: Invalid --description: control character U+001B at position 0"
    )
