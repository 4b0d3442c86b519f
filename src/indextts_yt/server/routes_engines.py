"""Health, the engines with their voices, settings and capabilities, and the split preview."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from .. import __version__
from ..dictionary import Dictionary, studio_entries
from ..engines import registry
from ..errors import EngineUnavailable
from ..jobs.plan import Choice, describe, plan, plan_notes, resolve_choice
from ..jobs.service import check_text
from .context import ClipsDep, StudioDep
from .responses import (EngineCapabilities, EngineInfo, EngineLoad, EngineMissing, EngineSetting,
                        EngineVoice, Health, Preview, PreviewSegment)
from .schemas import PreviewRequest

router = APIRouter(tags=["engines"])


@router.get("/api/health", summary="Liveness (needs no API key)")
def health(s: StudioDep) -> Health:
    # ready: the worker has swept, re-queued and warmed the default engine up.
    return Health(ok=True, version=__version__,
                  ready=s.worker.alive and s.worker.wait_started(0))


def engine_json(name: str) -> EngineInfo:
    engine = registry.get_engine(name)
    caps = engine.capabilities
    info = engine.load_info()  # how an IndexTTS model is loaded (serve flags); None: bundled
    return EngineInfo(
        name=engine.name,
        load=None if info is None else EngineLoad(**asdict(info)),
        sample_rate=engine.sample_rate,
        capabilities=EngineCapabilities(
            languages=list(caps.languages), cloning=caps.cloning, emotion=list(caps.emotion),
            max_segment_chars=caps.max_segment_chars, streaming=caps.streaming,
            chars_per_minute=dict(caps.chars_per_minute)),
        available=True,
        settings=[EngineSetting(name=s.name, kind=s.kind, default=s.default, minimum=s.minimum,
                                maximum=s.maximum, choices=list(s.choices), help=s.help,
                                ignored=s.ignored) for s in engine.settings],
        voices=[EngineVoice(**{k: v for k, v in asdict(voice).items() if k != "engine"})
                for voice in engine.voices()],
    )


@router.get("/api/engines", summary="Every engine: its voices, settings and capabilities, "
            "or why it cannot run here")
def engines() -> list[EngineInfo | EngineMissing]:
    out: list[EngineInfo | EngineMissing] = []
    for name in registry.engine_names():
        try:
            out.append(engine_json(name))
        except EngineUnavailable as exc:  # an optional engine without its extra or weights
            out.append(EngineMissing(name=name, available=False, reason=str(exc)))
    return out


@router.post("/api/preview", summary="How a script will be split (no synthesis)")
def preview(body: PreviewRequest, clips: ClipsDep) -> Preview:
    check_text(body.text)
    # With the studio's clips: library voices by name, as a job takes them.
    choice = resolve_choice(Choice(body.engine, body.voice), clips)
    segments = plan(body.text, choice, {}, body.max_chars, clips, body.cast,
                    dictionary=Dictionary(studio=studio_entries(clips.data_dir)),
                    dialogue=body.dialogue)
    return Preview(version=1, segments=[PreviewSegment(**d) for d in describe(segments)],
                   notes=plan_notes(body.text, segments, choice))
