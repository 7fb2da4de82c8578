"""Every command and every option explains itself; the root help documents the exit codes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from lakemesh.cli.main import app

# What DESIGN §9 and the first issue name; every one must exist.
EXPECTED_COMMANDS = {
    "init", "serve", "demo", "login", "whoami", "crawl",
    "domain create", "domain list", "domain show", "domain update", "domain delete",
    "domain add-admin", "domain remove-admin",
    "principal create", "principal list", "principal show", "principal set-attr",
    "principal delete", "group add-member", "group remove-member",
    "token create", "token list", "token revoke",
    "location register", "location list", "location remove",
    "database create", "database list", "database show", "database drop",
    "table list", "table show", "table history", "table drop",
    "audit search", "audit verify",
}  # fmt: skip


def _commands(
    command: typer.core.TyperCommand | typer.core.TyperGroup, path: str = ""
) -> Iterator[tuple[str, typer.core.TyperCommand | typer.core.TyperGroup]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}".strip())


ROOT = typer.main.get_command(app)
ALL = dict(_commands(ROOT))  # type: ignore[arg-type]


def test_every_expected_command_exists() -> None:
    assert set(ALL) >= EXPECTED_COMMANDS


@pytest.mark.parametrize("path", sorted(ALL))
def test_command_and_its_parameters_have_help(path: str) -> None:
    command = ALL[path]
    assert (command.help or "").strip(), f"'lakemesh {path}' has no help"
    for parameter in command.params:
        if parameter.name in {"help", "install_completion", "show_completion"}:
            continue
        assert (getattr(parameter, "help", None) or "").strip(), (
            f"'lakemesh {path}': {parameter.name} has no help"
        )
    result = CliRunner().invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout


def test_root_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    for phrase in ("3 not found", "4 unauthenticated or access denied", "7 hub unreachable"):
        assert phrase in result.stdout
    for option in ("--home", "--hub", "--token", "--profile", "--json"):
        assert option in result.stdout
