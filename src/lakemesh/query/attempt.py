"""One governed query on its way through steps 1 to 3 (DESIGN §5): prepared, admitted and
planned, with the engine and the limits left for it; and the record of its failure (step 4),
with a limit the engine enforced restated with the workgroup that set it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from lakemesh import clock
from lakemesh.errors import LakemeshError, LimitExceededError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.query.admission import ASYNC, SlotBusyError, WithdrawnError, admit, needs_admission
from lakemesh.query.engines import QueryEngine, QueryLimits
from lakemesh.query.execution import after_planning
from lakemesh.query.gateway import plan
from lakemesh.query.history import (
    CANCELLED,
    FAILED,
    QueryFacts,
    new_query_id,
    outcome_of,
    record_failure,
)
from lakemesh.query.preparation import PreparedQuery, prepare_query
from lakemesh.query.rewrite import RewrittenQuery
from lakemesh.query.runtime import workgroup_engine
from lakemesh.query.workgroups import DEFAULT_WORKGROUP, WorkgroupSettings


def query_facts(
    sql: str,
    actor: Actor,
    workgroup: str | None,
    query_id: str | None,
    mode: str,
    submitted_at: datetime | None,
) -> QueryFacts:
    """What the history records of a query from its start (a new id unless a job brings one)."""
    return QueryFacts(
        id=query_id or new_query_id(),
        principal=actor.ref,
        sql=sql,
        workgroup=workgroup or DEFAULT_WORKGROUP,
        engine="",
        mode=mode,
        submitted_at=submitted_at or clock.now(),
        stored=mode == ASYNC,
    )


class Attempt:
    """One query on its way through steps 1 to 3, and the record of its failure (step 4)."""

    def __init__(self, hub: Hub, facts: QueryFacts, *, probe: bool = False) -> None:
        self.hub = hub
        self.facts = facts
        self.probe = probe
        self.timer = time.perf_counter()
        self.prepared: PreparedQuery | None = None
        self.reached_engine = False

    @property
    def settings(self) -> WorkgroupSettings:
        assert self.prepared is not None
        return self.prepared.settings

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.prepared.warnings if self.prepared is not None else ()

    def plan(
        self,
        *,
        actor: Actor,
        sql: str,
        search_path: Sequence[str] = (),
        wait_for_slot: bool = False,
    ) -> tuple[RewrittenQuery, QueryEngine, QueryLimits]:
        """Steps 1 to 3 up to the engine: prepared, admitted, planned; the engine and the
        limits left for it."""
        facts = self.facts
        self.prepared = prepare_query(
            self.hub, actor=actor, sql=sql, facts=facts, search_path=search_path
        )
        settings = self.prepared.settings
        if needs_admission(settings, facts.mode) and not self.probe:
            admit(
                self.hub,
                facts=facts,
                settings=settings,
                bytes_to_scan=self.prepared.bytes_to_scan,
                wait_for_slot=wait_for_slot,
            )
        # Planning so far (parse, resolve, admission) counts against the time limit; loading
        # the engine, once per hub process, does not; the rewrite does.
        limits = after_planning(settings.limits(), time.perf_counter() - self.timer)
        engine = workgroup_engine(self.hub, settings)
        rewriting = time.perf_counter()
        planned = plan(
            self.prepared.statement,
            self.prepared.tables,
            sql=sql,
            principal=actor.ref,
            engine=engine,
        )
        limits = after_planning(limits, time.perf_counter() - rewriting)
        facts.started_at = facts.started_at or clock.now()
        self.reached_engine = True
        return planned, engine, limits

    def failed(self, error: Exception) -> Exception:
        """Record ``error`` as the query's outcome; returns what to raise (a limit restated
        with its workgroup; an unexpected error is recorded as internal and raised as it is)."""
        if isinstance(error, WithdrawnError | SlotBusyError):
            return error
        prepared = self.prepared
        if isinstance(error, LakemeshError):
            timeout = prepared.settings.limits().timeout_seconds if prepared else None
            error = _in_workgroup(error, self.facts.workgroup, timeout=timeout)
            ran = self.reached_engine and outcome_of(error) in (FAILED, CANCELLED)
            _record_failure(self.hub, self.facts, error, self.timer, prepared if ran else None)
            return error
        unexpected = LakemeshError("Query failed: internal error (see the hub's log)")
        _record_failure(
            self.hub, self.facts, unexpected, self.timer, prepared if self.reached_engine else None
        )
        return error


def _record_failure(
    hub: Hub, facts: QueryFacts, error: LakemeshError, timer: float, ran: PreparedQuery | None
) -> None:
    """Step 4 for a query that did not succeed; one that reached its engine counts its bytes."""
    facts.bytes_scanned = ran.bytes_to_scan if ran is not None else 0
    with hub.transaction() as session:
        record_failure(session, facts, error, duration_ms=elapsed_ms(timer))


def _in_workgroup(
    error: LakemeshError, workgroup: str, *, timeout: float | None = None
) -> LakemeshError:
    """A limit the engine enforced, restated with the workgroup that set it. The engine got the
    time planning left (``after_planning``); a timeout names the workgroup's whole ``timeout``."""
    if not isinstance(error, LimitExceededError) or "workgroup" in error.details:
        return error
    message, details = error.message, {**error.details, "workgroup": workgroup}
    if details.get("limit") == "timeout_seconds" and "planning_seconds" not in details and timeout:
        message = f"Query exceeded the time limit of {timeout:g}s, planning included"
        details["value"] = timeout
    return LimitExceededError(f"{message} (workgroup {workgroup})", details=details)


def elapsed_ms(timer: float) -> int:
    return int((time.perf_counter() - timer) * 1000)
