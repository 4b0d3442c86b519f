"""What the API answers: one model per JSON object, so /openapi.json documents every answer.

docs/API.md describes each of these models in a field table; tests/test_api_doc.py checks
that both list the same fields. The models forbid unknown fields: a key added to an answer
but not to its model fails loudly instead of being dropped from the JSON.

Free-form maps (engine options, settings, reports) stay ``dict[str, Any]`` and numbers that
may be either stay ``int | float``, so the JSON is exactly what the studio stored.
"""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..engines import registry
from ..errors import StudioError
from ..jobs import proofread, review
from ..jobs import store as st
from ..jobs.state import JobState, SegmentState, allowed_actions
from ..jobs.store import Job, SegmentRow, TakeRow
from ..settings import JobSettings

Number = int | float


class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Public):
    """Every 4xx/5xx answer."""

    error: str = Field(description="one readable line")


#: Declared for every API route (app.py): any 4xx or 5xx answer is an ErrorBody.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "bad input, unknown id, wrong state, too large"},
    "5XX": {"model": ErrorBody, "description": "an unexpected error (see the server log)"},
}


def file_response(*media_types: str, description: str = "a file") -> dict[int | str, Any]:
    """``responses=`` for a route that answers with bytes of one of ``media_types``."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": description, "content": {t: binary for t in media_types}}}


# -- health, engines, preview --------------------------------------------------------------

class Health(_Public):
    ok: bool
    version: str
    ready: bool = Field(description="the worker has started and warmed the default engine up")


class EngineLoad(_Public):
    """How an IndexTTS model is loaded (the serve flags)."""

    checkpoints: str
    device: str | None
    fp16: bool
    accel: bool
    compile: bool
    cuda_kernel: bool


class EngineCapabilities(_Public):
    languages: list[str]
    cloning: bool
    emotion: list[str]
    max_segment_chars: int
    streaming: bool
    chars_per_minute: dict[str, int] = Field(
        description="language -> characters a minute of narration at speed 1.0; '*': any other")


class EngineSetting(_Public):
    name: str
    kind: str = Field(description="number, integer, text, choice or clip")
    default: Number | str
    minimum: Number
    maximum: Number
    choices: list[str]
    help: str
    ignored: str = Field(description="why it has no effect here; '' when it has")


class EngineVoice(_Public):
    id: str
    name: str
    language: str
    description: str
    read_only: bool
    terms: str = Field(description="terms of use that limit the audio made with it "
                       "('non-commercial use only ...'); '' for none")


class EngineInfo(_Public):
    """An engine that can run here."""

    name: str
    load: EngineLoad | None
    sample_rate: int
    capabilities: EngineCapabilities
    available: Literal[True] = True
    settings: list[EngineSetting]
    voices: list[EngineVoice]


class EngineMissing(_Public):
    """An engine that cannot run here (its extra or weights are missing)."""

    name: str
    available: Literal[False] = False
    reason: str = Field(description="what to install or download")


class PreviewSegment(_Public):
    index: int
    text: str
    chars: int
    pause_after: str
    chapter: str | None
    language: str
    engine: str
    voice: str
    speaker: str | None = Field(None, description="the cast name that speaks it (a "
                                "dialogue line or [voice: Name]); null: the narrator")
    seconds: float = Field(description="estimated length of its speech at speed 1.0")
    spoken: str | None = Field(None, description="what its engine reads, where the "
                               "pronunciation dictionary changed the text; null otherwise")


class Preview(_Public):
    version: int
    segments: list[PreviewSegment]
    notes: list[str] = Field(description="what to know before listening: markup left out, "
                             "segments read by another engine, voices' terms of use")


# -- jobs and segments ---------------------------------------------------------------------

class JobSettingsPublic(_Public):
    options: dict[str, Any]
    pauses: dict[str, Any]
    max_chars: int | None = Field(description="null: the engine's own longest segment")
    checks: dict[str, Any] = Field(description="proofreading: {mode, retakes, asr_model} as "
                                   "asked (null: the engine's default)")
    cast: dict[str, Any] = Field(default_factory=dict, description="characters by name: "
                                 "{voice, engine, speed, emotion}")
    dialogue: dict[str, Any] | None = Field(None, description="automatic dialogue: "
                                            "{voice, attribution}; null: off")
    dictionary: list[dict[str, Any]] = Field(
        default_factory=list, description="the job's own pronunciation entries (the "
        "studio's apply too)")


class JobPublic(_Public):
    id: str
    title: str
    state: str
    created_at: float
    updated_at: float
    engine: str
    voice: str | None
    settings: JobSettingsPublic
    streaming: bool
    total: int
    done: int
    audio_seconds: float
    error: str | None
    batch_id: str | None
    output_ready: bool
    output: dict[str, Any] | None
    report: dict[str, Any] | None = Field(
        description="once done: measured loudness, duration, chapters, warnings")
    queue_position: int | None = Field(
        description="1 = the next job the worker will start; null when not queued")
    actions: list[str] = Field(description="the actions the job accepts now (pause, resume, "
                               "cancel, delete, edit): what the web UI's buttons offer")
    notes: list[str] = Field(description="what the plan said: markup left out, segments read "
                             "by another engine than the one chosen, voices' terms of use")


class TakePublic(_Public):
    take: int = Field(description="1-based; take 1 is the first render")
    seed: int | None = Field(description="the seed it was rendered with; null: no seed")
    audio_seconds: float
    status: str = Field(description="ok, flagged, not_checked, or unchecked (not yet)")
    rejected: bool = Field(description="a person asked for another take after this one")
    verdicts: list[dict[str, Any]] = Field(
        description="each check's finding: name, ok, score, threshold, evidence")
    heard: str | None = Field(description="what speech recognition heard; null: not heard")
    diff: dict[str, Any] | None = Field(
        description="script vs heard: {unit: word|char, ops: [{kind: equal|missing|added|"
                    "changed, reference: [...], heard: [...]}]} (normalised words)")
    notes: list[str] = Field(description="why it was not checked, if it was not")


class SegmentPublic(_Public):
    index: int
    text: str
    state: str
    chapter: str | None
    pause_after: str
    language: str
    engine: str
    voice: str
    speaker: str | None = Field(None, description="the cast name that speaks it; null: "
                                "the narrator")
    settings: dict[str, Any]
    audio_seconds: float | None
    compute_seconds: float | None
    rtf: float | None
    reused: bool
    error: str | None
    warnings: list[str] = Field(
        description="what the engine reported about the current audio")
    status: str = Field(description="ok, flagged, not_checked (its chosen take's check), "
                        "approved, or unchecked (no audio yet, or its check not back)")
    take: int | None = Field(description="the chosen take (null before any)")
    approved: bool
    retake_asked: bool = Field(description="a person asked for one more take, not made yet")
    can_retake: bool = Field(description="its engine takes a seed, so one more take can "
                             "differ (false: edit its text instead)")
    start_s: float | None = Field(description="where it starts in the last published "
                                  "narration (null before)")
    takes: list[TakePublic] = Field(description="every take of its current text, in order")


class SegmentReviewPublic(_Public):
    index: int = Field(description="from 0")
    text: str
    language: str
    engine: str
    voice: str
    speaker: str | None = Field(None, description="the cast name that speaks it; null: "
                                "the narrator")
    start_s: float | None = Field(description="where it starts in the published narration")
    audio_seconds: float | None
    status: str = Field(description="ok, flagged, not_checked, approved or unchecked")
    take: int | None = Field(description="the chosen take")
    approved: bool
    retake_asked: bool
    takes: list[TakePublic]


class ReviewPublic(_Public):
    """A job's review state: the format of `indextts-yt review --json`."""

    version: int
    job: str
    state: str
    title: str
    checks: dict[str, Any] = Field(description="{mode, retakes, asr_model} as asked")
    counts: dict[str, int] = Field(description="segments by status: ok, flagged, "
                                   "not_checked, approved, unchecked")
    summary: dict[str, int] = Field(description="the report's checks counts")
    segments: list[SegmentReviewPublic]


def file_name(path: str | None) -> str | None:
    """A file's name without the server's folders: clients fetch files by route, and the
    server's layout (its user name, its data folder) is none of their business."""
    return PurePath(path).name if path else None


def public_report(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if not report or "files" not in report:
        return report
    return {**report, "files": [file_name(f) for f in report["files"]]}


def public_progress(event: dict[str, Any]) -> dict[str, Any]:
    """A progress event (runner.ProgressEvent.to_dict) with file names, not paths."""
    return {**event, "output_path": file_name(event.get("output_path")),
            "report": public_report(event.get("report"))}


def job_json(job: Job, progress: tuple[int, int, float], queue: list[str]) -> JobPublic:
    total, done, audio_s = progress
    return JobPublic(
        id=job.id,
        title=job.title,
        state=job.state,
        created_at=job.created_at,
        updated_at=job.updated_at,
        engine=job.engine,
        voice=job.voice,
        settings=JobSettingsPublic(**job.settings.model_dump(
            include={"options", "pauses", "max_chars", "checks", "cast", "dialogue",
                     "dictionary"})),
        streaming=job.streaming,
        total=total,
        done=done,
        audio_seconds=round(audio_s, 3),
        error=job.error,
        batch_id=job.batch_id,
        output_ready=job.state == JobState.DONE and os.path.exists(job.output_path),
        output={**job.settings.output.model_dump(),
                **{k: file_name(v) for k, v in job.files.model_dump().items()}},
        report=public_report(job.report),
        queue_position=queue.index(job.id) + 1 if job.id in queue else None,
        actions=allowed_actions(job.state),
        notes=list(job.notes),
    )


def take_json(take: TakeRow) -> TakePublic:
    return TakePublic(**review.take_json(take))


def can_retake(engine: str) -> bool:
    """Whether one more take of a segment read by ``engine`` can differ (review's retake
    refuses the others); an engine that cannot start here cannot retake either."""
    try:
        return proofread.seedable(registry.get_engine(engine))
    except StudioError:
        return False


def segment_json(seg: SegmentRow, takes: list[TakeRow]) -> SegmentPublic:
    current = seg.state == SegmentState.DONE and seg.audio_key == seg.key
    audio = seg.audio_seconds if current else None
    compute = seg.compute_seconds if current else None
    return SegmentPublic(
        index=seg.idx,
        text=seg.text,
        state=seg.state if seg.state != SegmentState.DONE or current else SegmentState.PENDING,
        chapter=seg.chapter,
        pause_after=seg.pause_after,
        language=seg.language,
        engine=seg.engine,
        voice=seg.voice,
        speaker=seg.speaker,
        settings=seg.settings,
        audio_seconds=audio,
        compute_seconds=compute,
        rtf=(compute / audio) if audio and compute is not None and not seg.reused else None,
        reused=bool(seg.reused and current),
        error=seg.error,
        warnings=list(seg.warnings) if current else [],
        status=proofread.segment_status(seg, takes) if current else
        (proofread.APPROVED if seg.approved else proofread.UNCHECKED),
        take=seg.take if current else None,
        approved=seg.approved,
        retake_asked=seg.retake_asked,
        can_retake=can_retake(seg.engine),
        start_s=seg.start_s if current else None,
        takes=[take_json(t) for t in takes],
    )


def job_of(store: st.Store, job_id: str) -> JobPublic:
    """The job object, read from ``store`` (raises JobNotFound)."""
    job = store.get_job(job_id)
    progress = store.progress(job_id).get(job_id, (0, 0, 0.0))
    queue = store.queued_ids() if job.state == JobState.QUEUED else []
    return job_json(job, progress, queue)


# -- queue and batches ---------------------------------------------------------------------

class QueueEntryPublic(_Public):
    id: str
    title: str
    state: str
    batch_id: str | None
    position: int | None = Field(description="1 = next to start; null: running or not waiting")
    remaining_s: float | None = Field(description="estimated compute left for the job")
    eta_s: float | None = Field(description="seconds from now until the job is done")
    actions: list[str] = Field(description="the actions the job accepts now, as on the job")


class WorkersPublic(_Public):
    """Engine actors on Ray that render the studio's takes (``serve --workers N``)."""

    workers: int
    address: str | None = Field(description="the Ray cluster's address; null: a local Ray "
                                            "instance the studio started")
    gpu: bool = Field(description="one GPU each; else a share of the CPUs")
    threads: int = Field(description="CPU threads each")


class QueuePublic(_Public):
    jobs: list[QueueEntryPublic]
    workers: WorkersPublic | None = Field(
        None, description="where takes are rendered; null: in the server's own process")


class QueueOrder(_Public):
    order: list[str] = Field(description="the queued job ids, next first")


class BatchJobPublic(JobPublic):
    eta_s: float | None


class BatchPublic(_Public):
    batch_id: str
    jobs: list[BatchJobPublic]


# -- presets, voices, clips ----------------------------------------------------------------

class PresetPublic(_Public):
    name: str
    description: str
    settings: JobSettings
    created_at: float
    updated_at: float


class VoicePublic(_Public):
    id: str
    kind: str = Field(description="library or bundled")
    name: str
    voice: str = Field(description="what a job takes: the clip id or the engine's voice id")
    engine: str | None
    language: str | None
    tags: list[str]
    notes: str
    read_only: bool
    cloning: bool
    description: str
    terms: str = Field(description="a bundled voice's terms of use; '' for none")
    seconds: float | None
    created_at: float | None
    updated_at: float | None


class ClipPublic(_Public):
    id: str
    name: str
    seconds: float
    sample_rate: int


class PreloadResult(_Public):
    clip: str
    engine: str
    result: str = Field(description="analysed, loaded from the disk cache, or already in memory")
    seconds: float
