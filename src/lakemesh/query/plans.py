"""Caches of parsed statements and governed plans: planning costs milliseconds of sqlglot work.

A plan is a pure function of the SQL text, the engine's dialect and scan, and the *access shape*
of every table the statement reads (files, columns, cell pairs with bound predicates, masks). The
plan cache is keyed by exactly that, so a hit is the plan a fresh rewrite would produce; nothing of
it depends on the principal beyond its access shape. Only successful plans are cached: every
refusal and denial is decided again on each query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlglot import exp

from lakemesh.query.table import TableAccess

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

STATEMENT_CACHE_SIZE = 512
PLAN_CACHE_SIZE = 1024


class LRUCache(Generic[K, V]):
    """A small thread-safe least-recently-used map."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class ParsedStatement:
    """A validated statement, the distinct table names it reads (as written, in order) and where
    its catalog references are among its table nodes.

    Shared between queries: never modify ``statement`` (the rewriter works on a copy).
    """

    statement: exp.Expr
    table_names: tuple[tuple[str, ...], ...]
    positions: tuple[int, ...]


def access_key(table: TableAccess) -> Hashable:
    """Everything of ``table`` a plan depends on, as a hashable value."""
    access = table.access
    return (
        table.name,
        table.format,
        table.location,
        table.files,
        table.sizes,
        table.columns,
        table.partition_columns,
        access.pairs,
        tuple(sorted(access.masks.items())),
        table.proven,
    )
