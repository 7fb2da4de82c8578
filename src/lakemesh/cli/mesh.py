"""``lakemesh export``, ``plan`` and ``apply``: the mesh as code.

The files are read and written here; the hub compares and applies them (through the SDK, embedded
or remote, like every command).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, options, out
from lakemesh.cli.errors import EXIT_UNEXPECTED

if TYPE_CHECKING:
    from lakemesh.api.schemas.mesh import MeshPlanPublic

PRUNE_HELP = "Also remove what the files' domains hold in the hub and the files lack."
SECRETS_HELP = (
    "A file of NAME=value lines: the secrets the files name (tokens' secret_env). "
    "A name it lacks is read from the environment."
)
SecretsOption = Annotated[Path | None, typer.Option("--secrets", help=SECRETS_HELP)]
ACTIONS = {"create": "+", "change": "~", "remove": "-"}


def _files(directory: Path, secrets_file: Path | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The files as the JSON the hub takes, and the values of the secrets they name."""
    from lakemesh.meshfile.files import read_files  # imported here for CLI startup time
    from lakemesh.meshfile.secrets import referenced_secrets, resolve_secrets

    files = read_files(directory)
    secrets = resolve_secrets(referenced_secrets(files), secrets_file=secrets_file)
    # Defaults left out: the 5,000-table mesh of benchmarks/meshfile.py is 3.2 MiB, under the
    # hub's default 4 MiB request limit (7 MiB with them).
    return files.model_dump(mode="json", exclude_defaults=True), secrets


def export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The folder to write (created if missing).")],
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", help="Only this domain's folder (repeat for more)."),
    ] = None,
) -> None:
    """Write the mesh as YAML files: a folder per domain and governance/ (mesh.yaml).

    Mesh admins export everything, domain admins their own domains. Two exports of the same mesh
    are byte-identical. No secret is written: a token made from a named secret is written with its
    name (secret_env), other tokens not at all; storage keys stay in the hub's configuration.
    """
    from lakemesh.meshfile.files import write_files

    with connect(ctx) as client:
        files = client.mesh_export(domain)
    written = write_files(files, directory)
    result = {"directory": str(directory), "files": written}
    out(ctx).done(result, f"Exported {len(written)} files to {directory}")


def _print_plan(plan: MeshPlanPublic) -> None:
    for change in plan.changes:
        sign = ACTIONS[change["action"]]
        output.line(f"{sign} {change['kind'].replace('_', ' ')} {_label(change)}")
        if change["action"] == "change":
            before, after = change["before"] or {}, change["after"] or {}
            for field in sorted(set(before) | set(after)):
                if before.get(field) != after.get(field):
                    output.line(
                        f"    {field}: {output.cell(before.get(field))} -> "
                        f"{output.cell(after.get(field))}"
                    )
    effects = plan.effects
    if effects["changes"]:
        output.line("effect on access:")
    for effect in effects["changes"]:
        parts = [effect["access"]]
        if effect["columns_gained"]:
            parts.append("gains " + ", ".join(effect["columns_gained"]))
        if effect["columns_lost"]:
            parts.append("loses " + ", ".join(effect["columns_lost"]))
        rows = effect.get("rows")
        if rows and rows["before"] is None:
            parts.append(f"rows: {rows['after']}")
        elif rows:
            parts.append(f"rows {rows['before']} -> {rows['after']}")
        if "masks" in effect:
            parts.append(f"masks {effect['masks']['before']} -> {effect['masks']['after']}")
        output.line(f"  {effect['principal']} on {effect['table']}: {'; '.join(parts)}")
    if effects["skipped"]:
        output.note(f"effect on access not compared: {effects['skipped']}")
    for kept in plan.kept:
        output.note(f"kept (not in the files; --prune removes it): {kept['kind']} {kept['key']}")
    for problem in plan.problems:
        output.problem(f"problem: {problem['kind']} {problem['key']}: {problem['message']}")
    summary = plan.summary
    output.line(
        f"Plan: {summary['create']} to create, {summary['change']} to change, "
        f"{summary['remove']} to remove, {summary['problems']} problems."
    )


def _label(change: dict[str, Any]) -> str:
    if change["kind"] not in ("grant", "share"):
        return str(change["key"]).replace("|", " ")
    import json

    body = json.loads(change["key"])
    target = next(
        f"{name} {body[name]}"
        for name in ("on", "on_tags", "location", "tag_values")
        if name in body
    )
    extra = [
        f"{name}={body[name]}" for name in ("filter", "columns", "exclude_columns") if name in body
    ]
    option = " with grant option" if body.get("with_grant_option") else ""
    return f"to {body['to']} {target}{' ' + ' '.join(extra) if extra else ''}{option}"


def plan(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="An export folder, or one domain's folder.")],
    prune: Annotated[bool, typer.Option("--prune", help=PRUNE_HELP)] = False,
    secrets: SecretsOption = None,
) -> None:
    """Show what applying the files would create, change and remove, resource by resource, with
    the effect on access (principals gaining or losing columns or rows).

    Every change is tried as you (permissions and guardrails) and rolled back. Exits 1 when the
    plan has problems (apply would refuse). --json for CI.
    """
    files, values = _files(directory, secrets)
    with connect(ctx) as client:
        result = client.mesh_plan(files, prune=prune, secrets=values)
    out(ctx).show(result, lambda: _print_plan(result))
    if result.problems:
        raise typer.Exit(EXIT_UNEXPECTED)


def apply(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="An export folder, or one domain's folder.")],
    prune: Annotated[bool, typer.Option("--prune", help=PRUNE_HELP)] = False,
    atomic: Annotated[
        bool, typer.Option("--atomic", help="Everything in one transaction (default: per domain).")
    ] = False,
    secrets: SecretsOption = None,
) -> None:
    """Make the hub what the files say, as you: your permissions and the guardrails decide each
    change, and the audit trail records each under one apply id.

    One transaction per domain folder (--atomic: one in all). When anything is refused nothing is
    applied. Applying the same files again changes nothing. Other domains are left untouched.
    """
    from lakemesh.errors import LakemeshError

    files, values = _files(directory, secrets)
    with connect(ctx) as client:
        try:
            result = client.mesh_apply(files, prune=prune, atomic=atomic, secrets=values)
        except LakemeshError as error:
            # The error names the first problem; people read every one (--json: in its details).
            if not options(ctx).json:
                for problem in error.details.get("problems", []):
                    output.problem(
                        f"problem: {problem['kind']} {problem['key']}: {problem['message']}"
                    )
            raise

    def human() -> None:
        _print_plan(result)
        if result.changes:
            output.success(
                f"Applied {len(result.changes)} changes in {len(result.committed)} "
                f"transactions (apply id {result.apply_id})"
            )
        else:
            output.success("Nothing to apply: the hub is what the files say")

    out(ctx).show(result, human)
