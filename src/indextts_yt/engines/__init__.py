"""Speech engines behind one contract (base.py) and a registry by name (registry.py).

Importing this package imports no engine: each loads on first ``get_engine(name)``.
"""

from .base import (
    Capabilities, Engine, EngineBase, LoadInfo, PreloadResult, SettingSpec, VoiceInfo,
    resolve_settings,
)
from .registry import (
    EngineEntry,
    default_voice,
    engine_for_language,
    engine_names,
    get_engine,
    has_voice,
    normalize_language,
    register_engine,
    voice_info,
)

__all__ = [
    "Capabilities",
    "Engine",
    "EngineBase",
    "EngineEntry",
    "LoadInfo",
    "PreloadResult",
    "SettingSpec",
    "VoiceInfo",
    "default_voice",
    "engine_for_language",
    "engine_names",
    "get_engine",
    "has_voice",
    "normalize_language",
    "register_engine",
    "resolve_settings",
    "voice_info",
]
