"""Test modules that run on one pytest-xdist worker together, because they share something that
is costly to start once per worker.

``make test`` runs ``pytest -n auto --dist loadfile``: each module goes to whichever worker is
free. A local Spark is a JVM per process (a minute to start and warm up on a busy machine): the
modules that start one run on one worker, so a run starts one Spark, not one per worker. The
browser modules share a served demo mesh and one Chromium per worker the same way.
"""

from __future__ import annotations

from typing import Any

SPARK = "local Spark"
BROWSER = "browser"

GROUPS: dict[str, str] = {
    "tests/query/test_open_tables.py": SPARK,
    "tests/query/test_s3.py": SPARK,
    "tests/query/test_service_workgroups.py": SPARK,
    "tests/query/test_spark.py": SPARK,
    "tests/query/test_tpch.py": SPARK,
}
"""Module (its node id's path) to the group it runs in."""

BROWSER_FOLDER = "tests/portal/browser/"


def group_of(module: str) -> str:
    """The scope ``module`` runs in under ``--dist loadfile``: its group's, else its own."""
    if module.startswith(BROWSER_FOLDER):
        return BROWSER
    return GROUPS.get(module, module)


def grouped_scheduler(config: Any, log: Any) -> Any:
    """xdist's ``loadfile`` scheduler, with the modules of a group in one scope."""
    from xdist.scheduler import LoadFileScheduling

    class GroupedFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(super()._split_scope(nodeid))

    return GroupedFileScheduling(config, log)
