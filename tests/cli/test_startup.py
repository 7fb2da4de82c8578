"""The CLI's startup imports only what every command needs (issue 10: CLI startup time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Cli
from tests.factories.lake import Lake

LOADED = """
import json, sys
import lakemesh.cli.main
print(json.dumps(sorted(sys.modules)))
"""

# The hub's layers and heavy libraries: an embedded command loads them when it opens the hub,
# a remote one never. cli/webhooks reads the event kinds; the notifications package must not
# bring the store and the audit chain with them. The SDK returns the API's models, so
# lakemesh.api.schemas (pydantic alone) loads, but not the app, its routes or the web framework.
MODELS = ("lakemesh.api", "lakemesh.api.schemas")
HEAVY = (
    "lakemesh.api",
    "lakemesh.audit",
    "lakemesh.authz",
    "lakemesh.hub",
    "lakemesh.notifications.events",
    "lakemesh.store",
    "fastapi",
    "sqlalchemy",
    "duckdb",
    "pyarrow",
)


def test_importing_the_cli_loads_no_hub_layer_or_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout)
    assert "lakemesh.notifications.kinds" in loaded  # what cli/webhooks does need
    heavy = [
        m
        for m in _under(loaded, HEAVY)
        if not (m in MODELS or m.startswith("lakemesh.api.schemas."))
    ]
    assert heavy == []
    assert "lakemesh.api.schemas.tables" in loaded  # what the SDK returns


EMBEDDED = """
import atexit, json, sys
from lakemesh.cli.main import main
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
main()
"""

# What an embedded `table list` must not load: the portal (Jinja2, the OIDC client and its
# cryptography), the query engine and the data libraries, the routers of other resources; the
# row-filter grammar (sqlglot: only a decision with a row filter binds one), fsspec (only reading
# files needs a filesystem), and `table diff`'s schema review with the contracts and their YAML.
NOT_FOR_TABLE_LIST = (
    "lakemesh.portal.app",
    "lakemesh.portal.pages",
    "lakemesh.portal.routes",
    "lakemesh.api.routes.queries",
    "lakemesh.api.routes.iceberg",
    "lakemesh.api.routes.domains",
    "lakemesh.query",
    "lakemesh.policy.predicates",
    "lakemesh.catalog.table_diff",
    "lakemesh.catalog.schema_review",
    "lakemesh.contracts",
    "jinja2",
    "authlib",
    "cryptography",
    "duckdb",
    "pyarrow",
    "sqlglot",
    "fsspec",
    "yaml",
)


def test_an_embedded_table_list_loads_only_the_tables_router(
    admin_cli: Cli, lake: Lake, tmp_path: Path
) -> None:
    lake.parquet("sales/orders/part-0.parquet", {"id": [1, 2], "amount": [9.5, 3.0]})
    admin_cli.run("domain", "create", "sales", "--producer")
    admin_cli.run("location", "register", str(lake.root / "sales"), "--domain", "sales")
    admin_cli.run("crawl", str(lake.root / "sales"), "--domain", "sales", "--database", "shop")
    out = tmp_path / "modules.json"
    command = ["--home", str(admin_cli.home), "--json", "table", "list"]
    done = subprocess.run(
        [sys.executable, "-c", EMBEDDED, str(out), *command],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("LAKEMESH_")},
    )
    assert done.returncode == 0, done.stderr
    assert [t["name"] for t in json.loads(done.stdout)] == ["sales.shop.orders"]
    loaded = json.loads(out.read_text())
    assert "lakemesh.api.routes.tables" in loaded  # the hub did answer in this process
    assert _under(loaded, NOT_FOR_TABLE_LIST) == []


def _under(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages)]
