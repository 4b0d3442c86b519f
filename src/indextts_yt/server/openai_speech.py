"""POST /v1/audio/speech: the OpenAI text-to-speech API, so existing OpenAI clients can use
the studio (``base_url="http://127.0.0.1:8765/v1"``).

``model``: an engine name (``piper``, ``espeak``), ``auto``, or one of OpenAI's model names
(``tts-1``, ``tts-1-hd``, ``gpt-4o-mini-tts``), which mean ``auto``. ``voice``: one of our
voice ids, or one of OpenAI's voice names (``alloy``, ``nova``...), which mean each
language's default voice — so a client written for OpenAI works unchanged. The input is
split like a script and rendered segment by segment; the audio is streamed as it is made.
This request owns its work: when the client disconnects, synthesis stops.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..audio import MEDIA_TYPES
from ..engines import registry
from ..errors import EngineUnavailable, InputError, PayloadTooLarge
from ..jobs.plan import AUTO, Choice, plan
from ..jobs.runner import job_sample_rate
from ..clips import ClipStore
from .responses import file_response
from .speech_producer import SpeechProducer

router = APIRouter(tags=["OpenAI-compatible"])

#: Longest input, in characters (OpenAI's own limit is 4096). Long enough for a chapter;
#: for a whole book use a job, which survives disconnects and restarts.
MAX_SPEECH_CHARS = 100_000
OPENAI_MODELS = frozenset({"tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
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
    speed: float = Field(1.0, ge=0.5, le=2.0, description="speaking rate, 0.5 to 2.0")
    instructions: str | None = Field(None, description="accepted and ignored")
    stream_format: Literal["audio"] | None = Field(None, description="only 'audio' (raw bytes)")


def resolve(model: str, voice: str | None) -> Choice:
    engine = AUTO if model in OPENAI_MODELS or model == AUTO else model
    if engine != AUTO and engine not in registry.engine_names():
        raise EngineUnavailable(f"unknown model {model!r}; use one of: auto, "
                                f"{', '.join(registry.engine_names())}, {', '.join(sorted(OPENAI_MODELS))}")
    if voice is None or voice.lower() in OPENAI_VOICES:
        return Choice(engine, None)
    return Choice(engine, voice)


@router.post("/v1/audio/speech", response_class=StreamingResponse,
             summary="OpenAI-compatible text to speech, streamed",
             responses=file_response(*sorted(set(MEDIA_TYPES.values())),
                                     description="the audio, streamed as it is made"))
async def speech(body: SpeechRequest, request: Request) -> StreamingResponse:
    if len(body.input) > MAX_SPEECH_CHARS:
        raise PayloadTooLarge(f"input is limited to {MAX_SPEECH_CHARS} characters, got {len(body.input)}")
    if not body.input.strip():
        raise InputError("input is empty")
    studio = request.app.state.studio

    def prepare():
        # speed 1.0 is every engine's default; only engines with a speed setting take others.
        options = {"speed": body.speed} if body.speed != 1.0 else {}
        segments = plan(body.input, resolve(body.model, body.voice), options, clips=clips)
        return segments, job_sample_rate(s.engine for s in segments)

    clips = ClipStore(studio.data_dir)
    segments, rate = await run_in_threadpool(prepare)

    producer = SpeechProducer(segments, rate, body.response_format, clips,
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

    async def stream():
        try:
            yield first
            async for data in chunks:
                yield data
                if await request.is_disconnected():
                    break
        finally:
            producer.cancel()  # the client left (or we are done): stop synthesis now

    return StreamingResponse(stream(), media_type=MEDIA_TYPES[body.response_format],
                             headers={"Cache-Control": "no-store"})
