"""Producers' writes through the Iceberg REST catalog: create a table, drop it (commits to it:
:mod:`lakemesh.iceberg.commits`; what both leave in the catalog and the storage:
:mod:`lakemesh.iceberg.registration`).

The hub keeps each table's current metadata file in the catalog (its pointer, the table property
``iceberg.metadata-location``) and moves it in the same transaction that checks the commit's
requirements against it, with the table's catalog row locked: of two commits made on the same
base, the second finds its requirements broken and gets 409 (``CommitFailedException``), and
retries on the new metadata as Iceberg clients do. The metadata is built with pyiceberg's
implementation of the spec's updates (the ``tables`` extra); the data files are the client's.

Who may write (as for every table of the catalog, :func:`lakemesh.catalog.tables.require_change`):
the domain's admins, and principals granted CREATE_TABLE on the namespace (creating; the creator
then holds ALL on its table), INSERT on a table (a commit that only adds snapshots) or ALTER
(any other commit) or DROP. A creator that is not an admin puts its table at the default
location unless it holds DATA_LOCATION_ACCESS, and never on another table's files. A staged
create (``stage-create``) registers nothing until the client commits with ``assert-create``.
Each commit is audited (``table.commit``) and its snapshots are recorded at once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.catalog.tables import (
    drop_table as drop_catalog_table,
)
from lakemesh.catalog.tables import require_change
from lakemesh.iceberg.catalog import namespace_database, table_row
from lakemesh.iceberg.credentials import storage_credentials, vend, vend_refusal
from lakemesh.iceberg.metadata import CACHE
from lakemesh.iceberg.registration import (
    attach_credentials,
    check_new_table,
    default_location,
    register,
)
from lakemesh.iceberg.spec import parse_request, pyiceberg
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission


def create_table(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    body: dict[str, Any],
    vended_credentials: bool = False,
) -> dict[str, Any]:
    """Create an Iceberg table: its first metadata file and its catalog table; or, with
    ``stage-create``, only the metadata, for the client to commit with ``assert-create``.

    With ``vended_credentials`` the answer carries credentials for the new table's prefix:
    read-write for its creator.

    Raises:
        InvalidInputError: the request is not a valid ``CreateTableRequest``.
        NotFoundError: the namespace does not exist or the actor may not DESCRIBE it.
        AccessDeniedError: the actor lacks CREATE_TABLE on the namespace, or the location is
            not one it may put a table at (the reason named).
        AlreadyExistsError: the table exists (409).
    """
    rest = pyiceberg("pyiceberg.catalog.rest")
    metadata_module = pyiceberg("pyiceberg.table.metadata")
    partitioning = pyiceberg("pyiceberg.partitioning")
    sorting = pyiceberg("pyiceberg.table.sorting")
    # The spec's optional fields (pyiceberg's model wants them present).
    defaults = {"location": None, "partition-spec": None, "write-order": None}
    request = parse_request(rest.CreateTableRequest, {**defaults, **body})
    database = namespace_database(session, actor, domain, namespace)
    name = ResourceName(domain, database.name, request.name.lower())
    require_change(
        session,
        actor,
        Permission.CREATE_TABLE,
        ResourceName(domain, database.name),
        action=Action.TABLE_CREATE,
    )
    default = default_location(session, domain, database.location, namespace, name)
    location = (request.location or default).rstrip("/")
    metadata = metadata_module.new_table_metadata(
        schema=request.table_schema,
        partition_spec=request.partition_spec or partitioning.UNPARTITIONED_PARTITION_SPEC,
        sort_order=request.write_order or sorting.UNSORTED_SORT_ORDER,
        location=location,
        properties=request.properties,
    )
    document = json.loads(metadata.model_dump_json())
    if request.stage_create:
        # Nothing is registered until the client commits; the location is checked now, since
        # the credentials for it are vended now.
        check_new_table(session, actor=actor, name=name, location=location, default=default)
        answer: dict[str, Any] = {"metadata": document, "config": {}}
        if vended_credentials:
            attach_credentials(
                answer, vend(session, actor=actor, table=name, location=location, write=True)
            )
        return answer
    row, metadata_uri = register(
        session, actor=actor, name=name, document=document, default=default
    )
    answer = {"metadata-location": metadata_uri, "metadata": document, "config": {}}
    if vended_credentials and vend_refusal(session, actor=actor, row=row) is None:
        attach_credentials(answer, storage_credentials(session, actor=actor, row=row))
    return answer


def drop_table(session: Session, *, actor: Actor, domain: str, namespace: str, table: str) -> None:
    """Remove an Iceberg table from the catalog (its files stay where they are)."""
    row = table_row(session, actor=actor, domain=domain, namespace=namespace, table=table)
    drop_catalog_table(session, actor=actor, name=ResourceName(domain, row.database.name, row.name))
    CACHE.forget(row.location)
