"""Fallback engine: eSpeak NG (formant synthesis) for languages without a neural voice.

Uses the libespeak-ng and data directory that the PyPI package ``espeakng-loader`` ships,
through ctypes, in synchronous mode: ``espeak_Synth`` returns only after our callback has
received every sample, so no thread of espeak's own is involved.

The library keeps all its state in process globals and is not re-entrant, so every call into
it happens under one module-level lock. Its output is not bit-exact from call to call: some
waveform state carries over, so the same text comes out slightly differently each time
(about -45 dB RMS difference, length within about 10 ms). Inaudible, but do not compare
eSpeak audio by hash or exact length.

Two copies of eSpeak NG in one process: ``piper-tts`` statically links its own copy into
``piper/espeakbridge.so`` (its phonemiser) and that module exports the same symbol names
(``espeak_Initialize``, ``espeak_ng_Synthesize``, ``param_defaults``, ... 86 in common). Python
imports extension modules with RTLD_LOCAL and ctypes also defaults to RTLD_LOCAL, so normally
neither copy can see the other. But if anything ever brought one copy into the global symbol
scope (``sys.setdlopenflags(RTLD_GLOBAL)``, a system libespeak-ng loaded globally by another
package), libespeak-ng's internal calls through its PLT would bind to the *other* copy's
functions and state (wrong voice, wrong data directory, or a crash). We therefore load the
library with ``RTLD_LOCAL | RTLD_DEEPBIND`` where the platform has it (glibc), which makes it
resolve its own symbols first whatever else is loaded. tests/test_engines.py checks both load
orders, and the global-scope case, in fresh processes.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineUnavailable, InputError
from .base import Capabilities, EngineBase, SettingSpec, VoiceInfo, resolve_settings

#: Bump whenever this module changes the audio produced for the same input.
_REVISION = 1

#: espeakVOLUME (0..200, default 100, roughly linear). At 100 eSpeak peaks up to 0.99 of full
#: scale (Spanish) with speech RMS about -21 dBFS; 75 keeps peaks below about -2.5 dBFS and
#: puts the level within a dB or so of the piper engine's (-23 dBFS RMS).
VOLUME = 75

#: eSpeak's default rate in words per minute; speed 1.0 maps to it.
DEFAULT_WPM = 175
_MIN_WPM, _MAX_WPM = 80, 450  # espeakRATE_MINIMUM / espeakRATE_MAXIMUM

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of exit() on bad data
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_ENDPAUSE = 0x1000
# [[...]] in the text is phonemes: only the pronunciation dictionary writes it (user-typed
# double brackets are collapsed before any engine: text/markdown.py).
_ESPEAK_PHONEMES = 0x100
_ESPEAK_RATE = 1
_ESPEAK_VOLUME = 2
_ESPEAK_PITCH = 3
_EE_OK = 0


@dataclass(frozen=True)
class _Voice:
    id: str  # our stable id
    name: str
    language: str  # ISO 639-1
    dictionary: str  # <dictionary>_dict must exist in the data dir for the voice to be offered
    description: str = ""
    espeak_name: str = ""  # what espeak_SetVoiceByName gets, when it differs from the id


# Curated: the languages a narration studio is likely to want, first voice of each language
# is its default. Filtered at run time to those whose dictionary is present in the data dir.
_CURATED: tuple[_Voice, ...] = (
    _Voice("cmn", "Mandarin Chinese (普通话)", "zh", "cmn", "eSpeak NG formant voice; reads Hanzi"),
    _Voice("yue", "Cantonese (粵語)", "zh", "yue", "eSpeak NG formant voice; reads Hanzi in Cantonese"),
    _Voice("en-us", "English (America)", "en", "en"),
    # espeak_SetVoiceByName("en-gb") fails (status 2); the British voice's file is lang/gmw/en.
    _Voice("en-gb", "English (Great Britain)", "en", "en", espeak_name="en"),
    _Voice("de", "German", "de", "de"),
    _Voice("fr", "French (France)", "fr", "fr"),
    _Voice("es", "Spanish (Spain)", "es", "es"),
    _Voice("es-419", "Spanish (Latin America)", "es", "es"),
    _Voice("it", "Italian", "it", "it"),
    _Voice("pt-br", "Portuguese (Brazil)", "pt", "pt"),
    _Voice("pt", "Portuguese (Portugal)", "pt", "pt"),
    _Voice("ru", "Russian", "ru", "ru"),
    _Voice("ja", "Japanese", "ja", "ja", "eSpeak NG formant voice; reads kana only, not kanji"),
    _Voice("ko", "Korean", "ko", "ko"),
    _Voice("hi", "Hindi", "hi", "hi"),
    _Voice("ar", "Arabic", "ar", "ar", "eSpeak NG formant voice; needs vowelled (diacritised) text"),
)

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Library:
    """The loaded libespeak-ng: process-global, used only under ``_LOCK``."""

    def __init__(self, lib: ctypes.CDLL, sample_rate: int, callback: Any) -> None:
        self.lib = lib
        self.sample_rate = sample_rate
        self.callback = callback  # keep the ctypes thunk alive for the life of the process
        self.buffer: list[np.ndarray] | None = None
        self.current_voice: str | None = None


_LOCK = threading.RLock()
_LIBRARY: _Library | None = None


def _paths() -> tuple[str, str]:
    try:
        import espeakng_loader
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise EngineUnavailable(
            "engine 'espeak' needs the package espeakng-loader (pip install espeakng-loader)"
        ) from exc
    try:
        return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    except RuntimeError as exc:  # data dir missing
        raise EngineUnavailable(f"engine 'espeak' cannot start: {exc}") from exc


def _dlopen_mode() -> int:
    mode = os.RTLD_LOCAL | getattr(os, "RTLD_NOW", 0)
    # See the module docstring: resolve libespeak-ng's own symbols first, so that another
    # eSpeak copy in the global scope (piper's espeakbridge, a system library) cannot capture
    # its internal calls. Missing on macOS and musl; there the RTLD_LOCAL default must do.
    mode |= getattr(os, "RTLD_DEEPBIND", 0)
    return mode


def _load_library() -> _Library:
    """Load and initialise libespeak-ng once per process (caller holds ``_LOCK``)."""
    global _LIBRARY
    if _LIBRARY is not None:
        return _LIBRARY
    lib_path, data_path = _paths()
    try:
        lib = ctypes.CDLL(lib_path, mode=_dlopen_mode())
    except OSError as exc:
        raise EngineUnavailable(f"engine 'espeak' cannot load {lib_path}: {exc}") from exc

    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,  # text
        ctypes.c_size_t,  # size (bytes, including the terminator)
        ctypes.c_uint,  # position
        ctypes.c_int,  # position_type
        ctypes.c_uint,  # end_position
        ctypes.c_uint,  # flags
        ctypes.POINTER(ctypes.c_uint),  # unique_identifier
        ctypes.c_void_p,  # user_data
    ]
    lib.espeak_Synth.restype = ctypes.c_int

    # The data path is the directory *containing* espeak-ng-data or that directory itself;
    # espeak-ng accepts either. buflength is in ms: the callback gets chunks of about 200 ms.
    sample_rate = lib.espeak_Initialize(
        _AUDIO_OUTPUT_SYNCHRONOUS, 200, os.fsencode(data_path), _ESPEAK_INITIALIZE_DONT_EXIT
    )
    if sample_rate <= 0:
        raise EngineUnavailable(
            f"engine 'espeak' failed to initialise libespeak-ng with data at {data_path}"
        )

    holder: dict[str, _Library] = {}

    def on_audio(wav: Any, numsamples: int, events: Any) -> int:
        library = holder["lib"]
        if wav and numsamples > 0 and library.buffer is not None:
            library.buffer.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return 0  # 0: go on synthesising

    callback = _SYNTH_CALLBACK(on_audio)
    lib.espeak_SetSynthCallback(callback)
    library = _Library(lib, int(sample_rate), callback)
    holder["lib"] = library
    _LIBRARY = library
    return library


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover - broken install
        return "unknown"


class EspeakEngine(EngineBase):
    """eSpeak NG through ctypes: many languages (Mandarin among them), robotic but clear."""

    name = "espeak"
    # espeakng-loader pins the library and its data; its version stands for both.
    version = f"espeak-ng-loader-{_dist_version('espeakng-loader')}/{_REVISION}"
    settings: tuple[SettingSpec, ...] = (
        SettingSpec(
            "speed", 1.0, 0.5, 2.0, f"speaking rate relative to eSpeak's default {DEFAULT_WPM} words/min"
        ),
        SettingSpec("pitch", 50.0, 0.0, 100.0, "base pitch, 0 (low) to 100 (high)"),
    )

    def __init__(self) -> None:
        _, data_path = _paths()
        data = Path(data_path)
        self._voices = tuple(v for v in _CURATED if (data / f"{v.dictionary}_dict").is_file())
        self._by_id = {v.id: v for v in self._voices}
        languages: list[str] = []
        for v in self._voices:
            if v.language not in languages:
                languages.append(v.language)
        self.capabilities = Capabilities(
            languages=tuple(languages),
            cloning=False,
            emotion=(),
            max_segment_chars=500,
            streaming=False,
            # Measured at the default 175 words/min (bench/speaking_rate.py). Other languages
            # get English's rate: alphabetic text reads at a similar rate in characters.
            chars_per_minute={"en": 1055, "zh": 236, "*": 1055},
        )

    @property
    def sample_rate(self) -> int:
        """The library's rate (22050 for espeak-ng); loads the library on first access."""
        with _LOCK:
            return _load_library().sample_rate

    # -- contract ---------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(
                id=v.id,
                name=v.name,
                language=v.language,
                engine=self.name,
                description=v.description or "eSpeak NG formant voice",
                read_only=True,
            )
            for v in self._voices
        ]

    def prepare_voice(self, voice: str) -> str:
        """Check the voice id and load the library; the conditioning is the voice id."""
        self._check_voice(voice)
        with _LOCK:
            self._select_voice(_load_library(), voice)
        return voice

    def synthesize(
        self, text: str, conditioning: Any, settings: Mapping[str, float], language: str = "en"
    ) -> Iterator[np.ndarray]:
        """Yield the whole segment as one float32 mono chunk (nothing for empty text)."""
        voice = "en-us" if conditioning is None else conditioning
        self._check_voice(voice)
        if not isinstance(text, str):
            raise InputError(f"text must be a string, got {type(text).__name__}")
        values = resolve_settings(self.settings, settings or {})
        return self._generate(text, voice, values)

    # -- internals --------------------------------------------------------------------------

    def _generate(self, text: str, voice: str, values: dict[str, float]) -> Iterator[np.ndarray]:
        audio = self._render(text, voice, values)
        if audio.size:
            yield audio

    def _render(self, text: str, voice: str, values: dict[str, float]) -> np.ndarray:
        # espeak would stop at a NUL; other control characters are harmless.
        text = text.replace("\x00", " ")
        if not text.strip():
            return np.zeros(0, dtype=np.float32)
        data = text.encode("utf-8") + b"\x00"
        wpm = int(round(min(max(DEFAULT_WPM * values["speed"], _MIN_WPM), _MAX_WPM)))
        with _LOCK:
            library = _load_library()
            lib = library.lib
            self._select_voice(library, voice)
            # Set after the voice: selecting a voice may reset voice-dependent parameters.
            _check(lib.espeak_SetParameter(_ESPEAK_RATE, wpm, 0), "set the rate")
            _check(lib.espeak_SetParameter(_ESPEAK_PITCH, int(round(values["pitch"])), 0), "set the pitch")
            _check(lib.espeak_SetParameter(_ESPEAK_VOLUME, VOLUME, 0), "set the volume")
            library.buffer = []
            try:
                buf = ctypes.create_string_buffer(data, len(data))
                status = lib.espeak_Synth(
                    buf,
                    len(data),
                    0,
                    _POS_CHARACTER,
                    0,
                    _ESPEAK_CHARS_UTF8 | _ESPEAK_ENDPAUSE |
                    (_ESPEAK_PHONEMES if "[[" in text else 0),
                    None,
                    None,
                )
                _check(status, "synthesise")
                pieces = library.buffer
            finally:
                library.buffer = None
        if not pieces:
            return np.zeros(0, dtype=np.float32)
        samples = np.concatenate(pieces).astype(np.float32)
        samples *= np.float32(1.0 / 32768.0)
        np.clip(samples, -1.0, 1.0, out=samples)
        return samples

    def _select_voice(self, library: _Library, voice: str) -> None:
        if library.current_voice == voice:
            return
        espeak_name = self._by_id[voice].espeak_name or voice
        status = library.lib.espeak_SetVoiceByName(espeak_name.encode("ascii"))
        if status != _EE_OK:
            raise EngineUnavailable(
                f"eSpeak NG could not load voice {voice!r} (status {status}); its data may be missing"
            )
        library.current_voice = voice

    def _check_voice(self, voice: Any) -> None:
        if not isinstance(voice, str) or voice not in self._by_id:
            raise EngineUnavailable(
                f"unknown voice {voice!r} for engine {self.name!r}; "
                f"available: {', '.join(v.id for v in self._voices)}"
            )


def _check(status: int, what: str) -> None:
    if status != _EE_OK:
        raise RuntimeError(f"eSpeak NG failed to {what} (status {status})")
