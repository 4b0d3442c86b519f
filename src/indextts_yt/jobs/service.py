"""Job operations shared by every front end (the CLI and the HTTP server).

Each function takes a Store and plain values, checks the input, and changes the store; none
knows about HTTP or terminals. State changes follow jobs/state.py's table and are
compare-and-set, so an API request, the worker thread and another process can act on one job
at the same time without one silently undoing another. Pause, cancel and edits take effect in
the runner between segments (it stops as soon as the job is no longer 'running').
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..audio.encode import FORMATS
from ..engines import registry
from ..clips import ClipStore
from ..dictionary import Dictionary, studio_entries
from ..errors import InputError, JobBusy, JobConflict, PayloadTooLarge
from ..script_input import MAX_SCRIPT_BYTES
from ..settings import JobFiles, JobSettings, StoredJob, validated
from ..text import normalize
from ..text.markdown import engine_safe
from . import proofread
from . import store as st
from .plan import (Choice, engine_options_for, fingerprint, plan, plan_notes, resolve_choice,
                   segment_key)
from .plan import check_options as check_engine_options
from .state import TRANSITIONS, Action, Event, JobState, check, fire, perform
from .store import Job, NewSegment, SegmentRow, Store

#: Longest text one edited segment may have. Planned segments are at most an engine's
#: max_segment_chars (a few hundred); this leaves room for a user's longer rewrite while
#: still refusing a whole chapter pasted into one segment.
MAX_SEGMENT_CHARS = 2000

SERVER_OUTPUT = "narration.wav"
SERVER_SUBTITLES = "narration.srt"


@dataclass(frozen=True)
class JobRequest:
    """What a user asks for when starting a narration: a script, its settings, and where
    the files other than the WAV and SRT go."""

    text: str
    title: str | None = None
    settings: JobSettings = field(default_factory=JobSettings)
    streaming: bool = True
    files: JobFiles = field(default_factory=JobFiles)


def check_text(text: str, what: str = "the script") -> str:
    """The size limit (bytes, as for files) and emptiness, before any work."""
    if len(text) > MAX_SCRIPT_BYTES or len(text.encode("utf-8")) > MAX_SCRIPT_BYTES:
        raise PayloadTooLarge(
            f"{what} is larger than the {MAX_SCRIPT_BYTES // (1024 * 1024)} MB script limit")
    if not text.strip():
        raise InputError(f"{what} is empty")
    return text


def default_title(text: str, limit: int = 60) -> str:
    """The script's first line without Markdown marks, shortened to ``limit`` characters."""
    for line in text.splitlines():
        line = re.sub(r"^[#>*\-\s]+", "", line).strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return "untitled"


def plan_request(req: JobRequest, clips: ClipStore | None = None) -> list[NewSegment]:
    """Everything checked and split, nothing stored: raises InputError/EngineUnavailable.
    ``clips``: the studio's clips, which the job's reference clips must be among."""
    check_text(req.text)
    s = req.settings
    proofread.check_asr_model(s.checks)
    return plan(req.text, Choice(s.engine or "auto", s.voice), s.options, s.max_chars, clips,
                s.cast, dictionary=job_dictionary(s, clips.data_dir if clips else None),
                dialogue=s.dialogue)



def job_dictionary(settings: JobSettings, data_dir: Path | str | None) -> Dictionary:
    """The pronunciation entries a job applies: its own, then the studio's (as they are
    now: a job planned again after an entry changed renders the segments it touches)."""
    return Dictionary(settings.dictionary, studio_entries(data_dir))


def create_job(store: Store, req: JobRequest, *, output_path: Path | None = None,
               srt_path: Path | None = None, origin: str = st.ORIGIN_SERVER,
               continue_identical: bool = False,
               planned: list[NewSegment] | None = None) -> tuple[Job, bool]:
    """Plan and store a job; returns (job, continued).

    Without ``output_path`` the WAV goes into the job's own folder (``narration.wav``); a
    job that names no file at all (the server's) also gets its SRT, WebVTT, word timings,
    chapter list and encoded file there, served only by job id.
    ``continue_identical``: if an unfinished job renders exactly this (same segments, same
    outputs), return it instead of a new one (the CLI's rerun-to-resume). ``planned``: the
    result of plan_request(req) if the caller already has it.
    """
    segments = planned or plan_request(req, ClipStore(store.data_dir))
    # Stored resolved (a format name, LUFS), so that publishing is what was checked here.
    settings, files = req.settings.checked(), req.files
    # What the job makes, for finding it again on a rerun: the file the user named.
    identity = str(output_path or files.file or "")
    job_id = None
    if output_path is None:
        # The WAV grows in the job's own folder (an encoded file the user named is made
        # beside it, from the same mastered audio).
        job_id = store.new_job_id()
        folder = store.job_dir(job_id)
        output_path = folder / SERVER_OUTPUT
        if not identity:
            # The server's jobs name no files: all of them go beside the WAV, served by job
            # id. A job whose user named its files writes only those: paths in a new job's
            # folder would also make its fingerprint new on every rerun.
            srt_path = srt_path or folder / SERVER_SUBTITLES
            fmt = settings.output.format
            files = JobFiles(
                vtt=files.vtt or str(folder / "narration.vtt"),
                chapters=files.chapters or str(folder / "narration.chapters.txt"),
                words=files.words or str(folder / "narration.words.json"),
                file=files.file or (str(folder / f"narration{FORMATS[fmt].extensions[0]}")
                                    if fmt != "wav" else None))
    choice = Choice(settings.engine or "auto", settings.voice)
    stored = StoredJob(settings=settings, files=files,
                       notes=tuple(plan_notes(req.text, segments,
                                             resolve_choice(choice, ClipStore(store.data_dir)))))
    # A job without a words file fingerprints as before there were any (a rerun resumes it).
    publish = {**stored.settings.output.model_dump(),
               **files.model_dump(exclude={"words"} if files.words is None else None)}
    extra = {"output": identity or str(output_path), "srt": str(srt_path or ""),
             "streaming": req.streaming, "pauses": settings.pauses, "publish": publish,
             # Another --check is another job (its finished audio is reused by key).
             "checks": settings.checks.model_dump()}
    fp = fingerprint(segments, extra)
    if continue_identical:
        existing = store.find_unfinished(fp)
        if existing is not None:
            return existing, True
    job = store.create_job(
        title=req.title or default_title(req.text), fingerprint=fp, settings=stored,
        output_path=str(output_path), srt_path=str(srt_path) if srt_path else None,
        streaming=req.streaming, segments=segments, job_id=job_id, origin=origin)
    return job, False


def check_options(options: Any) -> dict[str, Any]:
    """Engine options given for one segment: numbers or text (the engine checks which)."""
    return validated(JobSettings, {"options": options}, "options").options


# -- state changes --------------------------------------------------------------------------
# Which states allow what, and what each action leads to: jobs/state.py's TRANSITIONS.


def pause_job(store: Store, job_id: str) -> Job:
    """Stop after the segment in flight; finished audio is kept. Idempotent."""
    return perform(store, job_id, Action.PAUSE)


def resume_job(store: Store, job_id: str) -> Job:
    """Put a paused, interrupted or failed job back in the server's queue. Idempotent."""
    return perform(store, job_id, Action.RESUME, origin=st.ORIGIN_SERVER)


def cancel_job(store: Store, job_id: str) -> Job:
    """Stop for good after the segment in flight (finished audio is kept). Idempotent."""
    return perform(store, job_id, Action.CANCEL)


def edit_text(text: object) -> str:
    """A segment's new text, normalised as planned text is; InputError if unusable."""
    if not isinstance(text, str):
        raise InputError("text must be a string")
    # Typed markup is text, never an engine instruction (only the dictionary writes any).
    new_text = " ".join(engine_safe(normalize(text)).split())
    if not new_text:
        raise InputError("the segment's text is empty")
    if len(new_text) > MAX_SEGMENT_CHARS:
        raise PayloadTooLarge(f"a segment's text is limited to {MAX_SEGMENT_CHARS} characters,"
                              f" got {len(new_text)}")
    return new_text


def edit_segment(store: Store, job_id: str, idx: int, *, text: str | None = None,
                 options: Mapping[str, Any] | None = None,
                 origin: str = st.ORIGIN_SERVER) -> tuple[SegmentRow, bool]:
    """New text and/or engine options for one segment; returns (segment, changed).

    A change sends the segment back to 'pending' and the job to 'queued' (the server's
    worker renders it again and rebuilds the narration and subtitles); its takes (rows and
    files) and its approval are dropped, since they are of the old text. The same text and
    options give the same key, and are a no-op.
    """
    job = store.get_job(job_id)
    seg = store.segment(job_id, idx)
    check(job_id, Action.EDIT, job.state)
    new_text = seg.text if text is None else edit_text(text)
    engine = registry.get_engine(seg.engine)
    settings = dict(seg.settings)
    if options is not None:
        given = check_options(options)
        # engine_options_for keeps only the engine's own options: refuse the others first
        check_engine_options({seg.engine}, given)
        settings = engine_options_for(seg.engine, {**settings, **given}, ClipStore(store.data_dir))
    spoken = job_dictionary(job.settings, store.data_dir).apply(new_text, seg.language,
                                                                seg.engine).text
    engine_text = spoken if spoken != new_text else None
    key = segment_key(engine_text or new_text, seg.engine, engine.version, seg.voice, settings)
    if key == seg.key:
        return seg, False
    # Whoever edits drives the job from now on (a CLI job edited in the UI is re-rendered
    # by the server's worker; `review --edit` renders it at once).
    edit = TRANSITIONS[Action.EDIT]
    takes = store.take_files(job_id, idx)  # of the old text: gone with it
    if not store.edit_segment(job_id, idx, text=new_text, settings=settings, key=key,
                              job_state=edit.to, from_states=edit.sources,
                              origin=origin, engine_text=engine_text):
        check(job_id, Action.EDIT, store.job_state(job_id))  # cancelled meanwhile
        raise JobConflict(f"job {job_id} is changing state; try again")
    for path in takes:
        Path(path).unlink(missing_ok=True)
    return store.segment(job_id, idx), True


def delete_job(store: Store, job_id: str, wait_s: float = 60.0) -> None:
    """Cancel the job, wait for its runner to stop (at most the segment in flight), then
    remove its rows and its folder. Files outside the job folder (a CLI --output) are the
    user's and are left alone."""
    store.get_job(job_id)  # JobNotFound first
    fire(store, job_id, Action.DELETE)  # a runner stops after its segment in flight
    job_dir = store.job_dir(job_id)
    lock = FileLock(job_dir / "run.lock", timeout=wait_s)
    try:
        lock.acquire()
    except Timeout:
        raise JobBusy(f"job {job_id} is still running; try again") from None
    except FileNotFoundError:  # its folder is already gone
        pass
    try:
        store.delete_job(job_id)
        shutil.rmtree(job_dir, ignore_errors=True)
    finally:
        if lock.is_locked:
            lock.release()


def requeue_interrupted(store: Store) -> list[str]:
    """Server start-up: its jobs that a stop or crash interrupted go back in the queue."""
    return [job.id for job in store.list_jobs()
            if job.origin == st.ORIGIN_SERVER and job.state == JobState.INTERRUPTED
            and fire(store, job.id, Event.REQUEUE, seen=JobState.INTERRUPTED)]


def requeue_stopped(store: Store, jobs: list[Job]) -> list[str]:
    """A CLI batch run again: those of its jobs that were interrupted or failed go back in
    the queue (their finished segments are kept)."""
    return [job.id for job in jobs if fire(store, job.id, Event.REQUEUE, seen=job.state)]

