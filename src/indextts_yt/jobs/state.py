"""The job state machine: the states a job can be in and the one table of changes between them.

Every change of a job's state goes through this table: a user's action (pause, resume,
cancel, delete, edit) through ``perform``, a runner or start-up event (start, interrupt,
fail, finish, requeue) through ``fire``. Both end in Store.transition, a compare-and-set, so
the worker, API requests and another process can act on one job at once without one
silently undoing another. The API hands ``allowed_actions`` to clients, so the web UI never
keeps its own copy of these rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from ..errors import JobConflict

J = TypeVar("J", covariant=True)


class StateStore(Protocol[J]):
    """What the state machine needs of the job store (jobs.store.Store), which imports this
    module for the states: so the store is described here rather than imported."""

    def job_state(self, job_id: str) -> str: ...

    def get_job(self, job_id: str) -> J: ...

    def transition(self, job_id: str, state: str, *, from_states: Iterable[str],
                   error: str | None = None, runner_pid: int | None = None,
                   origin: str | None = None) -> bool: ...


class JobState(StrEnum):
    """The values are what the store and the API have always used."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    INTERRUPTED = "interrupted"  # its process died or stopped mid-run; resumable
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SegmentState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Action(StrEnum):
    """What a user asks for (the API's job routes, the CLI, the web UI's buttons)."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    DELETE = "delete"
    EDIT = "edit"  # a segment's new text or settings: the job is rendered again
    MOVE = "move"  # another place in the queue: the job stays queued


class Event(StrEnum):
    """What the runner, the worker and start-up do to a job."""

    START = "start"  # a runner takes the job (the CLI may rerun any job not cancelled)
    INTERRUPT = "interrupt"  # its run was closed, or its process found dead
    FAIL = "fail"  # a segment or the output failed while running
    ABORT = "abort"  # the worker's run raised before or while running (e.g. no engine)
    FINISH = "finish"
    REQUEUE = "requeue"  # server start-up, or a CLI batch run again


Q, R, P, I, D, F, C = (JobState.QUEUED, JobState.RUNNING, JobState.PAUSED,
                       JobState.INTERRUPTED, JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class Transition:
    to: JobState
    sources: frozenset[JobState]  # the states it moves a job from
    #: States where the action is already done: accepted, nothing changes (a repeated
    #: pause; delete of a finished job, which needs no cancel first).
    already: frozenset[JobState] = frozenset()
    #: JobConflict's message from any other state ({id}, {state}); events never raise.
    refusal: str = "job {id} is {state}; {action} is not possible now"


TRANSITIONS: dict[Action | Event, Transition] = {
    Action.PAUSE: Transition(
        P, frozenset({Q, R, I}), frozenset({P}),
        "job {id} is {state}; only a queued or running job can be paused"),
    Action.RESUME: Transition(
        Q, frozenset({P, I, F}), frozenset({Q, R}),
        "job {id} is {state}; only a paused, interrupted or failed job can be resumed"),
    Action.CANCEL: Transition(
        C, frozenset({Q, R, P, I, F}), frozenset({C}), "job {id} is {state}; it cannot be cancelled"),
    # Delete cancels first (stopping a runner after its segment in flight), then removes.
    Action.DELETE: Transition(C, frozenset({Q, R, P, I, F}), frozenset({D, C})),
    Action.EDIT: Transition(
        Q, frozenset({Q, R, P, I, D, F}),
        refusal="job {id} was cancelled; its segments cannot be edited"),
    Action.MOVE: Transition(Q, frozenset({Q}),
                            refusal="job {id} is {state}; only a queued job can be moved"),
    # A runner holds the job's lock, so 'running' here was left by a dead process.
    Event.START: Transition(R, frozenset({Q, R, P, I, D, F}),
                            refusal="job {id} was cancelled; start a new one instead"),
    Event.INTERRUPT: Transition(I, frozenset({R})),
    Event.FAIL: Transition(F, frozenset({R})),
    Event.ABORT: Transition(F, frozenset({R, Q})),
    Event.FINISH: Transition(D, frozenset({R})),
    Event.REQUEUE: Transition(Q, frozenset({I, F})),
}

#: States a job can still make audio from: a voice they use must stay.
UNFINISHED: frozenset[JobState] = TRANSITIONS[Action.CANCEL].sources
#: Nothing more will happen unless the user acts.
FINISHED: frozenset[JobState] = frozenset({D, F, C})


def check(job_id: str, action: Action | Event, state: str) -> None:
    """JobConflict unless ``action`` is accepted in ``state`` (a change or already done)."""
    t = TRANSITIONS[action]
    if state not in t.sources and state not in t.already:
        raise JobConflict(t.refusal.format(id=job_id, state=state, action=action))


def allowed_actions(state: str) -> list[str]:
    """The user actions that would change a job in ``state`` now, for the API and the UI's
    buttons: repeating an action is accepted but not offered; delete always is."""
    return [a.value for a in Action
            if state in TRANSITIONS[a].sources or (a is Action.DELETE and state in
                                                   TRANSITIONS[a].already)]


def fire(store: StateStore[object], job_id: str, event: Action | Event, *, seen: str | None = None,
         error: str | None = None, runner_pid: int | None = None,
         origin: str | None = None) -> bool:
    """Compare-and-set the event's change: from any of its sources, or only from ``seen``
    (the state the caller read and acted on). True if it happened; else the job was moved
    by someone else meanwhile, and the caller respects that."""
    t = TRANSITIONS[event]
    sources = t.sources if seen is None else t.sources & {seen}
    if not sources:
        return False
    return store.transition(job_id, t.to, from_states=sources, error=error,
                            runner_pid=runner_pid, origin=origin)


def perform(store: StateStore[J], job_id: str, action: Action, *, origin: str | None = None
            ) -> J:
    """A user's action on a job: JobNotFound, JobConflict where refused, a no-op where it is
    already done; returns the job."""
    # Retry: the worker may move the job (queued -> running) between our read and write.
    for _ in range(5):
        state = store.job_state(job_id)
        check(job_id, action, state)
        if state in TRANSITIONS[action].already:
            return store.get_job(job_id)
        if fire(store, job_id, action, seen=state, origin=origin):
            return store.get_job(job_id)
    raise JobConflict(f"job {job_id} is changing state; try again")
