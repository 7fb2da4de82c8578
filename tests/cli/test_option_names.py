"""A hub's complaint about a request field is told with the CLI's option names (issue 9): the
hub's ``query.limit`` or ``body.max_rows`` is the command's ``--limit`` or ``--max-rows``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from lakemesh.api import schemas
from lakemesh.cli.main import app
from tests.cli.conftest import Cli
from tests.factories.cli_mesh import embedded_hub_open
from tests.factories.tokens import clear_cli_environment

BAD = "a\x1bb"  # ESC: refused in every string a request carries
HUGE = str(2**70)  # a whole number no stored integer holds
CONTROL = "control character U+001B at position 1"

CASES: list[tuple[tuple[str, ...], str]] = [
    (("workgroup", "update", "primary", "--max-rows", HUGE), "Invalid value for --max-rows: "),
    (
        ("workgroup", "create", "wg", "--timeout", HUGE, "--max-rows", HUGE),
        "Invalid value for --timeout: Input should be less than or equal to "
        "9223372036854775807; --max-rows: ",
    ),
    (("audit", "search", "--limit", "100000"), "Invalid value for --limit: "),
    (("audit", "search", "--since", "soon"), "Invalid --since: 'soon' (expected an ISO"),
    (("domain", "create", "sales", "--description", BAD), f"Invalid --description: {CONTROL}"),
    (("domain", "create", "sales", "--admin", f"user:{BAD}@sales"), "Invalid --admin: "),
    (("domain", "create", BAD), f"Invalid NAME: {CONTROL}"),
    (
        ("principal", "create", "user:x@governance", "--attr", f"region={BAD}"),
        "Invalid --attr region: ",
    ),
    (
        ("token", "create", "user:admin@governance", "--expires", BAD),
        f"Invalid --expires: {CONTROL}",
    ),
    (("tag", "update", "k", "--add", BAD), f"Invalid --add: {CONTROL}"),
    (("tag", "update", "k", "--remove", BAD), f"Invalid --remove: {CONTROL}"),
    (("filter", "update", "f", "--exclude-columns", BAD), f"Invalid --exclude-columns: {CONTROL}"),
    (("query", "SELECT 1", "--workgroup", BAD), f"Invalid --workgroup: {CONTROL}"),
    (("query", "run", "SELECT 1", "--workgroup", BAD), f"Invalid --workgroup: {CONTROL}"),
    (("product", "deprecate", "p", "--message", BAD), f"Invalid --message: {CONTROL}"),
    # Numbers past what the store keeps, in a query string, a path or a body's list.
    (("table", "diff", "a.b.c", "--from", HUGE), "Invalid value for --from: "),
    (("table", "diff", "a.b.c", "--to", HUGE), "Invalid value for --to: "),
    (("product", "accept-change", "p", HUGE), "Invalid value for PROPOSAL: "),
    (("product", "reject-change", "p", HUGE), "Invalid value for PROPOSAL: "),
    (("webhook", "delete", HUGE), "Invalid value for WEBHOOK: "),
    (("webhook", "redeliver", HUGE), "Invalid value for DELIVERY: "),
    (("webhook", "deliveries", "--webhook", HUGE), "Invalid value for --webhook: "),
    (("inbox", "read", "1", HUGE), "Invalid value for IDS 1: "),
]


@pytest.fixture
def admin_cli(admin_cli: Cli) -> Iterator[Cli]:
    """The sweep's hub home (tests/cli/conftest.py), its embedded hub held open."""
    with embedded_hub_open(admin_cli):
        yield admin_cli


@pytest.fixture(scope="module")
def refused_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """One initialised hub home for the cases below, as its mesh admin: each command is
    refused, so none changes it."""
    cli = Cli(tmp_path_factory.mktemp("refused") / "home")
    with pytest.MonkeyPatch.context() as patch:
        clear_cli_environment(patch)
        cli.run("init")
    with embedded_hub_open(cli):
        yield cli


@pytest.mark.parametrize(("args", "told"), CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_request_fields_are_named_as_options(
    refused_cli: Cli, args: tuple[str, ...], told: str
) -> None:
    error = refused_cli.error(*args, code=6)
    assert error["message"].startswith(told), error["message"]
    human = refused_cli.run(*args, code=6).stderr
    assert human.startswith(f"Error: {told}".replace("\x1b", "\\x1b")), human


def _request_fields() -> set[str]:
    """Every field name of a request body the hub takes, and of the query strings it reads."""
    fields: set[str] = set()
    for name in dir(schemas):
        model = getattr(schemas, name)
        if isinstance(model, type) and issubclass(model, schemas.RequestBody):
            fields.update(model.model_fields)
    return fields


def _leaf_commands() -> list[tuple[list[str], Any]]:
    root = typer.main.get_command(app)
    context = typer.Context(root)
    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])
        else:
            found.append((path, command))

    walk(root, [])
    return found


# Commands that make or serve a hub home or read files: not about request fields.
NOT_SWEPT = {"init", "serve", "demo", "login", "backup", "restore", "export", "plan", "apply"}
NAMED = re.compile(r"Invalid (?:value for )?(.+?): ")


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "value"), [("str", BAD), ("int", HUGE)])
def test_no_command_names_a_request_field(admin_cli: Cli, kind: str, value: str) -> None:
    """Every string option and argument of every command given a control character, and every
    number given one past 64 bits: what the hub refuses is named as the command's option, never
    as a request field, and nothing fails unexpectedly."""
    fields = _request_fields()
    runner = CliRunner()
    told: list[str] = []
    for path, command in _leaf_commands():
        if path[0] in NOT_SWEPT or path[0] == "decisions":
            continue
        parameters = [p for p in command.params if p.name != "help"]
        labels = {
            max(p.opts, key=len) if p.param_type_name == "option" else p.name.upper()
            for p in parameters
        }
        for target in parameters:
            if getattr(target, "is_flag", False) or kind not in str(
                target.type_descriptor.annotation
            ):
                continue
            args = [*path]
            for parameter in parameters:
                if parameter.param_type_name == "argument":
                    args.append(
                        value
                        if parameter is target
                        else {"permissions": "SELECT"}.get(parameter.name, "x")
                    )
            if target.param_type_name == "option":
                args += [target.opts[0], value]
            result = runner.invoke(app, ["--home", str(admin_cli.home), "--json", *args])
            if result.exit_code == 1:  # an unexpected error (a 500)
                told.append(f"{' '.join(path)} {target.opts[0]}: {result.stderr[-300:]}")
            if result.exit_code != 6:
                continue
            message = json.loads(result.stderr)["error"]["message"]
            named = NAMED.match(message)
            if named is None:
                continue
            for part in named.group(1).split("; "):
                name = part.split(" ")[0]
                # A field path, or a field refused for its control character (a message naming
                # a kind of value, ``Invalid principal: 'x' (expected ...)``, is not one).
                field_like = (
                    "_" in name
                    or "." in name
                    or (name in fields and CONTROL in message)
                    or message.startswith("Invalid request: ")
                )
                if name not in labels and field_like:
                    told.append(f"{' '.join(path)} {target.opts[0]}: {message}")
    assert told == [], "\n".join(told)
