"""The Iceberg REST catalog (Apache Iceberg REST spec) over the mesh's catalog: read side.

A warehouse is a domain, a namespace one of its databases, and the tables are its Iceberg
tables. A principal sees only the namespaces and tables it may DESCRIBE (the authorization
kernel decides, as for every other read of the catalog); the HTTP routes live in
:mod:`lakemesh.api.routes.iceberg`.
"""

from __future__ import annotations

from lakemesh.iceberg.catalog import (
    ENDPOINTS,
    catalog_config,
    list_namespaces,
    list_tables,
    load_namespace,
    load_table,
    table_credentials,
    table_row,
)
from lakemesh.iceberg.commits import commit_table
from lakemesh.iceberg.credentials import vend_refusal
from lakemesh.iceberg.oauth import exchange_token
from lakemesh.iceberg.writes import create_table, drop_table

__all__ = [
    "ENDPOINTS",
    "catalog_config",
    "commit_table",
    "create_table",
    "drop_table",
    "exchange_token",
    "list_namespaces",
    "list_tables",
    "load_namespace",
    "load_table",
    "table_credentials",
    "table_row",
    "vend_refusal",
]
