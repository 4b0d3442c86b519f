"""POST /v1/audio/speech: the OpenAI text-to-speech API, so existing OpenAI clients can use
the studio (``base_url="http://127.0.0.1:8765/v1"``).

``model``: an engine name (``piper``, ``espeak``), ``auto``, or one of OpenAI's model names
(``tts-1``, ``tts-1-hd``, ``gpt-4o-mini-tts``), which mean ``auto``. ``voice``: one of our
voice ids, or one of OpenAI's voice names (``alloy``, ``nova``...), which mean each
language's default voice — so a client written for OpenAI works unchanged. The input is
split like a script and rendered segment by segment; the audio is streamed as it is made.
This request owns its work: when the client disconnects, synthesis stops.

As OpenAI does: ``pcm`` is 24 kHz (resampled from the engine's rate), ``speed`` is 0.25-4.0
(each engine renders at the nearest speed it supports and the rest is a pitch-preserving
time stretch), ``stream_format: "sse"`` wraps the audio in ``speech.audio.delta`` events, and
errors are OpenAI's error object (errors.py), so its clients show the reason.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..audio import MEDIA_TYPES, PauseSettings
from ..clips import ClipStore
from ..engines import registry
from ..errors import EngineUnavailable, InputError, PayloadTooLarge, StudioError
from ..dictionary import Dictionary, studio_entries
from ..jobs.plan import AUTO, Choice, engine_options_for, plan, resolve_choice, segment_key
from ..jobs.runner import job_sample_rate
from ..jobs.store import NewSegment
from .errors import OPENAI_ERROR_RESPONSES, pin
from .responses import file_response
from .speech_producer import SpeechProducer

router = APIRouter(tags=["OpenAI-compatible"])

#: Longest input, in characters (OpenAI's own limit is 4096). Long enough for a chapter;
#: for a whole book use a job, which survives disconnects and restarts.
MAX_SPEECH_CHARS = 100_000
OPENAI_MODELS = frozenset({"tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
#: OpenAI's pcm: 16-bit mono little-endian at 24 kHz, whatever the engine's rate.
PCM_RATE = 24_000
MIN_SPEED, MAX_SPEED = 0.25, 4.0
OPENAI_VOICES = frozenset({"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova",
                           "sage", "shimmer", "verse", "marin", "cedar"})


class SpeechRequest(BaseModel):
    # Unknown fields are ignored, as OpenAI clients may send newer ones.
    model_config = ConfigDict(extra="ignore")

    model: str = Field("tts-1", description="an engine (piper, espeak, indextts2, indextts2.5), auto,"
                       " or an OpenAI model name (= auto)")
    input: str = Field(..., description=f"the text, at most {MAX_SPEECH_CHARS} characters")
    voice: str | None = Field(None, description="a voice id, a reference clip id (cloning"
                              " engines), or an OpenAI voice name (= the default voice)")
    response_format: Literal["wav", "mp3", "flac", "opus", "aac", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED,
                         description=f"speaking rate, {MIN_SPEED} to {MAX_SPEED}")
    instructions: str | None = Field(None, description="accepted and ignored")
    stream_format: Literal["audio", "sse"] | None = Field(
        None, description="'audio' (raw bytes, the default) or 'sse' (speech.audio.delta events)")


def resolve(model: str, voice: str | None) -> Choice:
    engine = AUTO if model in OPENAI_MODELS or model == AUTO else model
    if engine != AUTO and engine not in registry.engine_names():
        raise EngineUnavailable(f"unknown model {model!r}; use one of: auto, "
                                f"{', '.join(registry.engine_names())}, {', '.join(sorted(OPENAI_MODELS))}")
    if voice is None or voice.lower() in OPENAI_VOICES:
        return Choice(engine, None)
    return Choice(engine, voice)


@contextmanager
def pinned(param: str, code: str | None = None,
           only: type[StudioError] = StudioError) -> Iterator[None]:
    """Errors of type ``only`` raised inside name ``param`` as the field at fault (on /v1)."""
    try:
        yield
    except only as exc:
        if getattr(exc, "param", None) is None:
            pin(exc, param, code)
        raise


def engine_speed(engine_name: str, speed: float) -> float:
    """The speed nearest ``speed`` that the engine renders itself (1.0 if it has no speed
    setting); the time stretch makes up the rest."""
    for spec in registry.get_engine(engine_name).settings:
        if spec.name == "speed" and spec.kind == "number" and not spec.ignored:
            return min(max(speed, spec.minimum), spec.maximum)
    return 1.0


def at_speed(seg: NewSegment, speed: float) -> NewSegment:
    rendered = engine_speed(seg.engine, speed)
    if rendered == 1.0:
        return seg
    settings = {**seg.settings, **engine_options_for(seg.engine, {"speed": rendered})}
    version = registry.get_engine(seg.engine).version
    return dataclasses.replace(seg, settings=settings,
                               key=segment_key(seg.spoken, seg.engine, version, seg.voice, settings))


def scaled_pauses(speed: float) -> PauseSettings:
    """The pauses between sentences, shortened or lengthened with the speech."""
    base = PauseSettings()
    return dataclasses.replace(base, clause=base.clause / speed, sentence=base.sentence / speed,
                               paragraph=base.paragraph / speed, heading=base.heading / speed)


def sse_events(chunks: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    """OpenAI's speech events: a ``speech.audio.delta`` per chunk of the encoded audio, then
    ``speech.audio.done`` (usage in tokens, which the studio does not count: zeros)."""

    def event(data: dict) -> bytes:
        return f"data: {json.dumps(data)}\n\n".encode()

    async def events() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                if chunk:
                    yield event({"type": "speech.audio.delta",
                                 "audio": base64.b64encode(chunk).decode("ascii")})
        finally:
            await chunks.aclose()  # now, not when collected: its finally stops synthesis
        yield event({"type": "speech.audio.done",
                     "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}})

    return events()


@router.post("/v1/audio/speech", response_class=StreamingResponse,
             summary="OpenAI-compatible text to speech, streamed",
             responses={**file_response(*sorted({*MEDIA_TYPES.values(), "text/event-stream"}),
                                        description="the audio, streamed as it is made"),
                        **OPENAI_ERROR_RESPONSES})
async def speech(body: SpeechRequest, request: Request) -> StreamingResponse:
    if len(body.input) > MAX_SPEECH_CHARS:
        raise pin(PayloadTooLarge(f"input is limited to {MAX_SPEECH_CHARS} characters, "
                                  f"got {len(body.input)}"), "input", "string_above_max_length")
    if not body.input.strip():
        raise pin(InputError("input is empty"), "input")
    studio = request.app.state.studio

    def prepare() -> tuple[list[NewSegment], int]:
        with pinned("model", "model_not_found", only=EngineUnavailable):
            choice = resolve(body.model, body.voice)
            if choice.engine != AUTO:
                registry.get_engine(choice.engine)
        with pinned("voice"):
            choice = resolve_choice(choice, clips)
        with pinned("input"):
            segments = plan(body.input, choice, clips=clips,
                            dictionary=Dictionary(studio=studio_entries(studio.data_dir)))
        segments = [at_speed(seg, body.speed) for seg in segments]
        rate = PCM_RATE if body.response_format == "pcm" else job_sample_rate(s.engine for s in segments)
        return segments, rate

    clips = ClipStore(studio.data_dir)
    segments, rate = await run_in_threadpool(prepare)

    producer = SpeechProducer(segments, rate, body.response_format, clips,
                              pauses=scaled_pauses(body.speed), speed=body.speed,
                              on_exit=studio.speech_ended)
    studio.speech_started()
    producer.start()
    chunks = producer.chunks()
    try:
        first = await anext(chunks)  # an engine error before any audio is still a clean 4xx/5xx
    except StopAsyncIteration:
        first = b""  # nothing to say (the engine made no audio): an empty body
    except BaseException:
        producer.cancel()
        raise

    async def stream() -> AsyncGenerator[bytes, None]:
        try:
            yield first
            async for data in chunks:
                yield data
                if await request.is_disconnected():
                    break
        finally:
            producer.cancel()  # the client left (or we are done): stop synthesis now

    if body.stream_format == "sse":
        return StreamingResponse(sse_events(stream()), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    return StreamingResponse(stream(), media_type=MEDIA_TYPES[body.response_format],
                             headers={"Cache-Control": "no-store"})
