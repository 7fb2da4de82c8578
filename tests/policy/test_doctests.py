"""The ``>>>`` examples in the policy modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "lakemesh.policy.bitsets",
    "lakemesh.policy.coverage",
    "lakemesh.policy.facts",
    "lakemesh.policy.grant_option",
    "lakemesh.policy.index",
    "lakemesh.policy.predicates",
    "lakemesh.policy.table_access",
    "lakemesh.policy.tag_expressions",
    "lakemesh.policy.tag_implication",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    results = doctest.testmod(importlib.import_module(name))
    assert results.failed == 0
    assert results.attempted > 0
