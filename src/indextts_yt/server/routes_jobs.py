"""Jobs: create, list, get, delete; pause/resume/cancel; segments and their edits; files.

Plain ``def`` endpoints run on the thread pool with the request's own Store (StoreDep);
each only changes rows (through jobs.service) and wakes the worker — the work itself is the worker's, so a
request returns at once and nothing here waits on synthesis. Files are served only by job
and segment id, from paths the store recorded, never from a path the client sent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ..audio.encode import FORMATS
from ..errors import JobConflict, JobNotFound
from ..jobs import review, service
from ..jobs.review import ReviewAction
from ..jobs.state import JobState
from ..jobs import store as st
from ..jobs.store import TakeRow
from .context import PresetsDep, StoreDep, Studio, StudioDep
from .responses import JobPublic, ReviewPublic, SegmentPublic, file_response, job_json, job_of, segment_json
from .schemas import Approval, JobCreate, SegmentEdit
from .uploads import read_job_form

router = APIRouter(tags=["jobs"])

_JOB_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


def checked_id(job_id: str) -> str:
    """Ids are ours; anything else is a missing job (and never reaches a path)."""
    if not _JOB_ID.match(job_id):
        raise JobNotFound(f"no job {job_id!r}")
    return job_id


_CREATE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": JobCreate.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary",
                             "description": "a UTF-8 .txt or .md script"},
                    "text": {"type": "string"}, "title": {"type": "string"},
                    "engine": {"type": "string"}, "voice": {"type": "string"},
                    "options": {"type": "string", "description": "JSON object"},
                    "pauses": {"type": "string", "description": "JSON object"},
                    "streaming": {"type": "boolean"}, "max_chars": {"type": "integer"},
                },
            }},
        },
    }
}


@router.post("/api/jobs", status_code=201, openapi_extra=_CREATE_DOC,
             summary="Start a narration (JSON, or a multipart upload of a .txt/.md file)")
async def create_job(request: Request, s: StudioDep, store: StoreDep,
                     presets: PresetsDep) -> JobPublic:
    form = await read_job_form(request)

    def create() -> JobPublic:
        job, _ = service.create_job(store, form.request(presets))
        return job_of(store, job.id)

    job = await run_in_threadpool(create)
    s.changed(job.id)
    return job


@router.get("/api/jobs", summary="All jobs, newest first")
def list_jobs(store: StoreDep) -> list[JobPublic]:
    progress = store.progress()
    queue = store.queued_ids()
    return [job_json(job, progress.get(job.id, (0, 0, 0.0)), queue) for job in store.list_jobs()]


@router.get("/api/jobs/{job_id}", summary="One job")
def get_job(job_id: str, store: StoreDep) -> JobPublic:
    return job_of(store, checked_id(job_id))


@router.delete("/api/jobs/{job_id}", status_code=204, response_class=Response,
               summary="Delete a job and its files (a running job is cancelled first)")
def delete_job(job_id: str, s: StudioDep, store: StoreDep) -> Response:
    service.delete_job(store, checked_id(job_id))
    s.hub.forget(job_id)
    return Response(status_code=204)


def _act(s: Studio, store: st.Store, job_id: str,
         action: Callable[[st.Store, str], object]) -> JobPublic:
    action(store, checked_id(job_id))
    s.changed(job_id)
    return job_of(store, job_id)


@router.post("/api/jobs/{job_id}/pause", summary="Pause after the segment in flight")
def pause(job_id: str, s: StudioDep, store: StoreDep) -> JobPublic:
    return _act(s, store, job_id, service.pause_job)


@router.post("/api/jobs/{job_id}/resume", summary="Queue a paused, interrupted or failed job")
def resume(job_id: str, s: StudioDep, store: StoreDep) -> JobPublic:
    return _act(s, store, job_id, service.resume_job)


@router.post("/api/jobs/{job_id}/cancel", summary="Stop for good after the segment in flight")
def cancel(job_id: str, s: StudioDep, store: StoreDep) -> JobPublic:
    return _act(s, store, job_id, service.cancel_job)


@router.get("/api/jobs/{job_id}/segments", summary="The job's segments and their timings")
def segments(job_id: str, store: StoreDep) -> list[SegmentPublic]:
    store.get_job(checked_id(job_id))
    takes: dict[int, list[TakeRow]] = {}
    for take in store.takes(job_id):
        takes.setdefault(take.idx, []).append(take)
    return [segment_json(seg, takes.get(seg.idx, [])) for seg in store.segments(job_id)]


@router.patch("/api/jobs/{job_id}/segments/{index}",
              summary="Edit one segment's text or options; it is rendered again")
def edit_segment(job_id: str, index: int, body: SegmentEdit, s: StudioDep,
                 store: StoreDep) -> SegmentPublic:
    seg, changed = service.edit_segment(store, checked_id(job_id), index, text=body.text,
                                        options=body.options)
    if changed:
        s.changed(job_id)
    return segment_json(seg, store.takes(seg.job_id, seg.idx))


def _review(s: Studio, store: st.Store, job_id: str, action: ReviewAction) -> SegmentPublic:
    if review.apply_actions(store, checked_id(job_id), [action], origin=st.ORIGIN_SERVER):
        s.changed(job_id)
    return segment_json(store.segment(job_id, action.idx), store.takes(job_id, action.idx))


@router.post("/api/jobs/{job_id}/segments/{index}/approve",
             summary="Approve a segment as it is (never retaken), or withdraw that")
def approve_segment(job_id: str, index: int, s: StudioDep, store: StoreDep,
                    body: Approval | None = None) -> SegmentPublic:
    approved = body.approved if body else True
    return _review(s, store, job_id, ReviewAction("approve" if approved else "unapprove", index))


@router.post("/api/jobs/{job_id}/segments/{index}/retake",
             summary="One more take of a segment with the next seed; the job is re-queued")
def retake_segment(job_id: str, index: int, s: StudioDep, store: StoreDep) -> SegmentPublic:
    return _review(s, store, job_id, ReviewAction("retake", index))


@router.post("/api/jobs/{job_id}/segments/{index}/takes/{take}/choose",
             summary="Use this take of a segment (approves it); the narration is rebuilt")
def choose_take(job_id: str, index: int, take: int, s: StudioDep,
                store: StoreDep) -> SegmentPublic:
    return _review(s, store, job_id, ReviewAction("take", index, take=take))


@router.get("/api/jobs/{job_id}/segments/{index}/takes/{take}/audio",
            response_class=FileResponse,
            responses=file_response("audio/wav", description="the take's WAV"),
            summary="One take of a segment as WAV (for listening to takes side by side)")
def take_audio(job_id: str, index: int, take: int, store: StoreDep) -> FileResponse:
    found = next((t for t in store.takes(checked_id(job_id), index) if t.take == take), None)
    if found is None or not os.path.exists(found.audio_path):
        raise JobNotFound(f"segment {index + 1} of job {job_id} has no take {take}")
    return FileResponse(found.audio_path, media_type="audio/wav",
                        headers={"Cache-Control": "no-store"})


@router.get("/api/jobs/{job_id}/review",
            summary="Every segment with its proofreading status, verdicts and takes "
                    "(the format of `indextts-yt review --json`)")
def review_job(job_id: str, store: StoreDep) -> ReviewPublic:
    return ReviewPublic(**review.review_json(store, checked_id(job_id)))


@router.get("/api/jobs/{job_id}/segments/{index}/audio", response_class=FileResponse,
            responses=file_response("audio/wav", description="the segment's WAV"),
            summary="One finished segment as WAV (404 until it is done)")
def segment_audio(job_id: str, index: int, store: StoreDep) -> FileResponse:
    seg = store.segment(checked_id(job_id), index)
    if not seg.has_valid_audio:
        raise JobNotFound(f"segment {index} of job {job_id} has no audio yet")
    return FileResponse(seg.audio_path, media_type="audio/wav",
                        headers={"Cache-Control": "no-store"})


def _finished_file(store: st.Store, job_id: str, which: str) -> tuple[st.Job, str]:
    job = store.get_job(checked_id(job_id))
    if job.state != JobState.DONE:
        raise JobConflict(f"job {job_id} is {job.state}; the {which} is ready when it is done")
    path = {"narration": job.output_path, "subtitles": job.srt_path,
            "webvtt": job.files.vtt, "chapters": job.files.chapters, "words": job.files.words,
            "encoded": job.files.file}[which]
    if not path or not os.path.exists(path):
        raise JobNotFound(f"job {job_id} has no {which} file")
    return job, path


def _download_name(title: str, suffix: str) -> str:
    name = re.sub(r"[\x00-\x1f/\\\"<>:|?*]+", " ", title).strip(" .") or "narration"
    return name[:100] + suffix


_ENCODED = sorted({"audio/wav", *(spec.media_type for spec in FORMATS.values())})


@router.get("/api/jobs/{job_id}/download", response_class=FileResponse,
            responses=file_response(*_ENCODED, description="the narration (an attachment)"),
            summary="The finished narration (409 until done): the WAV, or ?format= the "
                    "encoded file the job was asked for")
def download(job_id: str, store: StoreDep, format: str = "wav") -> FileResponse:
    if format == "wav":
        job, path = _finished_file(store, job_id, "narration")
        return FileResponse(path, media_type="audio/wav",
                            filename=_download_name(job.title, ".wav"))
    job, path = _finished_file(store, job_id, "encoded")
    spec = FORMATS[job.settings.output.format]
    if format not in (spec.name, *(e.lstrip(".") for e in spec.extensions)):
        raise JobNotFound(f"job {job_id} was made as {spec.name}, not {format!r}")
    return FileResponse(path, media_type=spec.media_type,
                        filename=_download_name(job.title, Path(path).suffix))


@router.get("/api/jobs/{job_id}/subtitles.srt", response_class=FileResponse,
            responses=file_response("application/x-subrip", description="SRT subtitles"),
            summary="The finished narration's SRT subtitles (409 until done)")
def subtitles(job_id: str, store: StoreDep) -> FileResponse:
    job, path = _finished_file(store, job_id, "subtitles")
    return FileResponse(path, media_type="application/x-subrip; charset=utf-8",
                        filename=_download_name(job.title, ".srt"))


@router.get("/api/jobs/{job_id}/subtitles.vtt", response_class=FileResponse,
            responses=file_response("text/vtt", description="WebVTT subtitles"),
            summary="The finished narration's WebVTT subtitles (409 until done)")
def subtitles_vtt(job_id: str, store: StoreDep) -> FileResponse:
    job, path = _finished_file(store, job_id, "webvtt")
    return FileResponse(path, media_type="text/vtt; charset=utf-8",
                        filename=_download_name(job.title, ".vtt"))


@router.get("/api/jobs/{job_id}/words.json", response_class=FileResponse,
            responses=file_response("application/json", description="the word timings"),
            summary="When each word of the script is said (JSON; 409 until done)")
def words(job_id: str, store: StoreDep) -> FileResponse:
    job, path = _finished_file(store, job_id, "words")
    return FileResponse(path, media_type="application/json",
                        filename=_download_name(job.title, " words.json"))


@router.get("/api/jobs/{job_id}/chapters.txt", response_class=FileResponse,
            responses=file_response("text/plain", description="the chapter list"),
            summary="The YouTube chapter list (\"00:00 Title\" lines; 409 until done)")
def chapters(job_id: str, store: StoreDep) -> FileResponse:
    job, path = _finished_file(store, job_id, "chapters")
    return FileResponse(path, media_type="text/plain; charset=utf-8",
                        filename=_download_name(job.title, " chapters.txt"))
