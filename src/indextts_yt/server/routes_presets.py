"""Settings presets: list, save, get, delete, export as a file, import from one."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..settings import JobSettings
from ..presets.schema import MAX_PRESET_BYTES
from .context import PresetsDep
from .downloads import attachment
from .responses import PresetPublic, file_response
from .uploads import read_file_upload

router = APIRouter(tags=["presets"])


class PresetSave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="unique, case-insensitively")
    description: str = ""
    settings: JobSettings
    replace: bool = Field(False, description="replace a preset of that name")


@router.get("/api/presets", summary="The saved presets")
def list_presets(presets: PresetsDep) -> list[PresetPublic]:
    return [PresetPublic(**p.to_dict()) for p in presets.list()]


@router.post("/api/presets", status_code=201,
             summary="Save a preset (checked against this studio's engines, voices, formats)")
def save_preset(body: PresetSave, presets: PresetsDep) -> PresetPublic:
    return PresetPublic(**presets.save(body.name, body.settings, description=body.description,
                                       replace=body.replace).to_dict())


@router.get("/api/presets/{name}", summary="One preset")
def get_preset(name: str, presets: PresetsDep) -> PresetPublic:
    return PresetPublic(**presets.get(name).to_dict())


@router.delete("/api/presets/{name}", status_code=204, response_class=Response,
               summary="Remove a preset")
def delete_preset(name: str, presets: PresetsDep) -> Response:
    presets.delete(name)
    return Response(status_code=204)


@router.get("/api/presets/{name}/export", response_class=Response,
            responses=file_response("application/json", description="the preset file"),
            summary="The preset as a versioned JSON file")
def export_preset(name: str, presets: PresetsDep) -> Response:
    preset = presets.get(name)
    safe = "".join(c if c.isalnum() or c in "-_ " else "_" for c in preset.name).strip() or "preset"
    return Response(preset.to_file().to_json(), media_type="application/json",
                    headers=attachment(f"{safe}.preset.json"))


@router.post("/api/presets/import", status_code=201,
             summary="Import a preset file (the JSON body, or multipart 'file'); older "
                     "versions are migrated, unknown fields and wrong types refused")
async def import_preset(request: Request, presets: PresetsDep, name: str | None = Query(None),
                        replace: bool = Query(False)) -> PresetPublic:
    raw, source = await read_file_upload(
        request, what="preset", max_bytes=MAX_PRESET_BYTES,
        bodies={"application/json": "preset file"}, upload_name="preset file",
        unsupported="send the preset file as application/json or as multipart/form-data "
                    "with a 'file' field", max_fields=2)
    preset = await run_in_threadpool(presets.import_file, raw, source=source, name=name,
                                     replace=replace)
    return PresetPublic(**preset.to_dict())
