"""The queue and batches: what runs now and next with ETAs, reordering, many scripts at once.

A batch is many scripts with one preset; each becomes its own job in the server's queue
(its own files, its own progress), checked all together first so that a bad script refuses
the whole batch and nothing is queued half-way.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..errors import InputError, JobNotFound
from ..jobs import store as st
from ..jobs.batch import MAX_BATCH_SCRIPTS, Outputs, Script, queue_batch
from ..jobs.queue import move_job, queue_view
from ..jobs.service import default_title
from ..presets import PresetLibrary
from ..settings import JobSettings
from ..script_input import MAX_SCRIPT_BYTES, decode_script
from .context import PresetsDep, StoreDep, StudioDep
from .errors import UnsupportedMedia
from .responses import (BatchJobPublic, BatchPublic, QueueEntryPublic, QueueOrder, QueuePublic,
                        WorkersPublic, job_json)
from .routes_jobs import checked_id
from .uploads import SCRIPT_SUFFIXES, capped

router = APIRouter(tags=["queue"])

#: A whole batch upload; each script is still held to the script limit.
MAX_BATCH_BYTES = 4 * MAX_SCRIPT_BYTES
_MAX_FILES = 100
_BATCH_ID = re.compile(r"^batch-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")


@router.get("/api/queue", summary="The running job, the queued ones in order with ETAs, "
                                  "then paused and stopped ones")
def get_queue(store: StoreDep, s: StudioDep) -> QueuePublic:
    info = s.farm_info
    return QueuePublic(jobs=[QueueEntryPublic(**e.to_dict()) for e in queue_view(store)],
                       workers=None if info is None else WorkersPublic(**asdict(info)))


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")
    position: int = Field(..., ge=1, description="1 = the next job to start")


@router.post("/api/jobs/{job_id}/move", summary="Move a queued job to a position in the queue")
def move(job_id: str, body: Move, s: StudioDep, store: StoreDep) -> QueueOrder:
    order = move_job(store, checked_id(job_id), body.position)
    s.changed(job_id)
    return QueueOrder(order=order)


class BatchScript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    title: str | None = Field(None, max_length=200)


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scripts: list[BatchScript] = Field(..., min_length=1, max_length=MAX_BATCH_SCRIPTS)
    preset: str | None = Field(None, description="settings for every script")
    settings: dict[str, Any] | None = Field(
        None, description="settings laid over the preset's (same shape as a preset's)")


def _settings(presets: PresetLibrary, preset: str | None,
              overrides: dict[str, Any] | None) -> JobSettings:
    base = presets.get(preset).settings if preset else JobSettings()
    return base.merged(overrides or {})


async def _read_batch(request: Request) -> tuple[list[Script], str | None, dict | None]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    limited = capped(request, MAX_BATCH_BYTES)
    if ctype == "application/json":
        try:
            data = json.loads(await limited.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"the body is not valid JSON: {exc}") from None
        spec = BatchCreate.model_validate(data)
        scripts = [Script(name=f"script-{i + 1}", title=s.title or "", text=s.text)
                   for i, s in enumerate(spec.scripts)]
        return scripts, spec.preset, spec.settings
    if ctype != "multipart/form-data":
        raise UnsupportedMedia("send the batch as application/json, or as multipart/form-data "
                               "with several 'file' fields (.txt or .md)")
    form = await limited.form(max_files=_MAX_FILES, max_fields=4)
    try:
        unknown = sorted(set(form.keys()) - {"file", "preset", "settings"})
        if unknown:
            raise InputError(f"unknown form field {unknown[0]!r}")
        scripts = []
        for upload in form.getlist("file"):
            if not isinstance(upload, UploadFile):
                raise InputError("'file' fields must be uploaded files")
            name = PurePath(upload.filename or "script.txt").name
            if PurePath(name).suffix.lower() not in SCRIPT_SUFFIXES:
                raise UnsupportedMedia(f"{name}: upload .txt or .md scripts")
            text = decode_script(await upload.read(), name)
            scripts.append(Script(name=PurePath(name).stem, title=PurePath(name).stem, text=text))
        if not scripts:
            raise InputError("upload at least one script as a 'file' field")
        preset = form.get("preset")
        raw_settings = form.get("settings")
        settings = None
        if isinstance(raw_settings, str) and raw_settings.strip():
            try:
                settings = json.loads(raw_settings)
            except json.JSONDecodeError:
                raise InputError("form field 'settings' must be a JSON object") from None
            if not isinstance(settings, dict):
                raise InputError("form field 'settings' must be a JSON object")
        return scripts, preset if isinstance(preset, str) and preset else None, settings
    finally:
        await form.close()


@router.post("/api/batches", status_code=201,
             summary="Queue many scripts with one preset (JSON, or multipart 'file' fields)")
async def create_batch(request: Request, s: StudioDep, store: StoreDep,
                       presets: PresetsDep) -> BatchPublic:
    scripts, preset, overrides = await _read_batch(request)

    def create() -> BatchPublic:
        # Untitled JSON scripts are named by their first line, as single jobs are.
        named = [sc if sc.title else Script(sc.name, default_title(sc.text), sc.text)
                 for sc in scripts]
        batch_id, jobs = queue_batch(store, named, _settings(presets, preset, overrides),
                                     Outputs(folder=None), origin=st.ORIGIN_SERVER)
        return _batch_json(store, batch_id)

    body = await run_in_threadpool(create)
    for job in body.jobs:
        s.changed(job.id)
    return body


def _batch_json(store: st.Store, batch_id: str) -> BatchPublic:
    jobs = store.batch_jobs(batch_id)
    if not jobs:
        raise JobNotFound(f"no batch {batch_id!r}")
    progress = store.progress()
    queue = store.queued_ids()
    eta = {e.job.id: e.to_dict()["eta_s"] for e in queue_view(store)}
    return BatchPublic(batch_id=batch_id, jobs=[
        BatchJobPublic(**job_json(j, progress.get(j.id, (0, 0, 0.0)), queue).model_dump(),
                       eta_s=eta.get(j.id)) for j in jobs])


@router.get("/api/batches/{batch_id}", summary="A batch's jobs in queue order, with ETAs")
def get_batch(batch_id: str, store: StoreDep) -> BatchPublic:
    if not _BATCH_ID.match(batch_id):
        raise JobNotFound(f"no batch {batch_id!r}")
    return _batch_json(store, batch_id)
