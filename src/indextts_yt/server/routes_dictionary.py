"""The studio's pronunciation dictionary: list, add, remove, import, export, and 'say it'."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..dictionary import MAX_ENTRIES, Entry, StudioDictionary, entry, export, parse_file
from ..errors import InputError
from ..jobs.plan import Choice
from ..jobs.say_it import MAX_WORD_CHARS, say_it
from .context import ClipsDep, StudioDep
from .downloads import attachment
from .responses import file_response
from .uploads import read_file_upload

router = APIRouter(tags=["dictionary"])
MAX_FILE_BYTES = 1024 * 1024


class DictionaryPublic(BaseModel):
    entries: list[Entry]


class Imported(BaseModel):
    imported: int = Field(description="entries added or replaced")


class TryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word: str = Field(..., max_length=MAX_WORD_CHARS, description="the word as a script "
                      "writes it")
    say: str | None = Field(None, description="try this pronunciation (of kind) instead of "
                            "the stored entry")
    kind: str = "respell"
    language: str = "*"
    text: str | None = Field(None, max_length=4 * MAX_WORD_CHARS,
                             description="the sentence to say it in (default: a short one)")
    engine: str = "auto"
    voice: str | None = None


@router.get("/api/dictionary", summary="The studio's pronunciation dictionary")
def list_entries(studio: StudioDep) -> DictionaryPublic:
    with StudioDictionary(studio.data_dir) as d:
        return DictionaryPublic(entries=d.list())


@router.post("/api/dictionary", status_code=201,
             summary="Add an entry (replacing the one of the same match, language and kind)")
def add_entry(body: Entry, studio: StudioDep) -> Entry:
    with StudioDictionary(studio.data_dir) as d:
        d.add([body])
    return body


@router.delete("/api/dictionary", status_code=204, response_class=Response,
               summary="Remove the entries for a word (of one language or kind if given)")
def remove_entry(studio: StudioDep, match: str = Query(..., min_length=1),
                 language: str | None = Query(None), kind: str | None = Query(None)
                 ) -> Response:
    with StudioDictionary(studio.data_dir) as d:
        d.remove(match, language, kind)
    return Response(status_code=204)


@router.get("/api/dictionary/export", response_class=Response,
            responses=file_response("application/json", "text/csv",
                                    description="the dictionary file"),
            summary="The dictionary as a CSV or JSON file")
def export_entries(studio: StudioDep,
                   format: Literal["json", "csv"] = Query("json")) -> Response:
    with StudioDictionary(studio.data_dir) as d:
        text = export(d.list(), f"dictionary.{format}")
    media = "text/csv" if format == "csv" else "application/json"
    return Response(text, media_type=f"{media}; charset=utf-8",
                    headers=attachment(f"dictionary.{format}"))


@router.post("/api/dictionary/import", status_code=201,
             summary="Add every entry of a CSV or JSON file (the body, or multipart 'file'), "
                     "or none: an error names its line and column")
async def import_entries(request: Request, studio: StudioDep) -> Imported:
    raw, name = await read_file_upload(
        request, what="dictionary", max_bytes=MAX_FILE_BYTES,
        bodies={"application/json": "dictionary.json", "text/csv": "dictionary.csv"},
        upload_name="dictionary",
        unsupported="send the dictionary as application/json, text/csv or "
                    "multipart/form-data with a 'file' field")
    entries = parse_file(raw, name)
    if len(entries) > MAX_ENTRIES:
        raise InputError(f"at most {MAX_ENTRIES} entries")

    def keep() -> int:
        with StudioDictionary(studio.data_dir) as d:
            return d.add(entries)

    return Imported(imported=await run_in_threadpool(keep))


@router.post("/api/dictionary/try", response_class=Response,
             responses=file_response("audio/wav", description="the word in a short sentence"),
             summary="Say it: render a word with the dictionary (or a pronunciation to try) "
                     "in a short sentence")
async def try_entry(body: TryRequest, clips: ClipsDep) -> Response:
    entries = [entry({"match": body.word, "say": body.say, "kind": body.kind,
                      "language": body.language})] if body.say else []
    said = await run_in_threadpool(say_it, body.word, Choice(body.engine, body.voice), clips,
                                   entries=entries, text=body.text)
    return Response(said.wav(), media_type="audio/wav",
                    # what each engine was given, percent-encoded (UTF-8)
                    headers={"X-Spoken-Text": quote(" | ".join(said.spoken))})
