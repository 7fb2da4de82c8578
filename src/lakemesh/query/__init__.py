"""The governed SQL gateway: refuse, resolve, secure and run queries in a sandboxed engine.

The service layer authorizes each table through the policy engine and hands :func:`run_query` a
resolver that returns a :class:`TableAccess` per table name; everything else happens here.
"""

from __future__ import annotations

from lakemesh.query.engines import (
    AVAILABLE_ENGINES,
    Cancellation,
    EngineResult,
    QueryCancelledError,
    QueryEngine,
    QueryLimits,
    load_engine,
)
from lakemesh.query.execution import QueryResult
from lakemesh.query.formats import to_arrow_ipc, to_csv, to_json
from lakemesh.query.gateway import plan_query, run_query
from lakemesh.query.rewrite import RewrittenQuery, TableRead, rewrite
from lakemesh.query.table import Resolver, TableAccess
from lakemesh.query.validate import parse_statement

__all__ = [
    "AVAILABLE_ENGINES",
    "Cancellation",
    "EngineResult",
    "QueryCancelledError",
    "QueryEngine",
    "QueryLimits",
    "QueryResult",
    "Resolver",
    "RewrittenQuery",
    "TableAccess",
    "TableRead",
    "load_engine",
    "parse_statement",
    "plan_query",
    "rewrite",
    "run_query",
    "to_arrow_ipc",
    "to_csv",
    "to_json",
]
