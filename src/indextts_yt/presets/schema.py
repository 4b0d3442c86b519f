"""What a preset holds, the versioned file it travels in, and how it becomes a job request.

A preset is every setting a job uses except the script and where its files go: engine,
voice, engine options (speed among them), pauses, segment length and the output (format,
bit rate, loudness, trim, subtitle style). Files are checked strictly: an unknown key or a
wrong type is refused with the field's dotted name, so a typo never silently changes a
narration. Older file versions are migrated on read.

Versions:
  1  the first layout: the job form's fields side by side (format, bitrate, loudness,
     trim and subtitles next to engine and voice).
  2  the output choices grouped under "output" (current).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from ..jobs.publish import OutputOptions, check_output_options
from ..jobs.service import JobRequest

SCHEMA = "indextts-yt/preset"
VERSION = 2
#: A preset file is a few hundred bytes; anything near this is not one.
MAX_PRESET_BYTES = 64 * 1024
MAX_NAME_CHARS = 80

_STRICT = ConfigDict(extra="forbid", strict=True)


class OutputSettings(BaseModel):
    model_config = _STRICT

    format: str = "wav"
    bitrate: str | int | None = None
    loudness: str | float | None = Field(None, description="LUFS, a preset name, or off")
    trim: bool = True
    subtitles: dict[str, int | float] | None = None


class PresetSettings(BaseModel):
    """Version 2's settings: also what the API takes and returns."""

    model_config = _STRICT

    engine: str = "auto"
    voice: str | None = None
    options: dict[str, float | str] = Field(default_factory=dict)
    pauses: dict[str, float] = Field(default_factory=dict)
    max_chars: int | None = Field(None, ge=20, le=2000)
    output: OutputSettings = Field(default_factory=OutputSettings)

    def merged(self, overrides: Mapping[str, Any]) -> PresetSettings:
        """These settings with ``overrides`` on top: options, pauses and output merge key by
        key (an override of speed keeps the preset's other options)."""
        return validate_settings(_merge(self.model_dump(), overrides))

    def request(self, text: str, title: str | None, output: OutputOptions, *,
                streaming: bool = True) -> JobRequest:
        """A job with these settings for ``text`` (``output``: from output_options)."""
        return JobRequest(text=text, title=title, engine=self.engine, voice=self.voice,
                          options=self.options, pauses=self.pauses, streaming=streaming,
                          max_chars=self.max_chars, output=output)

    def output_options(self, file: Path | None = None, *, vtt: Path | None = None,
                       chapters: Path | None = None, explicit: Collection[str] = ()
                       ) -> OutputOptions:
        """The checked output choices. A ``file`` (the CLI's -o) decides the format by its
        extension when the settings name another format, unless the format is one of the
        ``explicit`` choices (typed by the user: then a mismatch is an error); a bit rate
        meant for that other format is dropped unless it is explicit too."""
        out = self.output
        fmt, bitrate = out.format, out.bitrate
        if file is not None and "format" not in explicit and not _format_matches(file, fmt):
            fmt = None
            bitrate = bitrate if "bitrate" in explicit else None
        return check_output_options(file, fmt, bitrate, out.loudness, out.trim, out.subtitles,
                                    vtt=vtt, chapters=chapters)


class PresetFile(BaseModel):
    """A preset as exported: ``{"schema": ..., "version": 2, "name": ..., "settings": ...}``."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    schema_: Literal["indextts-yt/preset"] = Field(SCHEMA, alias="schema")
    version: Literal[2] = VERSION
    name: str = Field(..., min_length=1, max_length=MAX_NAME_CHARS)
    description: str = Field("", max_length=500)
    settings: PresetSettings

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
    old = _validated(_PresetFileV1, data, "preset file")
    output = {k: getattr(old, k) for k in ("format", "bitrate", "loudness", "trim", "subtitles")}
    return {"schema": SCHEMA, "version": 2, "name": old.name, "description": old.description,
            "settings": {"engine": old.engine, "voice": old.voice, "options": old.options,
                         "pauses": old.pauses, "max_chars": old.max_chars, "output": output}}


_MIGRATIONS = {1: _migrate_v1}


def _validated(model: type[BaseModel], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{what}: {field_message(exc)}") from None


def field_message(exc: ValidationError) -> str:
    """The first problem, naming its field: "unknown field 'settings.spead'"."""
    err = exc.errors()[0]
    # A union's member type (".float") is not a field: leave it out of the name.
    parts = [str(p) for p in err["loc"] if p not in _TYPE_TAGS]
    where = ".".join(parts).replace("schema_", "schema") or "the file"
    if err["type"] == "extra_forbidden":
        return f"unknown field {where!r}"
    if err["type"] == "missing":
        return f"field {where!r} is missing"
    given = err.get("input")
    shown = json.dumps(given, ensure_ascii=False)[:40] if given is not None else "null"
    return f"field {where!r}: {err['msg'][0].lower()}{err['msg'][1:]}, got {shown}"


_TYPE_TAGS = {"float", "str", "int", "bool"}


def validate_settings(data: Any, what: str = "preset") -> PresetSettings:
    return _validated(PresetSettings, data, what)


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
    return _validated(PresetFile, data, name)


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _format_matches(file: Path, fmt: str) -> bool:
    from ..audio.encode import FORMATS

    spec = FORMATS.get(fmt)
    return spec is not None and file.suffix.lower() in spec.extensions
