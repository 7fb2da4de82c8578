"""Workgroups: where queries run (engine) and the limits they obey. Mesh admins manage them.

Every authenticated principal may list workgroups and run queries in any of them; the default
workgroup ``primary`` always exists and cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.durations import format_duration, parse_duration
from lakemesh.model.names import check_identifier
from lakemesh.model.spark_remote import redact_spark_token
from lakemesh.model.workgroup_limits import LIMIT_FIELDS, limits_of
from lakemesh.query.engines import AVAILABLE_ENGINES, QueryLimits
from lakemesh.query.engines.limits import memory_size
from lakemesh.store.schema import Workgroup

DEFAULT_WORKGROUP = "primary"
DEFAULT_RETENTION = timedelta(days=7)
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_MAX_CONCURRENT = 8
DEFAULT_MAX_CONCURRENT_PER_PRINCIPAL = 2
DEFAULT_MEMORY_BYTES = 2 * 1024**3
DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_RESULT_BYTES = 100 * 1024**2
"""What a new workgroup gets (the default one too): queries at once, in all and per principal,
and a query's memory, rows and result size."""
MIN_MEMORY_BYTES = 64 * 1024**2

UPDATABLE = (
    "engine",
    "description",
    *LIMIT_FIELDS,
    "max_memory_bytes",
    "result_retention",
    "spark_remote",
)


@dataclass(frozen=True)
class WorkgroupSettings:
    """A workgroup as a query sees it, detached from the store (queries run outside any
    transaction)."""

    name: str
    engine: str
    max_bytes_per_query: int | None = None
    max_bytes_per_month: int | None = None
    max_concurrent: int | None = None
    max_concurrent_per_principal: int | None = None
    timeout_seconds: int | None = None
    max_memory_bytes: int = DEFAULT_MEMORY_BYTES
    max_rows: int | None = None
    max_result_bytes: int | None = None
    result_retention: timedelta = DEFAULT_RETENTION
    spark_remote: str | None = None

    @classmethod
    def of(cls, row: Workgroup) -> WorkgroupSettings:
        limits: dict[str, Any] = limits_of(row)
        limits["max_memory_bytes"] = limits["max_memory_bytes"] or DEFAULT_MEMORY_BYTES
        return cls(
            name=row.name,
            engine=row.engine,
            result_retention=timedelta(seconds=row.result_retention_seconds),
            spark_remote=row.spark_remote,
            **limits,
        )

    def limits(self) -> QueryLimits:
        """The per-query limits the engine enforces."""
        timeout = self.timeout_seconds if self.timeout_seconds else DEFAULT_TIMEOUT_SECONDS
        return QueryLimits(
            timeout_seconds=timeout,
            memory_limit=memory_size(self.max_memory_bytes),
            max_bytes_scanned=self.max_bytes_per_query,
            max_rows=self.max_rows,
            max_result_bytes=self.max_result_bytes,
        )

    def engine_options(self) -> dict[str, Any]:
        """Keyword options of :func:`lakemesh.query.load_engine` for this workgroup's engine."""
        if self.engine == "spark" and self.spark_remote:
            return {"remote": self.spark_remote}
        return {}


def get_workgroup_row(session: Session, name: str) -> Workgroup:
    """The workgroup called ``name``."""
    row = session.execute(select(Workgroup).where(Workgroup.name == name)).scalar()
    if row is None:
        raise NotFoundError(f"Workgroup does not exist: {name}", details={"workgroup": name})
    return row


def workgroup_settings(session: Session, name: str | None) -> WorkgroupSettings:
    """The settings of workgroup ``name`` (``primary`` when None)."""
    return WorkgroupSettings.of(get_workgroup_row(session, name or DEFAULT_WORKGROUP))


def list_workgroups(session: Session) -> Sequence[Workgroup]:
    """Every workgroup, by name."""
    return session.execute(select(Workgroup).order_by(Workgroup.name)).scalars().all()


def retention_text(row: Workgroup) -> str:
    """How long the workgroup keeps a background query's result, as ``7d``."""
    return format_duration(timedelta(seconds=row.result_retention_seconds))


def _check_engine(engine: str) -> str:
    if engine not in AVAILABLE_ENGINES:
        raise InvalidInputError(
            f"Unknown query engine: {engine} (available: {', '.join(sorted(AVAILABLE_ENGINES))})",
            details={"engine": engine},
        )
    return engine


def _check_limit(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInputError(
            f"Invalid {field}: {value!r} (expected a positive whole number, or null for no limit)",
            details={"field": field, "value": value},
        )
    return int(value)


def _check_memory(value: Any) -> int:
    """A query's memory limit: at least 64 MiB (a worker needs some); None is the default."""
    memory = _check_limit("max_memory_bytes", value)
    if memory is None:
        return DEFAULT_MEMORY_BYTES
    if memory < MIN_MEMORY_BYTES:
        raise InvalidInputError(
            f"Invalid max_memory_bytes: {memory} (at least {MIN_MEMORY_BYTES} bytes, 64 MiB)",
            details={"field": "max_memory_bytes", "value": memory},
        )
    return memory


def _check_remote(engine: str, remote: str | None) -> str | None:
    if remote is None:
        return None
    if not remote.startswith("sc://"):
        raise InvalidInputError(
            f"Invalid Spark Connect address: {redact_spark_token(remote)!r} (expected sc://HOST:PORT)",
            details={"spark_remote": redact_spark_token(remote)},
        )
    if engine != "spark":
        raise InvalidInputError(
            f"A Spark Connect address needs the spark engine, not {engine}",
            details={"engine": engine, "spark_remote": redact_spark_token(remote)},
        )
    return remote


def _audited(settings: dict[str, Any]) -> dict[str, Any]:
    """Workgroup settings as the audit trail keeps them: a Spark Connect token redacted."""
    if settings.get("spark_remote") is not None:
        settings["spark_remote"] = redact_spark_token(str(settings["spark_remote"]))
    return settings


def _retention_seconds(text: str) -> int:
    return int(parse_duration(text).total_seconds())


def create_workgroup(
    session: Session,
    *,
    actor: Actor,
    name: str,
    engine: str = "duckdb",
    description: str = "",
    max_bytes_per_query: int | None = None,
    max_bytes_per_month: int | None = None,
    max_concurrent: int | None = DEFAULT_MAX_CONCURRENT,
    max_concurrent_per_principal: int | None = DEFAULT_MAX_CONCURRENT_PER_PRINCIPAL,
    timeout_seconds: int | None = DEFAULT_TIMEOUT_SECONDS,
    max_memory_bytes: int | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
    result_retention: str | None = None,
    spark_remote: str | None = None,
) -> Workgroup:
    """Create a workgroup (mesh admins only); a limit left out gets its default, None lifts it
    (``max_memory_bytes`` None is the default, :data:`DEFAULT_MEMORY_BYTES`)."""
    actor.require_mesh_admin(action=Action.WORKGROUP_CREATE, resource=f"workgroup:{name}")
    check_identifier(name, "workgroup name")
    _check_engine(engine)
    if session.execute(select(Workgroup.id).where(Workgroup.name == name)).first():
        raise AlreadyExistsError(f"Workgroup already exists: {name}", details={"workgroup": name})
    now = clock.now()
    row = Workgroup(
        name=name,
        engine=engine,
        description=description,
        max_bytes_per_query=_check_limit("max_bytes_per_query", max_bytes_per_query),
        max_bytes_per_month=_check_limit("max_bytes_per_month", max_bytes_per_month),
        max_concurrent=_check_limit("max_concurrent", max_concurrent),
        max_concurrent_per_principal=_check_limit(
            "max_concurrent_per_principal", max_concurrent_per_principal
        ),
        timeout_seconds=_check_limit("timeout_seconds", timeout_seconds),
        max_memory_bytes=_check_memory(max_memory_bytes),
        max_rows=_check_limit("max_rows", max_rows),
        max_result_bytes=_check_limit("max_result_bytes", max_result_bytes),
        result_retention_seconds=(
            _retention_seconds(result_retention)
            if result_retention
            else int(DEFAULT_RETENTION.total_seconds())
        ),
        spark_remote=_check_remote(engine, spark_remote),
        created_by=actor.ref,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WORKGROUP_CREATE,
        resource=f"workgroup:{name}",
        details=_audited(
            {
                **{key: getattr(row, key) for key in UPDATABLE if key != "result_retention"},
                "result_retention": retention_text(row),
            }
        ),
    )
    return row


def update_workgroup(
    session: Session, *, actor: Actor, name: str, changes: Mapping[str, Any]
) -> Workgroup:
    """Change a workgroup's engine, description or limits (mesh admins only).

    ``changes`` holds only the fields to change; a limit set to None is lifted.
    """
    actor.require_mesh_admin(action=Action.WORKGROUP_UPDATE, resource=f"workgroup:{name}")
    row = get_workgroup_row(session, name)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInputError(
            f"Unknown workgroup settings: {', '.join(unknown)}", details={"fields": unknown}
        )
    if "engine" in changes:
        row.engine = _check_engine(str(changes["engine"]))
        if row.engine != "spark":
            row.spark_remote = None
    if "description" in changes:
        row.description = str(changes["description"] or "")
    for field in LIMIT_FIELDS:
        if field in changes:
            setattr(row, field, _check_limit(field, changes[field]))
    if "max_memory_bytes" in changes:
        row.max_memory_bytes = _check_memory(changes["max_memory_bytes"])
    if changes.get("result_retention") is not None:
        row.result_retention_seconds = _retention_seconds(str(changes["result_retention"]))
    if "spark_remote" in changes:
        row.spark_remote = _check_remote(row.engine, changes["spark_remote"])
    row.updated_at = clock.now()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WORKGROUP_UPDATE,
        resource=f"workgroup:{name}",
        details=_audited({key: changes[key] for key in sorted(changes)}),
    )
    return row


def delete_workgroup(session: Session, *, actor: Actor, name: str) -> None:
    """Delete a workgroup (mesh admins only; ``primary`` stays). Its history is kept."""
    actor.require_mesh_admin(action=Action.WORKGROUP_DELETE, resource=f"workgroup:{name}")
    row = get_workgroup_row(session, name)
    if row.name == DEFAULT_WORKGROUP:
        raise ConflictError(
            f"The default workgroup cannot be deleted: {name}", details={"workgroup": name}
        )
    session.delete(row)
    audit.record(
        session, actor=actor.ref, action=Action.WORKGROUP_DELETE, resource=f"workgroup:{name}"
    )
