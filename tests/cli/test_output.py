"""What the CLI prints for people: named options, no wrapping into files, no raw control codes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from lakemesh.cli import output
from tests.cli.conftest import Cli

ESC = "\x1b"


def test_grant_list_points_at_grants_list(admin_cli: Cli) -> None:
    for command in ("grant", "revoke"):
        result = admin_cli.run(command, "list", code=2, env={"COLUMNS": "200"})
        assert "'list' is not a permission; to list grants, run 'lakemesh grants list'" in (
            result.stderr
        )
        assert "Missing option" not in result.stderr


def test_limits_are_named_as_options(admin_cli: Cli) -> None:
    result = admin_cli.run("query", "history", "--limit", "0", code=2, env={"COLUMNS": "200"})
    assert "Invalid value for '--limit'" in result.stderr
    for command in (("query", "history"), ("audit", "search")):
        error = admin_cli.error(*command, "--limit", "100000000", code=6)
        assert error["message"].startswith("Invalid value for --limit: Input should be less"), error
        assert "query.limit" not in error["message"]
    error = admin_cli.error("audit", "search", "--since", "banana", code=6)
    assert error["message"].startswith("Invalid --since: 'banana' (expected an ISO timestamp")


def test_output_to_a_file_or_pipe_is_not_wrapped(admin_cli: Cli) -> None:
    description = "A domain whose description is long: " + "word " * 40
    admin_cli.run("domain", "create", "sales", "--description", description)
    listing = admin_cli.run("domain", "list").stdout
    assert description.strip() in listing
    assert max(len(line) for line in listing.splitlines()) > 200


def test_explain_says_none_where_there_is_nothing(admin_cli: Cli) -> None:
    admin_cli.run("domain", "create", "sales")
    out = admin_cli.run("explain", "user:admin@governance", "DESCRIBE", "sales").stdout
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert lines["columns"].split() == ["columns", "none"]
    assert lines["masks"].split() == ["masks", "none"]
    assert "row filter  none (every row)" in out


def test_control_characters_are_never_printed_raw(admin_cli: Cli) -> None:
    # The hub refuses them in names and descriptions; data can still hold them.
    hostile = (
        "chr(27) || ']8;;http://evil.example' || chr(27) || '\\click me' || chr(27) || '[31mred ' "
        "|| chr(8238) || 'gnp.exe' || chr(0)"
    )
    sql = f"SELECT {hostile} AS hostile, [chr(27) || '[1m'] AS listed"
    out = admin_cli.run("query", sql, env={"COLUMNS": "400"}).stdout
    assert ESC not in out
    assert "\u202e" not in out
    assert "\\x1b]8;;http://evil.example\\x1b\\click me\\x1b[31mred \\u202egnp.exe\\x00" in out
    assert '["\\u001b[1m"]' in out  # JSON escapes it itself
    error = admin_cli.run("--profile", f"p{ESC}[31m", "whoami", code=3)
    assert ESC not in error.stderr
    assert "\\x1b[31m" in error.stderr


HOSTILE_SQL = "SELECT chr(8238) || 'gnp.exe' || chr(27) || '[31m' || chr(133) || chr(127) AS x"
HOSTILE_VALUE = "\u202egnp.exe\x1b[31m\x85\x7f"
RAW = ("\u202e", ESC, "\x85", "\x7f")


def test_json_query_output_escapes_control_characters(admin_cli: Cli, tmp_path: Path) -> None:
    """On stdout and in a file: every control character and bidi mark as a \\u escape, the
    value the same once parsed."""
    out = admin_cli.run("--json", "query", HOSTILE_SQL).stdout
    target = tmp_path / "rows.json"
    admin_cli.run("query", HOSTILE_SQL, "--output", str(target))
    written = target.read_text(encoding="utf-8")
    for text in (out, written):
        assert not any(char in text for char in RAW), repr(text)
        assert json.loads(text)["rows"] == [[HOSTILE_VALUE]]
    assert "\\u202egnp.exe\\u001b[31m\\u0085\\u007f" in written


def test_csv_on_a_terminal_is_escaped_and_kept_as_is_in_a_pipe(admin_cli: Cli) -> None:
    command = [str(Path(sys.executable).parent / "lakemesh"), "--home", str(admin_cli.home)]
    command += ["query", HOSTILE_SQL, "--format", "csv"]
    piped = subprocess.run(command, capture_output=True, check=True).stdout.decode()
    assert HOSTILE_VALUE in piped
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=60) == 0
    os.close(leader)
    text = shown.decode()
    assert not any(char in text for char in RAW), repr(text)
    assert "\\u202egnp.exe\\x1b[31m\\x85\\x7f" in text


def test_warnings_and_problems_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    output.warning(f"product {ESC}[31mx\u202e deprecated")
    output.problem(f"problem: {ESC}]8;;http://evil{ESC}\\")
    shown = capsys.readouterr().err
    assert ESC not in shown
    assert "\u202e" not in shown
    assert "Warning: product \\x1b[31mx\\u202e deprecated" in shown
    assert "problem: \\x1b]8;;http://evil\\x1b\\" in shown
