"""The ODCS contract examples run (migrations are checked in tests/store/test_migrations.py)."""

from __future__ import annotations

import doctest

from lakemesh.contracts import odcs


def test_contract_examples_run() -> None:
    assert doctest.testmod(odcs).failed == 0
