"""Review: what a person does with proofread segments, for every front end.

Approve a segment (it is never retaken or flagged again), pick one of its takes (which
approves it: the person listened), ask for one more take (the takes so far are rejected),
or edit its text (``service.edit_segment``). Actions change rows only, all checked before
any is applied; where the narration's audio changes, the job goes back to 'queued' (the
`edit` transition) so a runner renders what is asked and publishes again. ``review_json``
is the one description of a job's review state (the CLI's ``review --json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..engines import registry
from ..errors import JobConflict, JobNotFound
from . import proofread, service
from .service import edit_text
from .state import Action, JobState, check, perform
from .store import SegmentRow, Store, TakeRow

#: Most takes one segment keeps (automatic retakes and asked-for ones): disk is bounded.
MAX_TAKES = 12
#: Version of the ``review --json`` format (README, "Review").
REVIEW_FORMAT = 1
#: Segment statuses that still need a person's ears.
NEEDS_EARS = ("flagged", "not_checked", proofread.UNCHECKED)


@dataclass(frozen=True)
class ReviewAction:
    """One thing a person does to one segment (``idx`` 0-based)."""

    kind: Literal["approve", "unapprove", "retake", "take", "edit"]
    idx: int
    take: int | None = None  # kind "take"
    text: str | None = None  # kind "edit"

    @property
    def changes_audio(self) -> bool:
        return self.kind in ("retake", "take", "edit")


def check_actions(store: Store, job_id: str, actions: Sequence[ReviewAction]) -> None:
    """Every refusal before anything is applied, so nothing is stored half-way:
    JobNotFound / JobConflict / InputError with one line each."""
    job = store.get_job(job_id)
    if not actions:
        return
    check(job_id, Action.EDIT, job.state)  # a cancelled job's segments stay as they are
    total = len(store.segments(job_id))
    for a in actions:
        if not 0 <= a.idx < total:
            raise JobNotFound(f"job {job_id} has {total} segments: there is no segment "
                              f"{a.idx + 1} (index {a.idx})")
        seg = store.segment(job_id, a.idx)
        if a.kind == "edit":
            edit_text(a.text)
            continue
        if not seg.has_valid_audio:
            raise JobConflict(f"segment {a.idx + 1} of job {job_id} has no audio yet")
        takes = store.takes(job_id, a.idx)
        if a.kind == "take" and not any(t.take == a.take for t in takes):
            raise JobNotFound(f"segment {a.idx + 1} of job {job_id} has no take {a.take}"
                              f" (it has {len(takes)})")
        if a.kind == "retake":
            if not proofread.seedable(registry.get_engine(seg.engine)):
                raise JobConflict(f"segment {a.idx + 1} is read by {seg.engine}, which says "
                                  "the same again; edit its text instead")
            if len(takes) >= MAX_TAKES:
                raise JobConflict(f"segment {a.idx + 1} already has {len(takes)} takes, the "
                                  "most kept; choose one or edit its text")


def apply_actions(store: Store, job_id: str, actions: Sequence[ReviewAction], *,
                  origin: str) -> bool:
    """Check, then apply, the actions; True if the narration must be made again (the job
    went back to the queue of ``origin``: the server's worker, or the CLI at once)."""
    check_actions(store, job_id, actions)
    rerender = False
    for a in actions:
        seg = store.segment(job_id, a.idx)
        if a.kind in ("approve", "unapprove"):
            store.set_approved(job_id, a.idx, a.kind == "approve")
        elif a.kind == "take":
            rerender |= seg.take != a.take
            if not store.choose_approved(job_id, a.idx, int(a.take or 0)):
                raise JobConflict(f"segment {a.idx + 1} of job {job_id} changed meanwhile")
        elif a.kind == "retake":
            if not seg.retake_asked and not store.ask_retake(job_id, a.idx, seg.key):
                raise JobConflict(f"segment {a.idx + 1} of job {job_id} changed meanwhile")
            rerender = True
        else:  # edit: the service re-queues the job itself when the text changed
            service.edit_segment(store, job_id, a.idx, text=a.text, origin=origin)
    if rerender:
        perform(store, job_id, Action.EDIT, origin=origin)
    return any(a.changes_audio for a in actions) and store.job_state(job_id) == JobState.QUEUED


def take_json(take: TakeRow) -> dict[str, Any]:
    check_ = take.check or {}
    transcript = check_.get("transcript") or {}
    return {"take": take.take, "seed": take.seed, "audio_seconds": round(take.audio_seconds, 3),
            "status": take.status or proofread.UNCHECKED, "rejected": take.rejected,
            "verdicts": list(check_.get("verdicts", [])),
            "heard": transcript.get("text"), "diff": check_.get("diff"),
            "notes": list(check_.get("notes", []))}


def segment_review(seg: SegmentRow, takes: Sequence[TakeRow]) -> dict[str, Any]:
    """One segment as review shows it: its status and every take with its check."""
    current = seg.has_valid_audio
    return {"index": seg.idx, "text": seg.text, "language": seg.language,
            "engine": seg.engine, "voice": seg.voice, "speaker": seg.speaker,
            "start_s": seg.start_s if current else None,
            "audio_seconds": seg.audio_seconds if current else None,
            "status": proofread.segment_status(seg, takes) if current else
            (proofread.APPROVED if seg.approved else proofread.UNCHECKED),
            "take": seg.take if current else None, "approved": seg.approved,
            "retake_asked": seg.retake_asked,
            "takes": [take_json(t) for t in takes]}


def review_json(store: Store, job_id: str) -> dict[str, Any]:
    """Every segment of the job with its status, verdicts and takes, and the counts."""
    job = store.get_job(job_id)
    segments = store.segments(job_id)
    takes: dict[int, list[TakeRow]] = {}
    for take in store.takes(job_id):
        takes.setdefault(take.idx, []).append(take)
    rows = [segment_review(s, takes.get(s.idx, [])) for s in segments]
    counts = {status: sum(r["status"] == status for r in rows)
              for status in ("ok", "flagged", "not_checked", proofread.APPROVED,
                             proofread.UNCHECKED)}
    return {"version": REVIEW_FORMAT, "job": job.id, "state": job.state, "title": job.title,
            "checks": job.settings.checks.model_dump(), "counts": counts,
            "summary": proofread.summary(segments, [t for ts in takes.values() for t in ts]),
            "segments": rows}


def needs_ears(row: dict[str, Any]) -> bool:
    return row["status"] in NEEDS_EARS and row["take"] is not None

