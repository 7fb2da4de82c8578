"""Vended credentials: short-lived storage credentials for exactly one table.

Only a principal whose SELECT on the table is whole (every column, every row, no mask) gets
them: anyone else would read through them what its grants hide, so it is refused with the
reason and pointed at governed SQL. They read the table's prefix, and write new objects there
for a principal that may also INSERT into it (a producer). The credentials come from the store's STS
(:mod:`lakemesh.storage.sts`): the store itself refuses other prefixes, other buckets, writes
and, after at most 15 minutes, everything. Every vend is audited.
"""

from __future__ import annotations

from datetime import timedelta
from hashlib import sha256
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import decide
from lakemesh.catalog.tables import table_name
from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.storage import S3Options
from lakemesh.storage.registry import scheme_of
from lakemesh.storage.s3 import S3_SCHEMES
from lakemesh.storage.sts import MAX_SECONDS, assume_read_session
from lakemesh.store.schema import Table

GOVERNED_SQL = "read it through governed SQL instead (lakemesh query, POST /api/v1/queries)"


def vend_refusal(session: Session, *, actor: Actor, row: Table) -> str | None:
    """Why ``actor`` would not be vended credentials for ``row``; None when it would be."""
    name = table_name(row)
    decision = decide(session, actor=actor, permission=Permission.SELECT, resource=name)
    if not decision.allowed or decision.access is None or not decision.access.columns:
        return f"it lacks SELECT on {name}"
    return decision.access.vend_refusal(frozenset(column.name for column in row.columns))


def storage_credentials(session: Session, *, actor: Actor, row: Table) -> list[dict[str, Any]]:
    """The ``storage-credentials`` of a load-table or credentials answer for ``row``: one
    session on the table's prefix, read-only unless the actor may also INSERT (none for a table
    on local storage).

    Raises:
        AccessDeniedError: the actor's SELECT is not whole (the reason named, audited).
        InvalidInputError: vending is not configured on this hub.
        StorageError: the store refused to vend (named).
    """
    name = table_name(row)
    reason = vend_refusal(session, actor=actor, row=row)
    if reason is not None:
        raise actor.deny(
            f"{actor.ref} is not vended credentials for {name}: {reason}; {GOVERNED_SQL}",
            action=Action.CREDENTIALS_VEND,
            resource=str(name),
        )
    # A writer (INSERT) also writes new objects under the table's prefix, never deletes them.
    writes = decide(session, actor=actor, permission=Permission.INSERT, resource=name).allowed
    return vend(session, actor=actor, table=name, location=row.location, write=writes)


def vend(
    session: Session, *, actor: Actor, table: ResourceName, location: str, write: bool
) -> list[dict[str, Any]]:
    """One audited STS session on ``location`` (the files of ``table``) for ``actor``, who the
    caller has checked may have it; none for local storage.

    Raises:
        InvalidInputError: vending is not configured on this hub.
        StorageError: the store refused to vend, or vended past 15 minutes (named).
    """
    name = str(table)
    if scheme_of(location) not in S3_SCHEMES:
        return []  # local files: the client reads them as the operating system lets it
    properties = _properties(session)
    options = S3Options.resolve(properties)
    role = properties.get("s3.vend-role-arn")
    if not role:
        raise InvalidInputError(
            f"Credential vending is not configured on this hub (set vend-role-arn in "
            f"[storage.s3] of config.toml); {GOVERNED_SQL}",
            details={"table": name},
        )
    duration = _duration(properties.get("s3.vend-duration-seconds", str(MAX_SECONDS)))
    vended = assume_read_session(
        options,
        role_arn=role,
        session_name=f"lakemesh-{actor.id}-{sha256(name.encode()).hexdigest()[:16]}",
        prefixes=[location],
        duration_seconds=duration,
        write=write,
    )
    if vended.expires_at > clock.now() + timedelta(seconds=MAX_SECONDS + 5):
        # The store chose a longer session than the hub vends: fail closed.
        raise StorageError(
            f"The store vended credentials for {name} valid past 15 minutes (until "
            f"{vended.expires_at.isoformat()}); set its session length to 15 minutes or less",
            details={"table": name},
        )
    audit.record(
        session,
        actor=actor.ref,
        action=Action.CREDENTIALS_VEND,
        resource=name,
        details={
            "principal": actor.ref,
            "prefix": location,
            "access": "read-write" if write else "read",
            "expires_at": vended.expires_at.isoformat(),
        },
    )
    parts = (quote(part or "", safe="") for part in (table.domain, table.database, table.table))
    refresh = "v1/{}/namespaces/{}/tables/{}/credentials".format(*parts)
    config = {
        **client_config(options),
        "s3.access-key-id": vended.key,
        "s3.secret-access-key": vended.secret,
        "s3.session-token": vended.token,
        "s3.session-token-expires-at-ms": str(int(vended.expires_at.timestamp() * 1000)),
        "client.refresh-credentials-endpoint": refresh,
    }
    return [{"prefix": location, "config": config}]


def client_config(options: S3Options) -> dict[str, str]:
    """Where an engine finds the store (no credentials): endpoint, addressing, region."""
    config = {"client.region": options.region or "us-east-1"}
    if options.endpoint_url:
        config["s3.endpoint"] = options.endpoint_url
        config["s3.path-style-access"] = str(options.effective_url_style == "path").lower()
    return config


def store_options(session: Session) -> S3Options:
    """The hub's S3 options (hub settings over the environment)."""
    return S3Options.resolve(_properties(session))


def _properties(session: Session) -> dict[str, str]:
    hub = session.info.get("hub")
    return hub.storage_properties() if hub is not None else {}


def _duration(text: str) -> int | None:
    """``s3.vend-duration-seconds``: a number of seconds up to 900, or ``store`` (the store's
    own session length, checked to be 15 minutes or less)."""
    if text.strip().lower() == "store":
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_SECONDS:
        raise InvalidInputError(
            f"Invalid vend-duration-seconds in [storage.s3]: {text!r} "
            f"(1 to {MAX_SECONDS}, or store)",
            details={"setting": "s3.vend-duration-seconds"},
        )
    return int(text)
