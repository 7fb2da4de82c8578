"""`lakemesh backup` and `lakemesh restore` on real hub homes."""

from __future__ import annotations

from pathlib import Path

from lakemesh.home import HubHome
from tests.cli.conftest import Cli


def test_backup_then_restore_into_a_new_home_keeps_the_mesh(admin_cli: Cli, tmp_path: Path) -> None:
    admin_cli.run("domain", "create", "sales", "--producer")
    file = tmp_path / "hub.lmbackup"
    taken = admin_cli.json("backup", str(file))
    assert taken["file"] == str(file)
    assert taken["backend"] == "sqlite"
    assert taken["audit"]["ok"] is True

    restored_cli = Cli(tmp_path / "restored")
    restored = restored_cli.json("restore", str(file))
    assert restored["audit"] == taken["audit"]
    assert (restored["tables"], restored["rows"]) == (taken["tables"], taken["rows"])
    # The backed-up hub's tokens work on the restored one.
    token = HubHome(admin_cli.home).profile(None)["token"]
    domains = restored_cli.json("--token", token, "domain", "list")
    assert [domain["name"] for domain in domains] == ["governance", "sales"]
    assert restored_cli.json("--token", token, "audit", "verify")["ok"] is True


def test_human_output_names_the_file_and_the_audit_check(admin_cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "hub.lmbackup"
    taken = admin_cli.run("backup", str(file)).stdout
    assert f"tables to {file}\naudit chain verified: " in taken
    restored = Cli(tmp_path / "restored").run("restore", str(file))
    assert f"tables into hub home {tmp_path / 'restored'}\n" in restored.stdout
    assert "login --token TOKEN" in restored.stderr


def test_restore_refuses_an_initialised_home_by_name(admin_cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "hub.lmbackup"
    admin_cli.run("backup", str(file))
    error = admin_cli.error("restore", str(file), code=5)
    assert error["type"] == "conflict"
    assert error["message"].startswith(f"Hub home is not empty: {admin_cli.home} (has config.toml")


def test_backup_needs_a_hub_home_and_no_remote_hub(cli: Cli, tmp_path: Path) -> None:
    error = cli.error("backup", str(tmp_path / "hub.lmbackup"), code=6)
    assert error["message"].startswith(f"Hub home does not exist: {cli.home}")
    remote = cli.error("--hub", "http://127.0.0.1:9", "backup", "x.lmbackup", code=6)
    assert "works on a hub home (--home) or its database (--database-url)" in remote["message"]
