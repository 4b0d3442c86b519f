"""The job state machine (jobs/state.py): its table, the service's use of it, and the API's
``actions``, which must be exactly what the service then accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import SHORT_SCRIPT, as_made
from indextts_yt.errors import JobConflict
from indextts_yt.jobs import service
from indextts_yt.jobs import store as st
from indextts_yt.jobs.state import (FINISHED, TRANSITIONS, UNFINISHED, Action, Event, JobState,
                                    SegmentState, allowed_actions, check, fire, perform)
from indextts_yt.jobs.store import NewSegment, Store
from indextts_yt.settings import JobSettings
from server_util import assert_error, serve

ALL = set(JobState)
Q, R, P, I, D, F, C = ("queued", "running", "paused", "interrupted", "done", "failed",
                       "cancelled")

# The rules as they were before the table existed, written out: (from, to, already).
EXPECTED = {
    Action.PAUSE: ({Q, R, I}, P, {P}),
    Action.RESUME: ({P, I, F}, Q, {Q, R}),
    Action.CANCEL: ({Q, R, P, I, F}, C, {C}),
    Action.DELETE: ({Q, R, P, I, F}, C, {D, C}),
    Action.EDIT: ({Q, R, P, I, D, F}, Q, set()),
    Action.MOVE: ({Q}, Q, set()),
    Event.START: ({Q, R, P, I, D, F}, R, set()),
    Event.INTERRUPT: ({R}, I, set()),
    Event.FAIL: ({R}, F, set()),
    Event.ABORT: ({R, Q}, F, set()),
    Event.FINISH: ({R}, D, set()),
    Event.REQUEUE: ({I, F}, Q, set()),
}
REFUSALS = {
    Action.PAUSE: "job {id} is {state}; only a queued or running job can be paused",
    Action.RESUME: "job {id} is {state}; only a paused, interrupted or failed job can be resumed",
    Action.CANCEL: "job {id} is {state}; it cannot be cancelled",
    Action.EDIT: "job {id} was cancelled; its segments cannot be edited",
    Action.MOVE: "job {id} is {state}; only a queued job can be moved",
    Event.START: "job {id} was cancelled; start a new one instead",
}
OFFERED = {
    Q: ["pause", "cancel", "delete", "edit", "move"],
    R: ["pause", "cancel", "delete", "edit"],
    P: ["resume", "cancel", "delete", "edit"],
    I: ["pause", "resume", "cancel", "delete", "edit"],
    D: ["delete", "edit"],
    F: ["resume", "cancel", "delete", "edit"],
    C: ["delete"],
}


def _job(store: Store, state: str, origin: str = st.ORIGIN_CLI) -> str:
    job = store.create_job(
        title="t", fingerprint=f"fp-{state}", settings=as_made(JobSettings(engine="piper")),
        output_path=None, srt_path=None, streaming=True, origin=origin,
        segments=[NewSegment(text="Hello.", chapter=None, pause_after="sentence",
                             language="en", engine="piper", voice="v", settings={}, key="k")])
    _force(store, job.id, state)
    return job.id


def _force(store: Store, job_id: str, state: str) -> None:
    """Test set-up: put the job in ``state`` whatever it is in."""
    assert store.transition(job_id, state, from_states=JobState)


def test_states_keep_the_stored_values():
    assert [s.value for s in JobState] == [Q, R, P, I, D, F, C]
    assert JobState.QUEUED == "queued" and SegmentState.DONE == "done"
    assert SegmentState.PENDING == "pending"
    assert UNFINISHED == {Q, R, P, I, F} and FINISHED == {D, F, C}


def test_the_table_is_the_expected_one():
    assert set(TRANSITIONS) == set(EXPECTED)
    for action, (sources, to, already) in EXPECTED.items():
        t = TRANSITIONS[action]
        assert (t.sources, t.to, t.already) == (sources, to, already), action
        assert not t.sources & t.already, action


def test_allowed_actions_per_state():
    for state, offered in OFFERED.items():
        assert allowed_actions(state) == offered, state
        assert allowed_actions(JobState(state)) == offered


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", sorted(ALL))
def test_user_actions_follow_the_table(data_dir: Path, action: Action, state: str):
    store = Store(data_dir)
    job_id = _job(store, state)
    sources, to, already = EXPECTED[action]
    if state in sources:
        assert perform(store, job_id, action).state == to
        if to in already:  # a repeat is a no-op
            assert perform(store, job_id, action).state == to
    elif state in already:
        assert perform(store, job_id, action).state == state
        assert perform(store, job_id, action).state == state
    else:
        with pytest.raises(JobConflict) as refused:
            perform(store, job_id, action)
        assert str(refused.value) == REFUSALS[action].format(id=job_id, state=state)
        assert store.job_state(job_id) == state


@pytest.mark.parametrize("event", list(Event))
@pytest.mark.parametrize("state", sorted(ALL))
def test_events_follow_the_table(data_dir: Path, event: Event, state: str):
    store = Store(data_dir)
    job_id = _job(store, state)
    sources, to, _ = EXPECTED[event]
    assert fire(store, job_id, event, error="why") == (state in sources)
    job = store.get_job(job_id)
    assert job.state == (to if state in sources else state)
    if state in sources:
        assert job.error == "why"
        # ``seen``: only from the state the caller read (the runner respects a pause).
        _force(store, job_id, state)
        other = next(s for s in sources | {C} if s != state)
        assert not fire(store, job_id, event, seen=other)
        assert store.job_state(job_id) == state


def test_a_runner_cannot_start_a_cancelled_job(data_dir: Path):
    store = Store(data_dir)
    job_id = _job(store, C)
    with pytest.raises(JobConflict, match=re.escape(f"job {job_id} was cancelled; start a new")):
        check(job_id, Event.START, C)
    check(job_id, Event.START, D)  # the CLI may render a finished job again


def test_a_user_action_retries_when_the_worker_moves_the_job(data_dir: Path):
    """Read 'queued', then the worker starts the job before the compare-and-set: the pause
    is retried from 'running' rather than refused or lost."""
    store = Store(data_dir)
    job_id = _job(store, Q)
    real = store.transition
    moved = []

    def racing(job_id_, state, *, from_states, **fields):
        if not moved:
            moved.append(real(job_id_, R, from_states=(Q,)))
        return real(job_id_, state, from_states=from_states, **fields)

    store.transition = racing  # type: ignore[method-assign]
    assert perform(store, job_id, Action.PAUSE).state == P
    assert moved == [True]


def test_resume_hands_the_job_to_the_server(data_dir: Path):
    store = Store(data_dir)
    job_id = _job(store, P)
    assert service.resume_job(store, job_id).origin == st.ORIGIN_SERVER


def test_requeue_at_start_up_and_on_a_batch_rerun(data_dir: Path):
    store = Store(data_dir)
    ids = {(state, origin): _job(store, state, origin)
           for state in ALL for origin in (st.ORIGIN_CLI, st.ORIGIN_SERVER)}
    # Server start-up: only the server's interrupted jobs.
    assert service.requeue_interrupted(store) == [ids[I, st.ORIGIN_SERVER]]
    # A CLI batch run again: its interrupted and failed jobs.
    batch = [store.get_job(ids[s, st.ORIGIN_CLI]) for s in sorted(ALL)]
    requeued = service.requeue_stopped(store, batch)
    assert sorted(requeued) == sorted([ids[I, st.ORIGIN_CLI], ids[F, st.ORIGIN_CLI]])
    assert all(store.job_state(i) == Q for i in requeued)
    assert store.job_state(ids[P, st.ORIGIN_CLI]) == P


def test_the_api_offers_exactly_what_the_service_accepts(data_dir: Path):
    """For every state: each action in the job's ``actions`` succeeds and changes the job as
    the table says; each other one is a 409, or a no-op where it is already done."""
    with serve(data_dir, start_worker=False) as srv:
        store = srv.studio.open_store()
        http = srv.http
        for state in sorted(ALL):
            job_id = srv.create(SHORT_SCRIPT, title=state)["id"]
            for n, action in enumerate(a for a in Action if a is not Action.DELETE):
                _force(store, job_id, state)
                offered = srv.job(job_id)["actions"]
                assert offered == OFFERED[state], state
                if action is Action.EDIT:
                    r = http.patch(f"/api/jobs/{job_id}/segments/0",
                                   json={"text": f"Edited {state} {n}."})
                elif action is Action.MOVE:
                    r = http.post(f"/api/jobs/{job_id}/move", json={"position": 1})
                else:
                    r = http.post(f"/api/jobs/{job_id}/{action}")
                sources, to, already = EXPECTED[action]
                after = srv.job(job_id)["state"]
                if action in offered:
                    assert r.status_code == 200, (state, action, r.text)
                    assert after == to, (state, action)
                elif state in already:
                    assert r.status_code == 200 and after == state, (state, action, r.text)
                else:
                    assert assert_error(r, 409) == REFUSALS[action].format(id=job_id, state=state)
                    assert after == state, (state, action)
            _force(store, job_id, state)
            assert "delete" in srv.job(job_id)["actions"]
            assert http.delete(f"/api/jobs/{job_id}").status_code == 204
            assert http.get(f"/api/jobs/{job_id}").status_code == 404


def test_queue_entries_carry_their_actions(data_dir: Path):
    with serve(data_dir, start_worker=False) as srv:
        store = srv.studio.open_store()
        ids = {state: srv.create(SHORT_SCRIPT, title=state)["id"] for state in (Q, P, I, F)}
        for state, job_id in ids.items():
            _force(store, job_id, state)
        entries = {e["id"]: e for e in srv.http.get("/api/queue").json()["jobs"]}
        for state, job_id in ids.items():
            assert entries[job_id]["actions"] == OFFERED[state], state
