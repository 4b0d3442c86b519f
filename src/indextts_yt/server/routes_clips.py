"""Reference clips for the cloning engines: upload (validated and stored once), list, play,
and preload (analyse now, so a job in that voice starts without the analysis)."""

from __future__ import annotations

import time
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..clips import MAX_CLIP_BYTES, ClipStore
from ..engine_setup import preload_clip
from ..errors import InputError, PayloadTooLarge
from .errors import UnsupportedMedia
from .uploads import capped

router = APIRouter(tags=["clips"])
_FORM_SLACK = 64 * 1024


def _clips(request: Request) -> ClipStore:
    return ClipStore(request.app.state.studio.data_dir)


@router.get("/api/clips", summary="Reference clips stored in the studio")
def list_clips(request: Request) -> list[dict[str, Any]]:
    return [clip.to_dict() for clip in _clips(request).list()]


@router.post("/api/clips", status_code=201,
             summary="Upload a reference clip (multipart 'file': WAV, FLAC, MP3, OGG, M4A; 1-15 s)")
async def upload_clip(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedMedia("upload the clip as multipart/form-data with a 'file' field")
    limited = capped(request, MAX_CLIP_BYTES + _FORM_SLACK)
    try:
        form = await limited.form(max_files=1, max_fields=2)
    except PayloadTooLarge:
        raise PayloadTooLarge(f"a reference clip is limited to "
                              f"{MAX_CLIP_BYTES // (1024 * 1024)} MB") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError("the form needs a 'file' field with the clip")
        name = PurePath(upload.filename or "clip").name
        data = await upload.read()
    finally:
        await form.close()
    clip = await run_in_threadpool(_clips(request).add, data, name)
    return clip.to_dict()


@router.get("/api/clips/{clip_id}/audio", response_class=FileResponse,
            summary="The stored clip (mono WAV)")
def clip_audio(clip_id: str, request: Request) -> FileResponse:
    clip = _clips(request).get(clip_id)
    return FileResponse(clip.path, media_type="audio/wav", filename=f"{clip.id}.wav")


class PreloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: str = Field(..., description="indextts2 or indextts2.5")


@router.post("/api/clips/{clip_id}/preload",
             summary="Analyse a clip now (loads the model if needed; makes no speech)")
async def preload(clip_id: str, body: PreloadRequest, request: Request) -> dict[str, Any]:
    clip = _clips(request).get(clip_id)
    started = time.monotonic()
    how = await run_in_threadpool(preload_clip, body.engine, clip)
    return {"clip": clip.id, "engine": body.engine, "result": how,
            "seconds": round(time.monotonic() - started, 3)}
