"""GET /api/jobs/{id}/events: a job's progress as server-sent events.

First a ``snapshot`` (the job object) so a client that connects late — or reconnects after
closing the tab — starts from the current state, then the runner's latest step if it is
running, then every ``progress`` event as the worker publishes it, and a fresh ``snapshot``
whenever the job changes outside a runner step (paused, cancelled, edited). The stream ends
once the job is done, failed or cancelled. Subscribing happens before the snapshot is read,
so no event can fall between the two.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..errors import JobNotFound
from ..jobs import store as st
from ..jobs.state import FINISHED, JobState
from ..jobs.events import AUDIO, PROGRESS, SNAPSHOT
from .context import StreamStoreDep, Studio, StudioDep
from .responses import job_of, public_progress
from .routes_jobs import checked_id

router = APIRouter(tags=["progress and audio"])

KEEPALIVE_S = 15.0
_ENDED = FINISHED


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/api/jobs/{job_id}/events", response_class=StreamingResponse,
            summary="Live progress as server-sent events (snapshot first)",
            responses={200: {"description": "snapshot, progress and deleted events",
                             "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def events(job_id: str, s: StudioDep, store: StreamStoreDep) -> StreamingResponse:
    checked_id(job_id)
    await run_in_threadpool(store.get_job, job_id)  # 404 before the stream starts
    # The stream reads with this request's Store: it stays open until the stream ends.
    return StreamingResponse(_stream(s, store, job_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _snapshot(store: st.Store, job_id: str) -> dict[str, Any] | None:
    try:
        job = await run_in_threadpool(job_of, store, job_id)
    except JobNotFound:
        return None
    return job.model_dump(mode="json")


async def _stream(s: Studio, store: st.Store, job_id: str) -> AsyncIterator[str]:
    with s.hub.subscribe(job_id) as sub:
        snap = await _snapshot(store, job_id)
        if snap is None:
            yield sse("deleted", {"id": job_id})
            return
        yield sse(SNAPSHOT, snap)
        if snap["state"] in _ENDED:
            return
        latest = s.hub.latest(job_id)
        running = JobState.RUNNING
        if snap["state"] == running and latest is not None and latest.state == running:
            yield sse(PROGRESS, public_progress(latest.to_dict()))
        last_state = snap["state"]
        while True:
            item = await sub.get(timeout=KEEPALIVE_S)
            if item is not None and item[0] == AUDIO:
                continue
            if item is None or item[0] == SNAPSHOT or sub.lagged:
                # Re-read: also catches changes made by another process (no hub events).
                sub.lagged = False
                snap = await _snapshot(store, job_id)
                if snap is None:
                    yield sse("deleted", {"id": job_id})
                    return
                if item is None and snap["state"] == last_state:
                    yield ": keep-alive\n\n"
                    continue
                last_state = snap["state"]
                yield sse(SNAPSHOT, snap)
                if last_state in _ENDED:
                    return
                continue
            event = item[1]
            yield sse(PROGRESS, public_progress(event.to_dict()))
            last_state = event.state
            if event.state in _ENDED:
                return
