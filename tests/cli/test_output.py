"""What the CLI prints for people: named options, no wrapping into files, no raw control codes."""

from __future__ import annotations

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
