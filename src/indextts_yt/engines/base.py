"""The engine contract (see DESIGN.md): every engine looks like this to the rest of the studio."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Capabilities:
    languages: tuple[str, ...]  # ISO 639-1 codes the engine speaks well ("en", "zh", ...)
    cloning: bool = False  # can it speak in the voice of a reference clip?
    emotion: tuple[str, ...] = ()  # emotion controls it accepts ("vector", "text", "reference")
    max_segment_chars: int = 300  # longest text it should be given at once
    streaming: bool = False  # does synthesize() yield several chunks per segment?
    #: Language code -> characters of text (punctuation and spaces included) a minute of
    #: narration holds at speed 1.0 with the default voice; "*": any other language. What
    #: the preview and the web UI estimate durations from (see speaking_rate).
    chars_per_minute: Mapping[str, int] = field(default_factory=dict)
    #: Reads a sentence that mixes its languages in one voice ("用 Python 写代码"); an engine
    #: without it gets each language's part as a segment of its own.
    mixed_languages: bool = False


#: Typical natural narration, published rates rather than measurements: about 150 words
#: (850 Latin characters) of English and 250-300 Han characters of Mandarin a minute. For
#: the cloning engines, and an engine that gives no rate for a language.
TYPICAL_CHARS_PER_MINUTE: Mapping[str, int] = {"en": 850, "zh": 280}


def speaking_rate(capabilities: Capabilities, language: str) -> int:
    """Characters a minute the engine speaks ``language`` at: its own rate for it, its
    rate for any language, or a typical one (English's for a language we have none for)."""
    rates = capabilities.chars_per_minute
    return (rates.get(language) or rates.get("*") or TYPICAL_CHARS_PER_MINUTE.get(language)
            or TYPICAL_CHARS_PER_MINUTE["en"])


@dataclass(frozen=True)
class VoiceInfo:
    id: str  # stable id, unique within the engine
    name: str
    language: str
    engine: str
    description: str = ""
    read_only: bool = True  # bundled with the engine
    #: Terms of use that limit the audio made with it ("non-commercial use only ..."), shown
    #: beside the voice and recorded in the report of every job that uses it; "" for none.
    terms: str = ""


#: What ``Engine.synthesize`` returns: chunks, then (as the generator's return value) the
#: warnings about the segment it made, or None for none.
Synthesis = Generator[np.ndarray, None, tuple[str, ...] | None]


def synthesis_warnings(result: object) -> tuple[str, ...]:
    """The warnings in a finished ``synthesize`` generator's return value (None: none).
    Anything but None or a tuple/list of strings is a bug in the engine, said as such."""
    if result is None:
        return ()
    if isinstance(result, (tuple, list)) and all(isinstance(w, str) for w in result):
        return tuple(result)
    raise TypeError(f"synthesize() must return a tuple of warning strings or None, "
                    f"got {result!r}")


#: Kinds of setting. "number": a float in [minimum, maximum]; "integer": a whole number in
#: [minimum, maximum]; "text": a string of at most ``maximum`` characters; "choice": one of
#: ``choices``; "clip": the id of a stored reference clip (see clips.py), or "" for none.
SETTING_KINDS = ("number", "integer", "text", "choice", "clip")

SettingValue = float | str


@dataclass(frozen=True)
class SettingSpec:
    """One engine setting: its kind, default and bounds, so input can be checked before work."""

    name: str
    default: SettingValue
    minimum: float = 0.0
    maximum: float = 0.0
    help: str = ""
    kind: str = "number"
    choices: tuple[str, ...] = ()
    #: Why the setting has no effect in this configuration (e.g. "with --accel"); giving it
    #: anyway is an error that says so, instead of a value silently ignored.
    ignored: str = ""


@dataclass(frozen=True)
class LoadInfo:
    """How an engine's model is loaded (IndexTTS: the serve/narrate flags), as the API shows it."""

    checkpoints: str
    device: str
    fp16: bool
    accel: bool
    compile: bool
    cuda_kernel: bool


class PreloadResult(StrEnum):
    """What ``Engine.preload`` did; the values are what the CLI prints and the API returns."""

    ANALYSED = "analysed"
    FROM_DISK = "loaded from the disk cache"
    IN_MEMORY = "already in memory"


@runtime_checkable
class Engine(Protocol):
    name: str
    version: str  # changes whenever the same input would give different audio
    sample_rate: int
    capabilities: Capabilities
    settings: tuple[SettingSpec, ...]

    def voices(self) -> list[VoiceInfo]: ...

    def prepare_voice(self, voice: str) -> Any:
        """Analyse a voice once; the result is passed back to synthesize(). For a cloning
        engine ``voice`` is the path of a validated reference clip (the caller resolves clip
        ids, see clips.py); otherwise one of voices()."""
        ...

    def synthesize(
        self, text: str, conditioning: Any, settings: Mapping[str, SettingValue],
        language: str = "en",
    ) -> Iterator[np.ndarray] | Synthesis:
        """Yield float32 mono chunks in [-1, 1] at ``sample_rate``. ``language``: the
        segment's ISO 639-1 code; settings of kind "clip" arrive as file paths.

        Warnings about the audio just made (the model ran away to its token limit, a piece
        had to be scaled down to avoid clipping) are the generator's *return value*: a
        tuple of one-line strings, each starting with its kind (``"runaway: ..."``), which
        the runner takes with ``result = yield from chunks`` (see ``synthesis_warnings``)
        and stores on the segment. An engine with nothing to report returns None, as any
        plain generator or iterator does."""
        ...

    # Optional hooks: EngineBase has a default for each, so callers never probe for them.

    def check_settings(self, settings: Mapping[str, SettingValue]) -> None:
        """Refuse settings that are valid alone but not together (raise InputError)."""
        ...

    def load_info(self) -> LoadInfo | None:
        """How the model is loaded, for engines loaded with options; None otherwise."""
        ...

    def preload(self, voice: str) -> PreloadResult:
        """Load the model and analyse ``voice`` now, without making speech."""
        ...


class EngineBase:
    """The defaults of the Engine protocol's optional hooks; every engine inherits them."""

    def prepare_voice(self, voice: str) -> Any:
        raise NotImplementedError

    def check_settings(self, settings: Mapping[str, SettingValue]) -> None:
        return None  # no setting depends on another

    def load_info(self) -> LoadInfo | None:
        return None  # nothing to configure: the model is bundled

    def preload(self, voice: str) -> PreloadResult:
        # No analysis cache of its own: preparing the voice is all there is to do.
        self.prepare_voice(voice)
        return PreloadResult.ANALYSED


def resolve_settings(specs: tuple[SettingSpec, ...], given: Mapping[str, Any]
                     ) -> dict[str, SettingValue]:
    """Fill defaults and check names, kinds and bounds; raise InputError naming the field.
    Settings marked ``ignored`` are refused when given and left out of the result."""
    from ..errors import InputError

    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InputError(
            f"unknown setting {unknown[0]!r}; this engine takes: {', '.join(sorted(known)) or 'none'}"
        )
    resolved: dict[str, SettingValue] = {}
    for spec in specs:
        if spec.ignored:
            if spec.name in given:
                raise InputError(f"setting {spec.name!r} has no effect {spec.ignored}; leave it out")
            continue
        resolved[spec.name] = _check_value(spec, given.get(spec.name, spec.default))
    return resolved


def _check_value(spec: SettingSpec, value: Any) -> SettingValue:
    from ..errors import InputError

    if spec.kind in ("text", "choice", "clip"):
        if not isinstance(value, str):
            raise InputError(f"setting {spec.name!r} must be text, got {value!r}")
        value = " ".join(value.split())
        if spec.kind == "text" and len(value) > spec.maximum:
            raise InputError(f"setting {spec.name!r} is limited to {spec.maximum:g} characters")
        if spec.kind == "choice" and value not in spec.choices:
            raise InputError(f"setting {spec.name!r} must be one of {', '.join(spec.choices)}, "
                             f"got {value!r}")
        if spec.kind == "clip" and value:
            from ..clips import check_clip_id

            check_clip_id(value, what=f"setting {spec.name!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InputError(f"setting {spec.name!r} must be a number, got {value!r}") from None
    value = float(value)
    if not (spec.minimum <= value <= spec.maximum):  # also rejects NaN
        raise InputError(
            f"setting {spec.name!r} must be between {spec.minimum:g} and {spec.maximum:g}, got {value:g}"
        )
    if spec.kind == "integer":
        if not value.is_integer():
            raise InputError(f"setting {spec.name!r} must be a whole number, got {value:g}")
        return int(value)
    return value


def with_defaults(specs: tuple[SettingSpec, ...], settings: Mapping[str, SettingValue]
                  ) -> dict[str, SettingValue]:
    """``settings`` (already resolved; clip settings may be paths by now) with any missing
    setting at its default, so an engine states a default only in its SettingSpec. Settings
    marked ``ignored`` stay out, as in resolve_settings."""
    filled = {spec.name: spec.default for spec in specs if not spec.ignored}
    filled.update(settings)
    return filled


def settings_for(engine: Engine, given: Mapping[str, Any]) -> dict[str, SettingValue]:
    """resolve_settings, then the engine's own check of settings that conflict with each
    other (``check_settings``), so a bad combination fails before work."""
    resolved = resolve_settings(engine.settings, given)
    engine.check_settings(resolved)
    return resolved
