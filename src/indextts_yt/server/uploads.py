"""Reading a new job from the request: JSON, or a multipart form with an uploaded script.

The body is capped while it arrives (not after it is in memory), so an oversized upload is
refused with 413 after at most the limit has been read, whatever Content-Length claims.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from ..errors import InputError, PayloadTooLarge
from ..jobs.service import JobRequest
from ..presets import PresetLibrary
from ..settings import JobSettings
from ..script_input import MAX_SCRIPT_BYTES, decode_script
from .errors import UnsupportedMedia
from .schemas import JobCreate

SCRIPT_SUFFIXES = (".txt", ".md", ".markdown")
_FORM_SLACK = 256 * 1024  # form fields and multipart framing beside the file
# A JSON string may escape every non-ASCII character (\uXXXX: 6 bytes for 3 of UTF-8), so
# the body may be about twice the text; the text itself is checked against the limit later.
_JSON_LIMIT = 2 * MAX_SCRIPT_BYTES + _FORM_SLACK
_FORM_LIMIT = MAX_SCRIPT_BYTES + _FORM_SLACK
# The form takes JobCreate's fields (objects and lists as JSON text) beside the uploaded file.
def _is_model(annotation: object) -> bool:
    """A model, or a union with one (``DialogueSettings | None``)."""
    kinds = typing.get_args(annotation) or (annotation,)
    return any(isinstance(k, type) and issubclass(k, BaseModel) for k in kinds)


_JSON_FIELDS = frozenset(name for name, f in JobCreate.model_fields.items()
                         if "dict[" in str(f.annotation) or "list[" in str(f.annotation)
                         or _is_model(f.annotation))
_FORM_FIELDS = frozenset(JobCreate.model_fields) | {"file"}


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"the request is larger than the {MAX_SCRIPT_BYTES // (1024 * 1024)}"
                           " MB script limit")


def capped(request: Request, limit: int) -> Request:
    """The same request, whose body raises PayloadTooLarge beyond ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large()
        return message

    return Request(request.scope, receive)


@dataclass(frozen=True)
class JobForm:
    """A new job as the request gave it: its fields and its script."""

    spec: JobCreate
    text: str
    title: str | None

    def request(self, presets: PresetLibrary) -> JobRequest:
        """The job: the request's settings laid over its preset's (or the defaults)."""
        base = presets.get(self.spec.preset).settings if self.spec.preset else JobSettings()
        settings = base.merged(self.spec.settings_given()).checked()
        return JobRequest(self.text, self.title, settings, streaming=self.spec.streaming)


async def read_file_upload(request: Request, *, what: str, max_bytes: int,
                           bodies: Mapping[str, str], upload_name: str, unsupported: str,
                           max_fields: int = 1) -> tuple[bytes, str]:
    """A small file (a preset, a dictionary) sent as the request body, of one of
    ``bodies``' media types (each named by its value), or as a multipart form's ``file``
    field: (its bytes, its name). Read in bounded memory: a larger one is 413."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limited = capped(request, max_bytes + 16 * 1024)  # room for the form's own framing
    try:
        if ctype in bodies:
            return await limited.body(), bodies[ctype]
        if ctype != "multipart/form-data":
            raise UnsupportedMedia(unsupported)
        form = await limited.form(max_files=1, max_fields=max_fields)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError(f"the form needs a 'file' field with the {what}")
            return await upload.read(), upload.filename or upload_name
        finally:
            await form.close()
    except PayloadTooLarge:
        raise PayloadTooLarge(f"a {what} file is at most {max_bytes // 1024} KB") from None


async def read_job_form(request: Request) -> JobForm:
    """A new job from a JSON body or a multipart form (file + the same fields)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        body = await capped(request, _JSON_LIMIT).body()
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InputError("the body must be a JSON object")
        spec = JobCreate.model_validate(data)
        if spec.text is None:
            raise InputError("'text' is required (or upload a file as multipart/form-data)")
        return JobForm(spec, spec.text, spec.title)
    if ctype == "multipart/form-data":
        return await _read_form(capped(request, _FORM_LIMIT))
    raise UnsupportedMedia("send the job as application/json, or as multipart/form-data with"
                           " a .txt or .md file")


async def _read_form(request: Request) -> JobForm:
    form = await request.form(max_files=1, max_fields=20)
    try:
        unknown = sorted(set(form.keys()) - _FORM_FIELDS)
        if unknown:
            raise InputError(f"unknown form field {unknown[0]!r}")
        fields: dict[str, object] = {}
        for name in sorted(_FORM_FIELDS - _JSON_FIELDS - {"file"}):
            value = form.get(name)
            if isinstance(value, str) and value != "":
                fields[name] = value
        for name in sorted(_JSON_FIELDS):
            value = form.get(name)
            if isinstance(value, str) and value.strip():
                try:
                    fields[name] = json.loads(value)
                except json.JSONDecodeError:
                    raise InputError(f"form field {name!r} must be a JSON object") from None
        spec = JobCreate.model_validate(fields)
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            name = PurePath(upload.filename or "script.txt").name
            if PurePath(name).suffix.lower() not in SCRIPT_SUFFIXES:
                raise UnsupportedMedia(f"{name}: upload a .txt or .md script")
            text = decode_script(await upload.read(), name)
            return JobForm(spec, text, spec.title or PurePath(name).stem)
        if spec.text is None:
            raise InputError("upload a 'file' (a .txt or .md script) or give 'text'")
        return JobForm(spec, spec.text, spec.title)
    finally:
        await form.close()
