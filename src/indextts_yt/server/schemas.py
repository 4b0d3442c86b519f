"""Request models and the JSON shapes of jobs and segments (docs/API.md is the contract).

Request models forbid unknown fields, so a misspelt setting ("pauses": {"sentense": 1})
is a 422 instead of being silently ignored.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from ..jobs import store as st
from ..jobs.store import Job, SegmentRow
from ..settings import JobSettings, Options, OutputSettings


_JOB = JobSettings.model_fields
_OUTPUT = OutputSettings.model_fields


class _JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="the script (plain text or light Markdown);"
                             " omit when uploading a file")
    title: str | None = Field(None, max_length=200)
    streaming: bool = True
    preset: str | None = Field(None, description="start from this settings preset; the "
                               "fields given here win over it")

    def settings_given(self) -> dict[str, Any]:
        """The settings this request names, shaped as JobSettings (to lay over a preset's)."""
        given = self.model_fields_set
        top = {k: getattr(self, k) for k in _JOB if k != "output" and k in given}
        output = {k: getattr(self, k) for k in _OUTPUT if k in given}
        return {**top, "output": output} if output else top


def _fields(fields: dict[str, FieldInfo]) -> dict[str, Any]:
    return {name: (f.annotation, f) for name, f in fields.items() if name != "output"}


#: A new narration, as JSON or as multipart form fields beside an uploaded ``file``: the
#: HTTP form's adapter to settings.JobSettings, whose fields it takes (types, limits and
#: descriptions included), with the output choices side by side as form fields. So a new
#: setting appears here by itself.
JobCreate = create_model("JobCreate", __base__=_JobCreate, **_fields(_JOB), **_fields(_OUTPUT))


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    engine: str = _JOB["engine"]
    voice: str | None = _JOB["voice"]
    max_chars: int | None = _JOB["max_chars"]


class SegmentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    options: Options | None = None


def job_json(job: Job, progress: tuple[int, int, float], queue: list[str]) -> dict[str, Any]:
    total, done, audio_s = progress
    return {
        "id": job.id,
        "title": job.title,
        "state": job.state,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "engine": job.engine,
        "voice": job.voice,
        # max_chars null: the engine's own longest segment
        "settings": job.settings.model_dump(include={"options", "pauses", "max_chars"}),
        "streaming": job.streaming,
        "total": total,
        "done": done,
        "audio_seconds": round(audio_s, 3),
        "error": job.error,
        "batch_id": job.batch_id,
        "output_ready": job.state == st.DONE and os.path.exists(job.output_path),
        "output": {**job.settings.output.model_dump(), **job.files.model_dump()},
        # once done: measured loudness (LUFS, true peak), duration, chapters, warnings
        "report": job.report,
        # 1 = the next job the worker will start; null when not queued.
        "queue_position": queue.index(job.id) + 1 if job.id in queue else None,
        "actions": st.allowed_actions(job.state),  # what pause/resume/... accept now
    }


def segment_json(seg: SegmentRow) -> dict[str, Any]:
    current = seg.state == st.SEG_DONE and seg.audio_key == seg.key
    audio = seg.audio_seconds if current else None
    compute = seg.compute_seconds if current else None
    return {
        "index": seg.idx,
        "text": seg.text,
        "state": seg.state if seg.state != st.SEG_DONE or current else st.PENDING,
        "chapter": seg.chapter,
        "pause_after": seg.pause_after,
        "language": seg.language,
        "engine": seg.engine,
        "voice": seg.voice,
        "settings": seg.settings,
        "audio_seconds": audio,
        "compute_seconds": compute,
        "rtf": (compute / audio) if audio and compute is not None and not seg.reused else None,
        "reused": bool(seg.reused and current),
        "error": seg.error,
        # what the engine reported about the current audio ("runaway: ...", "clipping: ...")
        "warnings": list(seg.warnings) if current else [],
    }


def job_of(store: st.Store, job_id: str) -> dict[str, Any]:
    """The job object, read from ``store`` (raises JobNotFound)."""
    job = store.get_job(job_id)
    progress = store.progress(job_id).get(job_id, (0, 0, 0.0))
    queue = store.queued_ids() if job.state == st.QUEUED else []
    return job_json(job, progress, queue)
