"""The CLI's startup imports only what every command needs (issue 10: CLI startup time)."""

from __future__ import annotations

import json
import subprocess
import sys

LOADED = """
import json, sys
import lakemesh.cli.main
print(json.dumps(sorted(sys.modules)))
"""

# The hub's layers and heavy libraries: an embedded command loads them when it opens the hub,
# a remote one never. cli/webhooks reads the event kinds; the notifications package must not
# bring the store and the audit chain with them.
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
    heavy = [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]
    assert heavy == []
