"""Meshes built through the CLI, as an operator would, and a CLI whose embedded hub stays open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lakemesh.sdk.embedded import open_transport
from tests.cli.conftest import Cli
from tests.factories.lake import Lake


@contextmanager
def embedded_hub_open(cli: Cli) -> Iterator[Cli]:
    """``cli`` with its home's embedded hub held open: every command in the block shares one
    hub and one app, as the commands of one long-lived process would (building the hub's app
    anew is most of what a command costs)."""
    transport = open_transport(Path(cli.home))
    try:
        yield cli
    finally:
        transport.close()


def build_small_mesh(folder: Path) -> tuple[Cli, Lake]:
    """A hub home (``folder/original``) with one producer domain crawled from real Parquet files
    (``folder/lake``), a tag, a mask, a data filter and grants, run through the CLI."""
    lake = Lake(folder / "lake")
    lake.parquet(
        "crm/customers/part-0.parquet",
        {"id": [1, 2, 3], "email": ["a@x", "b@y", "c@z"], "region": ["EU", "US", "EU"]},
    )
    lake.parquet("crm/orders/part-0.parquet", {"id": [1, 2], "amount": [10.5, 99.0]})
    cli = Cli(folder / "original")
    cli.run("init")
    with embedded_hub_open(cli):
        for args in (
            ("domain", "create", "sales", "--producer", "--admin", "user:sam@sales"),
            ("domain", "create", "marketing", "--consumer"),
            ("principal", "create", "user:mia@marketing"),
            ("location", "register", lake.uri, "--domain", "sales"),
            ("crawl", lake.uri_of("crm"), "--domain", "sales", "--database", "crm"),
            ("tag", "create", "sensitivity", "--values", "public,pii"),
            ("tag", "assign", "sales.crm", "sensitivity=public"),
            ("tag", "assign", "sales.crm.customers.email", "sensitivity=pii"),
            ("mask", "create", "pii_hash", "--on-tags", "sensitivity=pii", "--function", "hash"),
            ("filter", "create", "eu", "--table", "sales.crm.customers",
             "--rows", "region = 'EU'"),
            ("grant", "SELECT", "--on", "sales.crm.customers", "--filter", "eu",
             "--to", "user:mia@marketing"),
            ("grant", "SELECT", "--on-tags", "sensitivity=public", "--to", "user:mia@marketing"),
        ):  # fmt: skip
            cli.run(*args)
    return cli, lake
