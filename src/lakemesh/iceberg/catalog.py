"""Config, namespaces and tables of the Iceberg REST catalog, for one principal.

A warehouse is a domain (``?warehouse=sales``), whose name the config hands back as the path
prefix. Namespaces are the domain's databases (one level) the principal may DESCRIBE; tables
are their Iceberg tables it may DESCRIBE. Everything else reads as missing, so a principal
learns nothing about what it may not see. Other formats are not served as Iceberg tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lakemesh.authz import visible
from lakemesh.catalog.databases import list_databases
from lakemesh.catalog.tables import get_table_row, table_name
from lakemesh.catalog.tables import list_tables as catalog_tables
from lakemesh.errors import InvalidInputError, NotFoundError, StorageError
from lakemesh.iceberg.credentials import (
    client_config,
    storage_credentials,
    store_options,
    vend_refusal,
)
from lakemesh.iceberg.metadata import current_metadata
from lakemesh.iceberg.paging import page
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.store.schema import Database, Table

NAMESPACE_SEPARATOR = "\x1f"

ENDPOINTS = (
    "GET /v1/{prefix}/namespaces",
    "GET /v1/{prefix}/namespaces/{namespace}",
    "HEAD /v1/{prefix}/namespaces/{namespace}",
    "GET /v1/{prefix}/namespaces/{namespace}/tables",
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials",
    "POST /v1/{prefix}/namespaces/{namespace}/tables",
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
)
"""What this catalog serves, as ``GET /v1/config`` lists it (clients call nothing else)."""


def catalog_config(session: Session, *, warehouse: str | None) -> dict[str, Any]:
    """The answer of ``GET /v1/config``: the warehouse's prefix and the endpoints served.

    Raises:
        InvalidInputError: no warehouse was named.
        NotFoundError: ``Warehouse does not exist: x`` (domain names are not secret).
    """
    if not warehouse:
        raise InvalidInputError(
            "Name a warehouse: a domain of the mesh (warehouse=DOMAIN)",
            details={"iceberg_type": "BadRequestException"},
        )
    try:
        domain = get_domain_row(session, warehouse)
    except NotFoundError:
        raise NotFoundError(
            f"Warehouse does not exist: {warehouse} (a warehouse is a domain of the mesh)",
            details={"warehouse": warehouse, "iceberg_type": "NoSuchWarehouseException"},
        ) from None
    return {
        "defaults": {},
        "overrides": {"prefix": domain.name},
        "endpoints": list(ENDPOINTS),
    }


def list_namespaces(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    parent: str | None = None,
    page_token: str | None = None,
    page_size: int | None = None,
) -> dict[str, Any]:
    """The databases of ``domain`` the actor may DESCRIBE, as one-level namespaces."""
    get_domain_row(session, domain)
    if parent:
        namespace_database(session, actor, domain, parent)  # databases hold no namespaces
        return {"namespaces": []}
    names = [
        row.name
        for row in list_databases(session, domain=domain)
        if visible(session, actor, ResourceName(domain, row.name))
    ]
    chosen, token = page(names, page_token=page_token, page_size=page_size)
    return _paged({"namespaces": [[name] for name in chosen]}, token)


def load_namespace(
    session: Session, *, actor: Actor, domain: str, namespace: str
) -> dict[str, Any]:
    """A namespace's properties (the database's description and location).

    Raises:
        NotFoundError: the database does not exist or the actor may not DESCRIBE it.
    """
    row = namespace_database(session, actor, domain, namespace)
    properties = {"comment": row.description} if row.description else {}
    if row.location:
        properties["location"] = row.location
    return {"namespace": [row.name], "properties": properties}


def list_tables(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    page_token: str | None = None,
    page_size: int | None = None,
) -> dict[str, Any]:
    """The Iceberg tables of a namespace the actor may DESCRIBE."""
    database = namespace_database(session, actor, domain, namespace)
    names = [
        row.name
        for row in catalog_tables(session, domain=domain, database=database.name)
        if row.format == "iceberg"
        and visible(session, actor, ResourceName(domain, row.database.name, row.name))
    ]
    chosen, token = page(names, page_token=page_token, page_size=page_size)
    identifiers = [{"namespace": [database.name], "name": name} for name in chosen]
    return _paged({"identifiers": identifiers}, token)


def load_table(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    table: str,
    vended_credentials: bool = False,
) -> dict[str, Any]:
    """``LoadTableResult``: the table's current metadata file, read from its storage.

    With ``vended_credentials`` (the client sent ``X-Iceberg-Access-Delegation:
    vended-credentials``) the answer carries read credentials for the table when the actor's
    SELECT on it is whole; otherwise it carries the metadata only (DESCRIBE is enough for that).

    Raises:
        NotFoundError: no such Iceberg table, or the actor may not DESCRIBE it.
        StorageError: the metadata cannot be read (the reason named).
    """
    row = table_row(session, actor=actor, domain=domain, namespace=namespace, table=table)
    location, metadata = current_metadata(session, row)
    on_s3 = location.startswith("s3://")
    config = client_config(store_options(session)) if on_s3 else {}
    answer: dict[str, Any] = {"metadata-location": location, "metadata": metadata, "config": config}
    if vended_credentials and vend_refusal(session, actor=actor, row=row) is None:
        credentials = storage_credentials(session, actor=actor, row=row)
        if credentials:
            _check_covered(location, credentials[0]["prefix"], row)
            answer["storage-credentials"] = credentials
            answer["config"] = {**config, **credentials[0]["config"]}
    return answer


def table_credentials(
    session: Session, *, actor: Actor, domain: str, namespace: str, table: str
) -> dict[str, Any]:
    """``LoadCredentialsResponse``: fresh read credentials for a table (refresh).

    Raises:
        NotFoundError: no such Iceberg table, or the actor may not DESCRIBE it.
        AccessDeniedError: the actor's SELECT is not whole (the reason named).
    """
    row = table_row(session, actor=actor, domain=domain, namespace=namespace, table=table)
    credentials = storage_credentials(session, actor=actor, row=row)
    if credentials:
        location, _ = current_metadata(session, row)
        _check_covered(location, credentials[0]["prefix"], row)
    return {"storage-credentials": credentials}


def _check_covered(metadata_location: str, prefix: str, row: Table) -> None:
    """Refuse credentials whose prefix does not hold the table's metadata (clients would read
    it elsewhere, with credentials of their own)."""
    if not metadata_location.startswith(prefix.rstrip("/") + "/"):
        raise StorageError(
            f"The metadata of table {table_name(row)} lies outside its location {prefix}: "
            "no credentials are vended for it",
            details={"table": str(table_name(row))},
        )


def table_row(session: Session, *, actor: Actor, domain: str, namespace: str, table: str) -> Table:
    """The Iceberg table ``namespace.table`` of ``domain`` the actor may DESCRIBE.

    Raises:
        NotFoundError: ``Table does not exist: d.db.t`` (also for one the actor may not see, or
            of another format).
    """
    database = namespace_database(session, actor, domain, namespace)
    name = ResourceName(domain, database.name, table)
    missing = NotFoundError(
        f"Table does not exist: {name}",
        details={"table": str(name), "iceberg_type": "NoSuchTableException"},
    )
    if not visible(session, actor, name):
        raise missing
    try:
        row = get_table_row(session, name)
    except NotFoundError:
        raise missing from None
    if row.format != "iceberg":
        raise missing
    return row


def namespace_database(session: Session, actor: Actor, domain: str, namespace: str) -> Database:
    """The database a namespace names, when the actor may DESCRIBE it.

    Raises:
        NotFoundError: ``Namespace does not exist: d.ns`` (also for one the actor may not see).
    """
    name = ResourceName(domain, namespace)
    missing = NotFoundError(
        f"Namespace does not exist: {domain}.{namespace.replace(NAMESPACE_SEPARATOR, '.')}",
        details={"namespace": namespace, "iceberg_type": "NoSuchNamespaceException"},
    )
    if NAMESPACE_SEPARATOR in namespace or not visible(session, actor, name):
        raise missing
    rows = [row for row in list_databases(session, domain=domain) if row.name == namespace]
    if not rows:
        raise missing
    return rows[0]


def _paged(body: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token is not None:
        body["next-page-token"] = token
    return body
