"""The voices installed engines bring with them (piper's joe, espeak's languages): listed in
the library beside the user's own, read-only, since they are part of an engine."""

from __future__ import annotations

from ..engines import registry
from ..errors import EngineUnavailable
from .model import BUNDLED, Voice


def bundled_voices() -> list[Voice]:
    """Every voice of every installed engine that does not clone (a cloning engine's voices
    are the library's). Engines that cannot start here are left out."""
    voices = []
    for name in registry.engine_names():
        try:
            engine = registry.get_engine(name)
        except EngineUnavailable:
            continue
        if engine.capabilities.cloning:
            continue
        for v in engine.voices():
            voices.append(Voice(id=f"{name}:{v.id}", kind=BUNDLED, name=v.name, voice=v.id,
                                language=v.language or None,
                                engine=name, description=v.description,
                                terms=v.terms))
    return voices


def engine_clones(name: str) -> bool:
    """Whether engine ``name`` speaks library voices (it clones) rather than its own.
    Unknown names raise; an engine that cannot start here is judged by its registry entry."""
    if name not in registry.engine_names():
        raise EngineUnavailable(f"unknown engine {name!r}; known engines: "
                                f"{', '.join(registry.engine_names())}")
    try:
        return registry.get_engine(name).capabilities.cloning
    except EngineUnavailable:
        return registry.entry_clones(name)
