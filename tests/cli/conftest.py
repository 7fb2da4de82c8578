"""CLI fixtures: the real `lakemesh` app run through Typer's runner on a real hub home."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from lakemesh.cli.main import app
from tests.factories.lake import Lake

ENVIRONMENT = ("LAKEMESH_HOME", "LAKEMESH_HUB", "LAKEMESH_TOKEN", "LAKEMESH_PROFILE")


@dataclass
class Cli:
    """Runs ``lakemesh --home HOME ...`` and checks the exit code."""

    home: Path
    runner: CliRunner = field(default_factory=CliRunner)

    def run(
        self,
        *args: str,
        code: int = 0,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> Result:
        result = self.runner.invoke(app, ["--home", str(self.home), *args], env=env, input=input)
        assert result.exit_code == code, (
            f"exit {result.exit_code} != {code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """The parsed stdout of ``lakemesh --json ...`` (which must succeed)."""
        return json.loads(self.run("--json", *args, env=env).stdout)

    def error(self, *args: str, code: int) -> dict[str, Any]:
        """The JSON error object printed on stderr by a failing ``lakemesh --json ...``."""
        result = self.run("--json", *args, code=code)
        assert result.stdout == ""
        body = json.loads(result.stderr)
        assert set(body) == {"error"}
        assert set(body["error"]) == {"type", "message", "details"}
        error: dict[str, Any] = body["error"]
        return error


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own LAKEMESH_* variables must not leak into the tests."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A CLI on a hub home that does not exist yet."""
    return Cli(tmp_path / "home")


@pytest.fixture
def admin_cli(cli: Cli) -> Cli:
    """A CLI on an initialised hub home, acting as its mesh admin (the default profile)."""
    cli.run("init")
    return cli


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A folder for data files."""
    return Lake(tmp_path / "lake")
