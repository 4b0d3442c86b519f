"""The queue as a user sees it: what runs now, what comes next, when each will be done.

A queue is the jobs one runner drains in order: the server's worker takes every queued
server job; a CLI `batch` takes the jobs of its batch. ETAs come from this studio's own
measured speed (compute seconds per character, per engine, over recent segments), so they
reflect this machine and model; with nothing measured yet there is no ETA rather than a
made-up one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError, JobConflict
from . import store as st
from .state import FINISHED, UNFINISHED, Action, JobState, allowed_actions, check
from .store import Job, Store

#: States shown in a queue: running, waiting, or stopped but resumable.
SHOWN = UNFINISHED


@dataclass(frozen=True)
class QueueEntry:
    job: Job
    position: int | None  # 1 = next to start; None: running, or not waiting
    remaining_s: float | None  # estimated compute left for this job
    eta_s: float | None  # estimated seconds from now until this job is done

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.job.id, "title": self.job.title, "state": self.job.state,
                "batch_id": self.job.batch_id, "position": self.position,
                "remaining_s": _round(self.remaining_s), "eta_s": _round(self.eta_s),
                "actions": allowed_actions(self.job.state)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _estimate(chars_by_engine: dict[str, int], rates: dict[str, float]) -> float | None:
    if not chars_by_engine:
        return 0.0
    fallback = max(rates.values()) if rates else None  # an unmeasured engine: the slowest
    total = 0.0
    for engine, chars in chars_by_engine.items():
        rate = rates.get(engine, fallback)
        if rate is None:
            return None
        total += chars * rate
    return total


def queue_view(store: Store, *, origin: str = st.ORIGIN_SERVER,
               batch_id: str | None = None) -> list[QueueEntry]:
    """The running job, then the queued ones in order (with positions and ETAs), then the
    stopped ones. With ``batch_id``: that batch's jobs, finished ones included."""
    jobs = store.batch_jobs(batch_id) if batch_id else [
        j for j in store.list_jobs() if j.origin == origin and j.state in SHOWN]
    order = store.queued_ids(origin, batch_id)
    remaining = store.remaining_chars()
    rates = store.seconds_per_char()
    by_id = {j.id: j for j in jobs}
    running = [j for j in jobs if j.state == JobState.RUNNING]
    waiting = [by_id[i] for i in order if i in by_id]
    others = [j for j in jobs if j.state not in (JobState.RUNNING, JobState.QUEUED)]
    others.sort(key=lambda j: (j.state in FINISHED, j.created_at))

    entries: list[QueueEntry] = []
    clock: float | None = 0.0
    for position, job in [(None, j) for j in running] + list(enumerate(waiting, 1)):
        left = _estimate(remaining.get(job.id, {}), rates)
        clock = None if clock is None or left is None else clock + left
        entries.append(QueueEntry(job, position, left, clock))
    for job in others:
        left = None if job.state in FINISHED else _estimate(remaining.get(job.id, {}), rates)
        entries.append(QueueEntry(job, None, left, 0.0 if job.state == JobState.DONE else None))
    return entries


def move_job(store: Store, job_id: str, position: int) -> list[str]:
    """Move a queued job to ``position`` (1 = next) in its queue; returns the new order."""
    job = store.get_job(job_id)
    check(job_id, Action.MOVE, job.state)
    # A CLI batch is its own queue; the server's queue is all its queued jobs.
    scope = job.batch_id if job.origin == st.ORIGIN_CLI else None
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        raise InputError(f"position must be a whole number from 1, got {position!r}")
    order = store.queued_ids(job.origin, scope)
    if job_id not in order:  # it started (or was paused) just now
        raise JobConflict(f"job {job_id} is no longer queued")
    order.remove(job_id)
    order.insert(min(position, len(order) + 1) - 1, job_id)
    store.reorder(order)
    return order
