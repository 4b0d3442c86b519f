"""The engine contract (see DESIGN.md): every engine looks like this to the rest of the studio."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Capabilities:
    languages: tuple[str, ...]  # ISO 639-1 codes the engine speaks well ("en", "zh", ...)
    cloning: bool = False  # can it speak in the voice of a reference clip?
    emotion: tuple[str, ...] = ()  # emotion controls it accepts ("vector", "text", "reference")
    max_segment_chars: int = 300  # longest text it should be given at once
    streaming: bool = False  # does synthesize() yield several chunks per segment?


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # stable id, unique within the engine
    name: str
    language: str
    engine: str
    description: str = ""
    read_only: bool = True  # bundled with the engine


@dataclass(frozen=True)
class SettingSpec:
    """One engine setting: its type, default and bounds, so input can be checked before work."""

    name: str
    default: float
    minimum: float
    maximum: float
    help: str = ""


@runtime_checkable
class Engine(Protocol):
    name: str
    version: str  # changes whenever the same input would give different audio
    sample_rate: int
    capabilities: Capabilities
    settings: tuple[SettingSpec, ...]

    def voices(self) -> list[VoiceInfo]: ...

    def prepare_voice(self, voice: str) -> Any:
        """Analyse a voice once; the result is passed back to synthesize()."""
        ...

    def synthesize(
        self, text: str, conditioning: Any, settings: Mapping[str, float]
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono chunks in [-1, 1] at ``sample_rate``."""
        ...


def resolve_settings(specs: tuple[SettingSpec, ...], given: Mapping[str, Any]) -> dict[str, float]:
    """Fill defaults and check names, types and bounds; raise InputError naming the field."""
    from ..errors import InputError

    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InputError(
            f"unknown setting {unknown[0]!r}; this engine takes: {', '.join(sorted(known)) or 'none'}"
        )
    resolved: dict[str, float] = {}
    for spec in specs:
        value = given.get(spec.name, spec.default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"setting {spec.name!r} must be a number, got {value!r}") from None
        value = float(value)
        if not (spec.minimum <= value <= spec.maximum):
            raise InputError(
                f"setting {spec.name!r} must be between {spec.minimum:g} and {spec.maximum:g}, got {value:g}"
            )
        resolved[spec.name] = value
    return resolved
