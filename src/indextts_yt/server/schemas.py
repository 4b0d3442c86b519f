"""Request models (docs/API.md is the contract; the answers are in responses.py).

Request models forbid unknown fields, so a misspelt setting ("pauses": {"sentense": 1})
is a 422 instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from ..settings import Cast, DialogueSettings, JobSettings, Options, OutputSettings


_JOB = JobSettings.model_fields
_OUTPUT = OutputSettings.model_fields


class _JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="the script (plain text or light Markdown);"
                             " omit when uploading a file")
    title: str | None = Field(None, max_length=200)
    streaming: bool = True
    preset: str | None = Field(None, description="start from this settings preset; the "
                               "fields given here win over it")

    def settings_given(self) -> dict[str, Any]:
        """The settings this request names, shaped as JobSettings (to lay over a preset's)."""
        given = self.model_fields_set
        # A nested model (checks) as a dict of what it names, to merge key by key.
        top = {k: _given(getattr(self, k)) for k in _JOB if k != "output" and k in given}
        output = {k: getattr(self, k) for k in _OUTPUT if k in given}
        return {**top, "output": output} if output else top


def _given(value: Any) -> Any:
    return value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else value


def _fields(fields: dict[str, FieldInfo]) -> dict[str, Any]:
    return {name: (f.annotation, f) for name, f in fields.items() if name != "output"}


#: A new narration, as JSON or as multipart form fields beside an uploaded ``file``: the
#: HTTP form's adapter to settings.JobSettings, whose fields it takes (types, limits and
#: descriptions included), with the output choices side by side as form fields. So a new
#: setting appears here by itself.
JobCreate = create_model("JobCreate", __base__=_JobCreate, **_fields(_JOB), **_fields(_OUTPUT))


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    engine: str = _JOB["engine"]
    voice: str | None = _JOB["voice"]
    max_chars: int | None = _JOB["max_chars"]
    cast: Cast = _JOB["cast"]
    dialogue: DialogueSettings | None = _JOB["dialogue"]


class SegmentEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    options: Options | None = None


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approved: bool = Field(True, description="false withdraws an approval")
