"""Options several command groups share, so each is spelled and explained one way."""

from __future__ import annotations

from typing import Annotated

import typer

DomainFilter = Annotated[str | None, typer.Option("--domain", help="Only this domain's.")]
"""``list`` commands: only the objects of one domain."""

DomainDescription = Annotated[str, typer.Option("--description", help="What the domain is about.")]
"""The description a new domain is created with."""

NewDescription = Annotated[str | None, typer.Option("--description", help="New description.")]
"""``update`` commands: replace the description (left as it is when not given)."""

Columns = Annotated[
    str | None, typer.Option("--columns", help="Only these columns, comma-separated.")
]
"""Access to a table limited to these columns (a data filter's, a subscription's)."""

ExcludeColumns = Annotated[
    str | None, typer.Option("--exclude-columns", help="Every column but these, comma-separated.")
]
"""Access to a table without these columns (a data filter's, a subscription's)."""

Limit = Annotated[int, typer.Option("--limit", min=1, help="At most this many.", show_default=True)]
"""``list`` and ``search`` commands: the most items to show (the hub may cap it further)."""
