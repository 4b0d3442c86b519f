"""Request models (docs/API.md is the contract; the answers are in responses.py).

Request models forbid unknown fields, so a misspelt setting ("pauses": {"sentense": 1})
is a 422 instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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
