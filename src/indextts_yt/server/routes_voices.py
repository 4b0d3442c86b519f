"""The voice library over HTTP: list, add, get, edit, delete, play, export and import.

Uploads are multipart forms capped while they arrive (as /api/clips); every refusal is a
StudioError with its one line (errors.py: 400 bad input, 404 unknown voice, 409 a name or
recording already there, a voice in use or a bundled one, 413 too large). Ids are checked
by the library (a clip id or engine:voice); no client value is ever a path.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Optional

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from ..clips import MAX_CLIP_BYTES
from ..errors import InputError, PayloadTooLarge
from ..voices.archive import MAX_ARCHIVE_BYTES
from ..voices.fields import parse_tags
from .context import VoicesDep
from .downloads import attachment
from .errors import UnsupportedMedia
from .responses import VoicePublic, file_response
from .uploads import capped

router = APIRouter(tags=["voices"])
_FORM_SLACK = 64 * 1024  # the text fields and multipart framing beside the file


async def _form(request: Request, limit: int, fields: set[str], what: str) -> tuple[bytes, str, FormData]:
    """The uploaded 'file' (its bytes and name) and the form, refusing unknown fields."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedMedia(f"upload {what} as multipart/form-data with a 'file' field")
    try:
        form = await capped(request, limit + _FORM_SLACK).form(max_files=1, max_fields=len(fields))
    except PayloadTooLarge:
        raise PayloadTooLarge(f"{what} is limited to {limit // (1024 * 1024)} MB") from None
    try:
        unknown = sorted(set(form.keys()) - fields - {"file"})
        if unknown:
            raise InputError(f"unknown form field {unknown[0]!r}")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError(f"the form needs a 'file' field with {what}")
        name = PurePath(upload.filename or "upload").name
        data = await upload.read()
    finally:
        await form.close()
    return data, name, form


def _text(form: FormData, field: str) -> Optional[str]:
    value = form.get(field)
    if value is not None and not isinstance(value, str):
        raise InputError(f"form field {field!r} must be text")
    return value


@router.get("/api/voices", summary="Library voices (by name), then the engines' bundled voices")
def list_voices(voices: VoicesDep, engine: Optional[str] = None, kind: Optional[str] = None,
                tag: Optional[str] = None, q: Optional[str] = None) -> list[VoicePublic]:
    return [VoicePublic(**v.to_dict())
            for v in voices.list(engine=engine, kind=kind, tag=tag, query=q)]


@router.post("/api/voices", status_code=201,
             summary="Add a voice (multipart: file, name, language, tags, notes)")
async def add_voice(request: Request, voices: VoicesDep) -> VoicePublic:
    data, filename, form = await _form(request, MAX_CLIP_BYTES,
                                       {"name", "language", "tags", "notes"}, "a recording")
    name = _text(form, "name")
    if not name:
        raise InputError("the form needs a 'name' for the voice")
    fields = {"name": name, "language": _text(form, "language"),
              "tags": parse_tags(_text(form, "tags")), "notes": _text(form, "notes") or ""}

    voice = await run_in_threadpool(lambda: voices.add(data, filename, **fields))
    return VoicePublic(**voice.to_dict())


@router.post("/api/voices/import", status_code=201,
             summary="Import a .voice.zip (multipart: file, and name to import under another)")
async def import_voice(request: Request, voices: VoicesDep) -> VoicePublic:
    data, _, form = await _form(request, MAX_ARCHIVE_BYTES, {"name"}, "a voice file")
    name = _text(form, "name") or None
    voice = await run_in_threadpool(
        lambda: voices.import_file(data, name=name, rename_hint="the 'name' field"))
    return VoicePublic(**voice.to_dict())


@router.get("/api/voices/{voice_id}", summary="One voice")
def get_voice(voice_id: str, voices: VoicesDep) -> VoicePublic:
    return VoicePublic(**voices.get(voice_id).to_dict())


class VoiceEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Optional[str] = Field(None, description="New name (unique, ignoring case)")
    language: Optional[str] = Field(None, description="Language tag; '' removes it")
    tags: Optional[list[str]] = Field(None, description="All its tags")
    notes: Optional[str] = None


@router.patch("/api/voices/{voice_id}", summary="Rename, re-tag, or change language or notes")
def edit_voice(voice_id: str, body: VoiceEdit, voices: VoicesDep) -> VoicePublic:
    return VoicePublic(**voices.edit(voice_id, **body.model_dump(exclude_unset=True)).to_dict())


@router.delete("/api/voices/{voice_id}", status_code=204, response_class=Response,
               summary="Delete a voice and its recording (409 while an unfinished job uses it)")
def delete_voice(voice_id: str, voices: VoicesDep) -> Response:
    voices.delete(voice_id)
    return Response(status_code=204)


@router.get("/api/voices/{voice_id}/audio", response_class=FileResponse,
            responses=file_response("audio/wav", description="the recording"),
            summary="The voice's stored recording (mono WAV)")
def voice_audio(voice_id: str, voices: VoicesDep) -> FileResponse:
    path = voices.audio_path(voice_id)
    return FileResponse(path, media_type="audio/wav", filename=f"{voice_id}.wav")


@router.get("/api/voices/{voice_id}/export", response_class=Response,
            responses=file_response("application/zip", description="the .voice.zip"),
            summary="The voice as one .voice.zip file")
def export_voice(voice_id: str, voices: VoicesDep) -> Response:
    file_name, data = voices.export(voice_id)
    return Response(data, media_type="application/zip", headers=attachment(file_name))
