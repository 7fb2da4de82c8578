"""``lakemesh tag …``: tag keys and their values, and tags on databases, tables and columns."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.api.schemas.tags import ObjectTags, TagChange
from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.params import NewDescription
from lakemesh.errors import InvalidInputError

app = typer.Typer(
    help="Tags (LF-Tags): keys with allowed values, assigned on databases, tables and columns "
    "and inherited downwards.",
    no_args_is_help=True,
)

Key = Annotated[str, typer.Argument(help="Tag key, like sensitivity.")]
Resource = Annotated[
    str,
    typer.Argument(
        help="DOMAIN.DATABASE[.TABLE[.COLUMN]], like sales.crm.customers.email.",
    ),
]

KEY_COLUMNS = [("key", "key"), ("values", "values"), ("description", "description")]
KEY_FIELDS = [*KEY_COLUMNS, ("created", "created_at")]
RESOURCE_COLUMNS = [("key", "key"), ("value", "value"), ("source", "source")]


def split_list(text: str | None) -> list[str]:
    """``a, b,c`` as ``["a", "b", "c"]`` (empty items dropped)."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def tag_pairs(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; each key once, each value non-empty."""
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not key or not value:
            raise InvalidInputError(
                f"Invalid tag: {pair!r} (expected KEY=VALUE)", details={"tag": pair}
            )
        if tags.get(key, value) != value:
            raise InvalidInputError(
                f"Tag {key} given twice: {tags[key]} and {value} (one value per key)",
                details={"tag_key": key},
            )
        tags[key] = value
    return tags


@app.command("create")
def create(
    ctx: typer.Context,
    key: Key,
    values: Annotated[
        str, typer.Option("--values", help="Allowed values, comma-separated: public,internal,pii.")
    ],
    description: Annotated[str, typer.Option("--description", help="What the tag means.")] = "",
) -> None:
    """Define a tag key with its allowed values (mesh admins)."""
    with connect(ctx) as client:
        tag = client.create_tag(key, values=split_list(values), description=description)
    out(ctx).done(tag, f"Created tag {tag.key} ({', '.join(tag.values)})")


@app.command("update")
def update(
    ctx: typer.Context,
    key: Key,
    add: Annotated[
        str | None, typer.Option("--add", help="Values to allow, comma-separated.")
    ] = None,
    remove: Annotated[
        str | None,
        typer.Option("--remove", help="Values to withdraw, comma-separated (refused while used)."),
    ] = None,
    description: NewDescription = None,
) -> None:
    """Add or remove allowed values of a tag key, or change its description (mesh admins)."""
    with connect(ctx) as client:
        tag = client.update_tag(
            key,
            add_values=split_list(add),
            remove_values=split_list(remove),
            description=description,
        )
    out(ctx).done(tag, f"Updated tag {tag.key} ({', '.join(tag.values)})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List tag keys with their allowed values."""
    with connect(ctx) as client:
        tags = client.list_tags()
    out(ctx).table(tags, KEY_COLUMNS, empty="No tags.")


@app.command("show")
def show(ctx: typer.Context, key: Key) -> None:
    """Show a tag key and its allowed values."""
    with connect(ctx) as client:
        tag = client.get_tag(key)
    out(ctx).record(tag, KEY_FIELDS)


@app.command("delete")
def delete(ctx: typer.Context, key: Key) -> None:
    """Delete a tag key (refused, with the list of uses, while anything uses it)."""
    with connect(ctx) as client:
        client.delete_tag(key)
    out(ctx).done({"deleted": key}, f"Deleted tag {key}")


def _change_line(resource: str, change: TagChange) -> str:
    key, value, previous = change.key, change.value, change.previous
    if value is None:
        return f"Removed {key}={previous} from {resource}"
    replaced = f" (replaced {key}={previous})" if previous is not None else ""
    return f"Assigned {key}={value} on {resource}{replaced}"


@app.command("assign")
def assign(
    ctx: typer.Context,
    resource: Resource,
    pairs: Annotated[list[str], typer.Argument(help="Tags to assign, as KEY=VALUE.")],
) -> None:
    """Assign tags on a database, table or column; a new value replaces the key's old one.

    Mesh admins assign any tag; domain admins on their domain's objects the values they hold
    ASSOCIATE on.
    """
    tags = tag_pairs(pairs)
    with connect(ctx) as client:
        answer = client.assign_tags(resource, tags)

    def human() -> None:
        changed = {change.key for change in answer.changes}
        for change in answer.changes:
            output.success(_change_line(answer.resource, change))
        for key in sorted(set(tags) - changed):
            output.line(f"{key}={tags[key]} was already assigned on {answer.resource}")

    out(ctx).show(answer, human)


@app.command("remove")
def remove(
    ctx: typer.Context,
    resource: Resource,
    keys: Annotated[list[str], typer.Argument(help="Tag keys to remove.")],
) -> None:
    """Remove tags (by key) from a database, table or column; it then inherits again."""
    with connect(ctx) as client:
        answer = client.remove_tags(resource, keys)

    def human() -> None:
        for change in answer.changes:
            output.success(_change_line(answer.resource, change))

    out(ctx).show(answer, human)


def tag_rows(tags: ObjectTags) -> list[dict[str, str]]:
    """Effective tags as rows: key, value and where the value comes from."""
    rows: list[dict[str, str]] = []
    for key, value in tags.effective.items():
        if key in tags.own:
            hidden = tags.overridden.get(key)
            source = "own"
            if hidden:
                source += f" (overrides {hidden.value} from {hidden.from_})"
        else:
            source = f"inherited from {tags.inherited[key].from_}"
        rows.append({"key": key, "value": value, "source": source})
    return rows


@app.command("show-resource")
def show_resource(ctx: typer.Context, resource: Resource) -> None:
    """Show the tags of a database, table or column: its own, inherited and overriding ones."""
    with connect(ctx) as client:
        view = client.resource_tags(resource)
    out(ctx).table(
        view, RESOURCE_COLUMNS, rows=tag_rows(view), title=view.resource, empty="No tags."
    )
