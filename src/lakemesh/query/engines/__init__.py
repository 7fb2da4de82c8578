"""Query engines behind one interface, imported lazily by name (DuckDB built in, Spark optional)."""

from __future__ import annotations

import importlib
from typing import Any

from lakemesh.errors import InvalidInputError, QueryCancelledError
from lakemesh.query.engines.base import (
    ENGINE_STORAGE,
    Cancellation,
    EngineResult,
    EngineStream,
    QueryEngine,
    QueryLimits,
    check_storage,
)

# name -> (module, class, extra to install when the module's dependencies are missing)
AVAILABLE_ENGINES: dict[str, tuple[str, str, str | None]] = {
    "duckdb": ("lakemesh.query.engines.duckdb", "DuckDBEngine", None),
    "spark": ("lakemesh.query.engines.spark", "SparkEngine", "spark"),
}


def load_engine(name: str, **options: Any) -> QueryEngine:
    """Instantiate the engine called ``name`` with ``options``.

    Raises:
        InvalidInputError: no such engine, or its optional dependencies are not installed.
    """
    if name not in AVAILABLE_ENGINES:
        raise InvalidInputError(
            f"Unknown query engine: {name} (available: {', '.join(sorted(AVAILABLE_ENGINES))})",
            details={"engine": name},
        )
    module_name, class_name, extra = AVAILABLE_ENGINES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            raise InvalidInputError(
                f"Query engine not available in this version: {name}", details={"engine": name}
            ) from e
        hint = f" (pip install 'lakemesh[{extra}]')" if extra else ""
        raise InvalidInputError(
            f"Query engine {name} needs {e.name}{hint}", details={"engine": name}
        ) from e
    engine: QueryEngine = getattr(module, class_name)(**options)
    return engine


__all__ = [
    "AVAILABLE_ENGINES",
    "ENGINE_STORAGE",
    "Cancellation",
    "EngineResult",
    "EngineStream",
    "QueryCancelledError",
    "QueryEngine",
    "QueryLimits",
    "check_storage",
    "load_engine",
]
