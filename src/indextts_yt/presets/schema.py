"""The versioned file a preset travels in.

A preset is a name, a description and a job's settings (settings.JobSettings: every
setting a job uses except the script and where its files go). Files are checked strictly: an unknown key or a
wrong type is refused with the field's dotted name, so a typo never silently changes a
narration. Older file versions are migrated on read.

Versions:
  1  the first layout: the job form's fields side by side (format, bitrate, loudness,
     trim and subtitles next to engine and voice).
  2  the output choices grouped under "output" (current).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from ..settings import JobSettings, validated

SCHEMA = "indextts-yt/preset"
VERSION = 2
#: A preset file is a few hundred bytes; anything near this is not one.
MAX_PRESET_BYTES = 64 * 1024
MAX_NAME_CHARS = 80


class PresetFile(BaseModel):
    """A preset as exported: ``{"schema": ..., "version": 2, "name": ..., "settings": ...}``."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    schema_: Literal["indextts-yt/preset"] = Field(SCHEMA, alias="schema")
    version: Literal[2] = VERSION
    name: str = Field(..., min_length=1, max_length=MAX_NAME_CHARS)
    description: str = Field("", max_length=500)
    settings: JobSettings

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), ensure_ascii=False, indent=2) + "\n"


class _PresetFileV1(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    schema_: Literal["indextts-yt/preset"] = Field(SCHEMA, alias="schema")
    version: Literal[1]
    name: str = Field(..., min_length=1, max_length=MAX_NAME_CHARS)
    description: str = Field("", max_length=500)
    engine: str = "auto"
    voice: str | None = None
    options: dict[str, float | str] = Field(default_factory=dict)
    pauses: dict[str, float] = Field(default_factory=dict)
    max_chars: int | None = None
    format: str = "wav"
    bitrate: str | int | None = None
    loudness: str | float | None = None
    trim: bool = True
    subtitles: dict[str, int | float] | None = None


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    old = validated(_PresetFileV1, data, "preset file")
    output = {k: getattr(old, k) for k in ("format", "bitrate", "loudness", "trim", "subtitles")}
    return {"schema": SCHEMA, "version": 2, "name": old.name, "description": old.description,
            "settings": {"engine": old.engine, "voice": old.voice, "options": old.options,
                         "pauses": old.pauses, "max_chars": old.max_chars, "output": output}}


_MIGRATIONS = {1: _migrate_v1}


def parse_preset_file(raw: bytes, name: str = "preset file") -> PresetFile:
    """A preset file's bytes, checked and migrated to the current version (InputError
    naming the field otherwise). Only the shape is checked here; that its engine is
    installed and its values fit that engine is the library's check."""
    if len(raw) > MAX_PRESET_BYTES:
        raise InputError(f"{name}: a preset file is at most {MAX_PRESET_BYTES // 1024} KB; "
                         "is this a preset?")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{name}: not a JSON preset file ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: a preset file is a JSON object")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise InputError(f"{name}: field 'schema' must be {SCHEMA!r}, got {data.get('schema')!r}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError(f"{name}: field 'version' must be a whole number, got {version!r}")
    if version > VERSION:
        raise InputError(f"{name}: made by a newer Index-TTS-YT (preset version {version}); "
                         f"this one reads versions 1 to {VERSION}")
    while version < VERSION:
        if version not in _MIGRATIONS:
            raise InputError(f"{name}: unknown preset version {version}")
        data = _MIGRATIONS[version](data)
        version = data["version"]
    return validated(PresetFile, data, name)
