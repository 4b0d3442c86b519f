"""Reference clips for the cloning engines: upload (validated and stored once), list, play,
and preload (analyse now, so a job in that voice starts without the analysis)."""

from __future__ import annotations

import time
from pathlib import PurePath

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..clips import MAX_CLIP_BYTES
from ..engine_setup import preload_clip
from ..errors import InputError, PayloadTooLarge
from .context import ClipsDep
from .errors import UnsupportedMedia
from .responses import ClipPublic, PreloadResult, file_response
from .uploads import capped

router = APIRouter(tags=["clips"])
_FORM_SLACK = 64 * 1024


@router.get("/api/clips", summary="Reference clips stored in the studio")
def list_clips(clips: ClipsDep) -> list[ClipPublic]:
    return [ClipPublic(**clip.to_dict()) for clip in clips.list()]


@router.post("/api/clips", status_code=201,
             summary="Upload a reference clip (multipart 'file': WAV, FLAC, MP3, OGG, M4A; 1-15 s)")
async def upload_clip(request: Request, clips: ClipsDep) -> ClipPublic:
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
    clip = await run_in_threadpool(clips.add, data, name)
    return ClipPublic(**clip.to_dict())


@router.get("/api/clips/{clip_id}/audio", response_class=FileResponse,
            responses=file_response("audio/wav", description="the clip"),
            summary="The stored clip (mono WAV)")
def clip_audio(clip_id: str, clips: ClipsDep) -> FileResponse:
    clip = clips.get(clip_id)
    return FileResponse(clip.path, media_type="audio/wav", filename=f"{clip.id}.wav")


class PreloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: str = Field(..., description="indextts2 or indextts2.5")


@router.post("/api/clips/{clip_id}/preload",
             summary="Analyse a clip now (loads the model if needed; makes no speech)")
async def preload(clip_id: str, body: PreloadRequest, clips: ClipsDep) -> PreloadResult:
    clip = clips.get(clip_id)
    started = time.monotonic()
    how = await run_in_threadpool(preload_clip, body.engine, clip)
    return PreloadResult(clip=clip.id, engine=body.engine, result=how,
                         seconds=round(time.monotonic() - started, 3))
