"""``/crawls``: discover the tables under a URI and register them, optionally streaming progress.

The crawler runs its own transactions, so this router authenticates outside the request's
transaction. With ``Accept: application/x-ndjson`` the crawl runs in a worker thread that pushes
events through a queue into the response, one JSON object per line.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.responses import Response

from lakemesh.api.deps import HubDep, StandaloneActor
from lakemesh.api.schemas import CrawlCreate, CrawlResult
from lakemesh.catalog.crawler import crawl
from lakemesh.errors import LakemeshError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor

logger = logging.getLogger("lakemesh.api")

router = APIRouter(prefix="/crawls", tags=["catalog"])

NDJSON = "application/x-ndjson"
Event = dict[str, Any]

STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The crawled tables; with `Accept: application/x-ndjson`, progress lines "
        '`{"event": "progress", "done", "total"}` then one `{"event": "result", "tables"}` or '
        '`{"event": "error", "error"}` line.',
        "model": CrawlResult,
        "content": {NDJSON: {}},
    }
}


def _run(hub: Hub, actor: Actor, body: CrawlCreate, events: queue.Queue[Event | None]) -> None:
    """The worker: crawl, reporting progress, then exactly one result or error event."""
    try:
        tables = crawl(
            hub,
            actor=actor,
            uri=body.uri,
            domain=body.domain,
            database=body.database,
            progress=lambda done, total: events.put(
                {"event": "progress", "done": done, "total": total}
            ),
        )
        events.put({"event": "result", **CrawlResult.of(tables).model_dump(mode="json")})
    except LakemeshError as error:
        events.put({"event": "error", **error.to_dict()})
    except Exception:
        logger.exception("Unexpected error while crawling %s", body.uri)
        internal = LakemeshError("Internal server error")
        events.put({"event": "error", **internal.to_dict()})
    finally:
        events.put(None)


def _latest(events: queue.Queue[Event | None]) -> Iterator[Event]:
    """Events as they come; a burst of progress events collapses to the newest of them."""
    event = events.get()
    while event is not None:
        following: Event | None
        try:
            following = events.get_nowait()
        except queue.Empty:
            yield event
            event = events.get()
            continue
        if not (event["event"] == "progress" and following and following["event"] == "progress"):
            yield event
        event = following


def _stream(hub: Hub, actor: Actor, body: CrawlCreate) -> Iterator[bytes]:
    events: queue.Queue[Event | None] = queue.Queue()
    threading.Thread(
        target=_run, args=(hub, actor, body, events), name="lakemesh-crawl", daemon=True
    ).start()
    for event in _latest(events):
        yield (json.dumps(event, default=str) + "\n").encode()


@router.post("", summary="Crawl a URI into domain.database", responses=STREAM_DOC)
def start_crawl(
    body: CrawlCreate, request: Request, hub: HubDep, actor: StandaloneActor
) -> Response:
    if NDJSON in request.headers.get("accept", ""):
        return StreamingResponse(_stream(hub, actor, body), media_type=NDJSON)
    tables = crawl(hub, actor=actor, uri=body.uri, domain=body.domain, database=body.database)
    return JSONResponse(CrawlResult.of(tables).model_dump(mode="json"))
