"""One pass per query: a statement is parsed once, each table resolved, read and listed once.

The counters wrap the real functions where the query path calls them (every module that holds a
reference), so what is counted is what the service does, end to end on a real hub.
"""

from __future__ import annotations

import collections
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlglot.optimizer import scope

from lakemesh.authz import decisions
from lakemesh.catalog import tables as catalog_tables
from lakemesh.model import names
from lakemesh.query import resolution, service, validate
from tests.conftest import HubEnv
from tests.factories.query import (
    CUSTOMERS,
    MIA,
    ORDERS,
    STORES,
    GovernedMesh,
    build_governed_mesh,
)

SQL = (
    f"SELECT c.name, o.order_id, s.city FROM {ORDERS} o"
    f" JOIN {CUSTOMERS} c ON o.customer_id = c.customer_id JOIN {STORES} s ON s.region = o.region"
)


@pytest.fixture
def mesh(sqlite_env: HubEnv, tmp_path: Path) -> GovernedMesh:
    return build_governed_mesh(sqlite_env, tmp_path / "lake")


Counted = collections.Counter[str]


Counter = tuple[Callable[..., Any], Callable[..., bool]]


def every_call(*args: Any, **kwargs: Any) -> bool:
    return True


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch, functions: dict[str, Counter]) -> Iterator[Counted]:
    """Count the calls of each function that its predicate accepts, wherever a lakemesh, sqlglot
    or os module refers to the function."""
    counts: Counted = collections.Counter()
    for label, (function, accepts) in functions.items():

        def counted(
            *args: Any, _label: str = label, _f: Any = function, _accepts: Any = accepts, **kw: Any
        ) -> Any:
            if _accepts(*args, **kw):
                counts[_label] += 1
            return _f(*args, **kw)

        functools.update_wrapper(counted, function)
        for module in list(sys.modules.values()):
            module_name = getattr(module, "__name__", "")
            if not module_name.startswith(("lakemesh", "sqlglot", "os", "posixpath")):
                continue
            for attribute, value in list(vars(module).items()):
                if value is function:
                    monkeypatch.setattr(module, attribute, counted)
    yield counts


def test_a_new_statement_is_parsed_resolved_and_measured_once(
    mesh: GovernedMesh, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = mesh.actor(MIA)
    functions: dict[str, Counter] = {
        "statement parses": (validate.parse_statement, lambda sql, **_: sql == SQL),
        "scope analyses": (scope.build_scope, every_call),
        "table rows read": (catalog_tables.get_table_row, every_call),
        "decisions": (decisions.decide, every_call),
        "file listings": (resolution.data_files, every_call),
        "files measured": (os.path.getsize, every_call),
        "actor's name parsed": (names.parse_principal, lambda ref: ref == actor.ref),
    }
    with counting(monkeypatch, functions) as counts:
        service.run(mesh.hub, actor=actor, sql=SQL)
        first = dict(counts)
        counts.clear()
        service.run(mesh.hub, actor=actor, sql=SQL)
        again = dict(counts)
    assert first == {
        "statement parses": 1,
        "scope analyses": 2,  # the catalog references, and the columns read (one qualify)
        "table rows read": 3,
        "decisions": 3,
        "file listings": 3,
        "actor's name parsed": 1,
    }
    # A repeated statement is neither parsed nor analysed again; authorization runs every time.
    assert again == {
        "table rows read": 3,
        "decisions": 3,
        "file listings": 3,
    }
