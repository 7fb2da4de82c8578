"""The ``>>>`` examples in the storage modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "lakemesh.storage",
    "lakemesh.storage.registry",
    "lakemesh.storage.formats",
    "lakemesh.storage.partitions",
    "lakemesh.storage.types",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    results = doctest.testmod(importlib.import_module(name))
    assert results.failed == 0
    assert results.attempted > 0
