"""Request models and the JSON shapes of jobs and segments (docs/API.md is the contract).

Request models forbid unknown fields, so a misspelt setting ("pauses": {"sentense": 1})
is a 422 instead of being silently ignored.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..jobs import store as st
from ..jobs.store import Job, SegmentRow


class Pauses(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clause: float | None = Field(None, ge=0, le=10,
                                 description="seconds where a long sentence was cut")
    sentence: float | None = Field(None, ge=0, le=10, description="seconds after a sentence")
    paragraph: float | None = Field(None, ge=0, le=10, description="seconds after a paragraph")
    heading: float | None = Field(None, ge=0, le=10, description="seconds after a heading")

    def given(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class JobCreate(BaseModel):
    """A new narration. As JSON, or as multipart form fields beside an uploaded ``file``."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="the script (plain text or light Markdown);"
                             " omit when uploading a file")
    title: str | None = Field(None, max_length=200)
    engine: str = Field("auto", description="an engine name, or 'auto' to pick per segment")
    voice: str | None = Field(None, description="a voice id; null for each engine's default")
    options: dict[str, float | str] = Field(
        default_factory=dict, description="engine options by name: numbers, or text for "
        "text/choice/clip settings, e.g. {\"speed\": 1.1, \"emotion_clip\": \"clip-...\"}")
    pauses: Pauses = Field(default_factory=Pauses)
    streaming: bool = True
    format: str = Field("wav", description="the download: wav, flac, mp3, opus or aac (m4a); "
                        "the WAV is always there too")
    bitrate: str | int | None = Field(None, description="mp3/opus/aac bit rate, e.g. \"96k\"")
    loudness: str | float | None = Field(None, description="LUFS, or podcast (-16, the "
                                         "default), youtube (-14), broadcast (-23), off")
    trim: bool = Field(True, description="cut each segment's leading/trailing silence")
    subtitles: dict[str, float | int] | None = Field(
        None, description="cue style: max_line_chars, max_lines, max_cue_s, min_cue_s")
    max_chars: int | None = Field(None, ge=20, le=2000,
                                  description="longest segment (default: the engine's)")
    preset: str | None = Field(None, description="start from this settings preset; the "
                               "fields given here win over it")

    def settings_given(self) -> dict[str, Any]:
        """The settings this request names, shaped as a preset's (to lay over one)."""
        given = self.model_fields_set
        top = {k: getattr(self, k) for k in ("engine", "voice", "max_chars") if k in given}
        if "options" in given:
            top["options"] = dict(self.options)
        if "pauses" in given:
            top["pauses"] = self.pauses.given()
        output = {k: getattr(self, k) for k in ("format", "bitrate", "loudness", "trim",
                                                "subtitles") if k in given}
        if output:
            top["output"] = output
        return top


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    engine: str = "auto"
    voice: str | None = None
    max_chars: int | None = Field(None, ge=20, le=2000)


class SegmentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    options: dict[str, float | str] | None = None


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
        "settings": {"options": job.settings.get("options", {}),
                     "pauses": job.settings.get("pauses", {}),
                     "max_chars": job.settings.get("max_chars")},
        "streaming": job.streaming,
        "total": total,
        "done": done,
        "audio_seconds": round(audio_s, 3),
        "error": job.error,
        "batch_id": job.batch_id,
        "output_ready": job.state == st.DONE and os.path.exists(job.output_path),
        "output": job.settings.get("output"),
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
