"""What the IndexTTS2 and IndexTTS-2.5 engines share.

- ``LoadOptions``: how the model is loaded (weights folder, device, fp16, ...), set once per
  process by ``--checkpoints/--device/...`` on ``narrate`` and ``serve``.
- The checks that make a missing extra, missing weights or an impossible device fail at
  once with one line saying what to do, before any model is loaded.
- ``ConditioningCache``: the reference analysis (w2v-bert + CAMPPlus + reference mel, the
  costly part of a new voice) kept per clip content in memory (LRU) and on disk, so a voice
  is analysed once per model, ever; the libraries themselves remember one clip (v2) or a
  few clips by path (2.5) for the life of the process only.
- ``IndexTTSEngine``: the engine contract over a library-specific ``_Backend``; loads the
  model on first use, so planning a job (which only needs the settings) stays instant.
- ``LongFormGuards``: what a long narration must never accept silently, watched from
  outside the library (its files are never edited): a piece that ran to ``max_mel_tokens``
  without its stop token (a runaway), and a waveform past full scale, which is scaled
  down before the vocoder's own clamp instead of clipped. Both become warnings that
  ``synthesize`` returns; every piece of speech also ends in a short fade (no end click).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_file
from ..paths import cache_dir
from ..audio.fades import raised_cosine
from ..errors import EngineUnavailable, InputError
from . import kv_cache
from .base import (
    Capabilities, EngineBase, LoadInfo, PreloadResult, SettingSpec, SettingValue, Synthesis,
    TYPICAL_CHARS_PER_MINUTE, VoiceInfo, with_defaults,
)

SAMPLE_RATE = 22_050
#: Voices whose conditioning stays in memory (a few MB each on the GPU).
MEMORY_VOICES = 8
_DEVICE = re.compile(r"cpu|mps|xpu|cuda(:\d+)?")

#: Every piece of speech ends with a fade this long: a half cosine falling to exactly 0 on
#: the last sample (the same shape as the 8 ms fades at the joins, audio/fades.py), so a
#: stop token sampled mid-waveform never leaves a step (a click) before the silence.
END_FADE_MS = 8.0
#: A piece whose waveform would pass full scale is scaled so its peak is here: -1 dBFS,
#: the ceiling the rest of the studio keeps (clips, mastering's true peak), which leaves
#: room for the overshoot of resampling and 16-bit drafts.
CLIP_CEILING = 10 ** (-1 / 20)

#: The 8 emotions of IndexTTS2's emotion vector, in the model's order.
EMOTIONS = ("happy", "angry", "sad", "afraid", "disgusted", "melancholic", "surprised", "calm")


@dataclass(frozen=True)
class LoadOptions:
    """How an IndexTTS model is loaded; one set per process (flags of narrate/serve)."""

    checkpoints: Path | None = None  # the weights folder; default ./checkpoints
    device: str | None = None  # cuda, cuda:N, cpu, mps; default: the first GPU, else CPU
    fp16: bool = False  # half-precision GPT: less memory, faster on most GPUs
    accel: bool = False  # flash-attn GPT engine (CUDA): faster, fewer sampling controls
    compile: bool = False  # torch.compile the diffusion model (IndexTTS2 only)
    cuda_kernel: bool = False  # BigVGAN's fused CUDA activation kernel (IndexTTS2 only)


def require_package(module: str, engine: str, extra: str) -> str:
    """The installed version of the library, or EngineUnavailable saying how to install it."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        from .install_hint import install_hint

        raise EngineUnavailable(f"engine {engine!r} is not installed: {install_hint(extra)} "
                                f"(best on a machine with a CUDA GPU; see the README)")
    dist = {"indextts": "indextts2-inference", "indextts25": "indextts25-inference"}[module]
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def require_checkpoints(folder: Path, config_keys: tuple[str, ...], extra_files: tuple[str, ...],
                        engine: str, repo: str, marker_key: str, marker_present: bool) -> Path:
    """The weights folder, checked for config.yaml and the files it names (``config_keys``,
    dotted) plus ``extra_files``. ``marker_key`` tells the two models' folders apart: it must
    be present (or absent) in the config, so a folder of the other model is named as such."""
    from .install_hint import weights_hint

    config = _read_config(folder / "config.yaml")
    if config is not None and (_lookup(config, marker_key) is not None) != marker_present:
        raise EngineUnavailable(
            f"engine {engine!r}: {str(folder)!r} holds the weights of another IndexTTS model; "
            f"{weights_hint(repo, 'DIR')}")
    names = ["config.yaml"]
    if config is not None:
        names += [str(_lookup(config, key)) for key in config_keys if _lookup(config, key)]
    names += list(extra_files)
    missing = [name for name in names if not (folder / name).exists()]
    if missing:
        where = "is missing" if folder.is_dir() else "does not exist"
        detail = f" ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})" \
            if folder.is_dir() else ""
        raise EngineUnavailable(f"engine {engine!r}: the weights folder {str(folder)!r} {where}"
                                f"{detail}; {weights_hint(repo, folder)}")
    return folder


def _read_config(path: Path) -> dict | None:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _lookup(config: dict, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_device(options: LoadOptions, engine: str, *, compile_ok: bool, cuda_kernel_ok: bool
                 ) -> str:
    """The device to load on, after refusing combinations that cannot work."""
    import torch

    device = options.device
    if device is not None and not _DEVICE.fullmatch(device):
        raise InputError(f"--device must be cuda, cuda:N, cpu, mps or xpu, got {device!r}")
    if device is None:
        device = "cuda:0" if torch.cuda.is_available() else (
            "mps" if torch.backends.mps.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EngineUnavailable(f"engine {engine!r}: --device {device} but this torch sees no "
                                    f"CUDA GPU (torch {torch.__version__}); use --device cpu")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise EngineUnavailable(f"engine {engine!r}: --device {device} but only "
                                    f"{torch.cuda.device_count()} GPU(s) are visible")
    elif device == "mps" and not torch.backends.mps.is_available():
        raise EngineUnavailable(f"engine {engine!r}: --device mps but MPS is not available here")
    on_cuda = device.startswith("cuda")
    if options.fp16 and device == "cpu":
        raise InputError("--fp16 needs a GPU; on the CPU the model runs in float32")
    if options.accel:
        if not on_cuda:
            raise InputError("--accel needs a CUDA GPU (it is a flash-attn engine)")
        if importlib.util.find_spec("flash_attn") is None:
            raise EngineUnavailable("--accel needs flash-attn: pip install flash-attn")
    if options.compile and not compile_ok:
        raise InputError(f"--compile is not available for engine {engine!r}")
    if options.cuda_kernel and not (cuda_kernel_ok and on_cuda):
        raise InputError("--cuda-kernel needs a CUDA GPU and engine 'indextts2'"
                         if cuda_kernel_ok else
                         f"--cuda-kernel is not available for engine {engine!r}")
    return device


def folder_fingerprint(*folders: Path) -> str:
    """Identity of a set of weights: names, sizes and modification times of their files
    (hashing gigabytes of weights at every start would cost seconds)."""
    digest = hashlib.sha256()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}\n"
                              .encode())
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ConditioningCache:
    """Analysed reference clips by (role, content hash): in memory (LRU) and on disk.

    ``role`` is "speaker" or "emotion" (a clip can be used as either). Entries are dicts of
    tensors; on disk under ``<cache dir>/conditioning/<model id>/``, so a new model (other
    weights, another library version) never reads another model's analysis.
    """

    def __init__(self, root: Path | None, model_id: str, device: str,
                 capacity: int = MEMORY_VOICES):
        self.dir = root / "conditioning" / model_id if root is not None else None
        self.device = device
        self.capacity = capacity
        self._memory: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.stats = {"computed": 0, "from_disk": 0, "from_memory": 0}

    def get(self, role: str, clip_path: str, compute: Callable[[], dict[str, Any]]
            ) -> dict[str, Any]:
        key = (role, file_digest(clip_path))
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                self.stats["from_memory"] += 1
                return self._memory[key]
            value = self._load(key)
            if value is None:
                value = compute()
                self.stats["computed"] += 1
                self._save(key, value)
            else:
                self.stats["from_disk"] += 1
            self._memory[key] = value
            while len(self._memory) > self.capacity:
                self._memory.popitem(last=False)
            return value

    def _path(self, key: tuple[str, str]) -> Path | None:
        return self.dir / f"{key[0]}-{key[1]}.pt" if self.dir is not None else None

    def _load(self, key: tuple[str, str]) -> dict[str, Any] | None:
        path = self._path(key)
        if path is None or not path.exists():
            return None
        import torch

        try:
            return torch.load(path, map_location=self.device, weights_only=True)
        except Exception:  # noqa: BLE001 - a damaged entry is recomputed, never fatal
            path.unlink(missing_ok=True)
            return None

    def _save(self, key: tuple[str, str], value: dict[str, Any]) -> None:
        path = self._path(key)
        if path is None:
            return
        import torch

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as f:
                torch.save({name: tensor.detach().cpu() for name, tensor in value.items()}, f)
        except OSError:
            pass  # a read-only cache only costs the analysis again next time


@dataclass(frozen=True)
class Voice:
    """A prepared reference clip: its path and the analysis the library needs."""

    path: str
    speaker: dict[str, Any]
    emotion: dict[str, Any]


@dataclass
class Piece:
    """What the guards saw of one text piece: one GPT call, then (if it made codes) one
    vocoder call. ``runaway_limit``: the token limit it stopped at without a stop token."""

    runaway_limit: int | None = None
    peak: float = 0.0  # the waveform's peak before any scaling (1.0 = full scale)
    gain: float = 1.0  # applied so that it does not clip (below 1 when it would have)


class LongFormGuards:
    """Watches one library pipeline from outside, on the instance, for long-form failures.

    - ``gpt.inference_speech`` is wrapped: both libraries cut the returned codes at the
      first stop token and only ``warnings.warn`` (once per call) when there is none, so
      a piece whose codes hold no stop token is recorded as a runaway.
    - a forward hook on the vocoder's last layer (``bigvgan.conv_post``) sees the waveform
      just before BigVGAN clamps it to [-1, 1] (the libraries clamp again after it): a
      waveform whose peak is past full scale is scaled to ``CLIP_CEILING`` there, so the
      clamps never cut it. A BigVGAN with ``use_tanh_at_final`` saturates softly and
      cannot clip; it is left alone.

    Pieces are recorded between ``begin()`` and ``end()``, one generation at a time per
    pipeline (as the engine's generation lock has it); outside that the scaling still
    applies, unrecorded.
    """

    def __init__(self, gpt: Any, stop_token: int, vocoder: Any):
        self.stop_token = int(stop_token)
        self.scales = not vocoder.use_tanh_at_final
        self._pieces: list[Piece] | None = None
        real = gpt.inference_speech

        def inference_speech(*args: Any, **kwargs: Any) -> Any:
            out = real(*args, **kwargs)
            # IndexTTS2 returns (codes, latent), IndexTTS-2.5 the codes.
            self._generated(out[0] if isinstance(out, tuple) else out,
                            kwargs.get("max_generate_length"))
            return out

        gpt.inference_speech = inference_speech
        self.hook = vocoder.conv_post.register_forward_hook(self._vocoded)

    def begin(self) -> list[Piece]:
        """Start recording the pieces of one generation; returns the record."""
        self._pieces = pieces = []
        return pieces

    def end(self, pieces: list[Piece]) -> None:
        if self._pieces is pieces:
            self._pieces = None

    def _generated(self, codes: Any, limit: int | None) -> None:
        if self._pieces is None:
            return
        row = codes[0] if codes.ndim > 1 else codes
        ended = bool((row == self.stop_token).any())
        self._pieces.append(Piece(runaway_limit=None if ended else int(limit or row.shape[-1])))

    def _vocoded(self, module: Any, inputs: Any, output: Any) -> Any:
        peak = float(output.detach().abs().max()) if output.numel() else 0.0
        piece = self._pieces[-1] if self._pieces else None
        if piece is not None:
            piece.peak = max(piece.peak, peak)
        if not (self.scales and peak > 1.0):  # also False for NaN
            return None
        gain = CLIP_CEILING / peak
        if piece is not None:
            piece.gain *= gain
        return output * gain


def piece_warnings(pieces: list[Piece]) -> tuple[str, ...]:
    """One line per thing that went wrong in a segment's pieces (see base.Engine)."""
    warnings = []
    for k, piece in enumerate(pieces, 1):
        where = f"piece {k} of {len(pieces)}"
        if piece.runaway_limit is not None:
            warnings.append(
                f"runaway: {where} stopped at max_mel_tokens ({piece.runaway_limit}) without "
                f"an end — check the audio or lower max_text_tokens_per_segment")
        if piece.gain < 1.0:
            warnings.append(f"clipping: {where} peaked at {_db(piece.peak)} dBFS; scaled by "
                            f"{_db(piece.gain)} dB to avoid clipping")
    return tuple(warnings)


def _db(ratio: float) -> str:
    value = 20 * np.log10(max(ratio, 1e-9))
    return f"{value:+.1f}".replace("-", "\u2212")


def end_fade(chunk: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """``chunk`` with its last ``len(ramp)`` samples faded out (a shorter chunk: the end
    of the ramp), as a new array; ends at exactly 0."""
    out = np.array(chunk, dtype=np.float32)
    k = min(len(out), len(ramp))
    if k:
        out[-k:] *= ramp[-k:]
    return out


class _Backend:
    """One IndexTTS library behind a small interface (see indextts2_engine / indextts25_engine)."""

    tts: Any  # the library's pipeline object (gpt, stop_mel_token, bigvgan, ...)
    guards: LongFormGuards  # installed on it when the engine loads the backend

    def analyse_speaker(self, path: str) -> dict[str, Any]: ...

    def analyse_emotion(self, path: str) -> dict[str, Any]: ...

    def generate(self, text: str, voice: Voice, emotion: dict[str, Any] | None,
                 emotion_path: str | None, settings: Mapping[str, SettingValue],
                 language: str) -> Iterator[np.ndarray]: ...


class IndexTTSEngine(EngineBase):
    """The engine contract for an IndexTTS library. Subclasses fill in the class attributes
    and ``_load_backend``."""

    name: str
    label: str  # "IndexTTS2"
    module: str  # import name of the library
    extra: str  # our pip extra
    repo: str  # the Hugging Face repo of the weights
    config_files: tuple[str, ...]  # keys of config.yaml that name weight files
    extra_files: tuple[str, ...] = ()  # weight files the library loads by a fixed name
    marker_key: str  # a config key that only one of the two models has ...
    marker_present: bool  # ... and whether this model has it
    languages: tuple[str, ...]
    emotion_modes: tuple[str, ...]
    compile_ok = False
    cuda_kernel_ok = False
    #: The library reads a cached step's mel position from the attention mask (kv_cache).
    mel_position_from_mask = False
    sample_rate = SAMPLE_RATE
    #: Bump when this adapter changes the audio made for the same input.
    #: 2: pieces end in a fade; a waveform past full scale is scaled, not clipped.
    revision = 2

    def __init__(self, options: LoadOptions | None = None):
        self.options = options or LoadOptions()
        library_version = require_package(self.module, self.name, self.extra)
        kv_cache.check_version()
        self.checkpoints = require_checkpoints(
            Path(self.options.checkpoints or "checkpoints").expanduser(), self.config_files,
            self.extra_files, self.name, self.repo, self.marker_key, self.marker_present)
        self.device = check_device(self.options, self.name, compile_ok=self.compile_ok,
                                   cuda_kernel_ok=self.cuda_kernel_ok)
        model_id = hashlib.sha256(
            f"{self.name}|{library_version}|{folder_fingerprint(self.checkpoints)}".encode()
        ).hexdigest()[:16]
        self.version = f"{self.name}-{library_version}/{model_id}/{self.revision}"
        self.capabilities = Capabilities(
            languages=self.languages, cloning=True, emotion=self.emotion_modes,
            max_segment_chars=300, streaming=True, mixed_languages=True,
            # A cloned voice speaks at its reference's pace, so no one measurement fits: the
            # typical natural rates (published figures for narration, not of this model).
            chars_per_minute=dict(TYPICAL_CHARS_PER_MINUTE))
        self.settings = self._settings()
        self.conditioning = ConditioningCache(cache_dir(), model_id, self.device)
        self._backend: _Backend | None = None
        self._load_lock = threading.Lock()
        # The joins' raised cosine, reversed: from about 1 down to exactly 0.
        self._end_ramp = raised_cosine(round(END_FADE_MS / 1000 * self.sample_rate))[::-1].copy()

    # -- the contract ---------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        return []  # a cloning engine speaks in the voice of a reference clip (clips.py)

    def prepare_voice(self, voice: str) -> Voice:
        """Analyse the reference clip at path ``voice`` (or take the cached analysis)."""
        backend = self._loaded()
        return Voice(
            path=voice,
            speaker=self.conditioning.get("speaker", voice, lambda: backend.analyse_speaker(voice)),
            emotion=self.conditioning.get("emotion", voice, lambda: backend.analyse_emotion(voice)),
        )

    def preload(self, voice: str) -> PreloadResult:
        """Load the model and analyse a clip now, without synthesising speech; says whether
        the analysis was made, read from the disk cache or already in memory."""
        before = dict(self.conditioning.stats)
        self.prepare_voice(voice)
        after = self.conditioning.stats
        if after["computed"] > before["computed"]:
            return PreloadResult.ANALYSED
        if after["from_disk"] > before["from_disk"]:
            return PreloadResult.FROM_DISK
        return PreloadResult.IN_MEMORY

    def load_info(self) -> LoadInfo:
        return LoadInfo(checkpoints=str(self.checkpoints), device=self.device,
                        fp16=self.options.fp16, accel=self.options.accel,
                        compile=self.options.compile, cuda_kernel=self.options.cuda_kernel)

    def synthesize(self, text: str, conditioning: Voice, settings: Mapping[str, SettingValue],
                   language: str = "en") -> Synthesis:
        """The library's chunks, each piece of speech ending in a fade, none past full
        scale; returns the warnings about this segment (runaways, scaled pieces)."""
        backend = self._loaded()
        settings = with_defaults(self.settings, settings)  # the backends read every setting
        emotion_path = str(settings["emotion_clip"]) or None
        emotion = None
        if emotion_path:
            emotion = self.conditioning.get(
                "emotion", emotion_path, lambda: backend.analyse_emotion(emotion_path))
        pieces = backend.guards.begin()
        seed_torch(int(settings["seed"]), self.device)
        try:
            for chunk in backend.generate(text, conditioning, emotion, emotion_path, settings,
                                          language):
                if chunk.any():  # speech (silences pass unchanged)
                    chunk = end_fade(self._within_full_scale(chunk, pieces), self._end_ramp)
                yield chunk
        finally:
            backend.guards.end(pieces)
        return piece_warnings(pieces)

    @staticmethod
    def _within_full_scale(chunk: np.ndarray, pieces: list[Piece]) -> np.ndarray:
        """The last line of defence after the vocoder's guard: a chunk still past full
        scale (a library build with other scaling) is scaled, recorded, never clipped."""
        peak = float(np.max(np.abs(chunk)))
        if not peak > 1.0:
            return chunk
        if not pieces:
            pieces.append(Piece())
        pieces[-1].peak = max(pieces[-1].peak, peak)
        pieces[-1].gain *= CLIP_CEILING / peak
        return chunk * np.float32(CLIP_CEILING / peak)

    # -- internals ------------------------------------------------------------------------

    def _loaded(self) -> _Backend:
        with self._load_lock:
            if self._backend is None:
                backend = self._load_backend()
                # On the library's pipeline (both libraries name its parts alike): the KV
                # cache under the installed transformers, and the long-form guards.
                tts = backend.tts
                kv_cache.install(tts.gpt.inference_model,
                                 mask_positions=self.mel_position_from_mask)
                backend.guards = LongFormGuards(tts.gpt, tts.stop_mel_token, tts.bigvgan)
                self._backend = backend
            return self._backend

    def _load_backend(self) -> _Backend:
        raise NotImplementedError

    def _settings(self) -> tuple[SettingSpec, ...]:
        raise NotImplementedError


def seed_torch(seed: int, device: str) -> None:
    """Seed torch's generators right before a generation, so one seed always renders a
    segment alike (on this device and library) and a retake with another seed differs."""
    import torch

    torch.manual_seed(seed)
    if device.startswith("cuda"):
        torch.cuda.manual_seed_all(seed)


def number(name: str, default: float, minimum: float, maximum: float, help: str,
           ignored: str = "") -> SettingSpec:
    return SettingSpec(name, default, minimum, maximum, help, "number", ignored=ignored)


def integer(name: str, default: int, minimum: int, maximum: int, help: str,
            ignored: str = "") -> SettingSpec:
    return SettingSpec(name, default, minimum, maximum, help, "integer", ignored=ignored)


def emotion_clip_settings() -> tuple[SettingSpec, ...]:
    return (
        SettingSpec("emotion_clip", "", help="A second reference clip whose emotion (not "
                    "voice) the speech takes; its strength is emo_alpha.", kind="clip"),
        number("emo_alpha", 1.0, 0.0, 1.0, "Strength of the emotion clip or vector "
               "(0 = the voice's own manner, 1 = full)."),
    )


def sampling_settings(*, beams_ignored: str = "", sampling_ignored: str = ""
                      ) -> tuple[SettingSpec, ...]:
    return (
        number("temperature", 0.8, 0.05, 2.0, "GPT sampling temperature: higher is more varied."),
        number("top_p", 0.8, 0.0, 1.0, "Nucleus sampling: keep the most likely tokens up to "
               "this probability mass.", sampling_ignored),
        integer("top_k", 30, 0, 200, "Sample among the k most likely tokens (0 = all).",
                sampling_ignored),
        integer("num_beams", 3, 1, 10, "Beam search width: more is steadier and slower.",
                beams_ignored or sampling_ignored),
        number("repetition_penalty", 10.0, 1.0, 20.0, "Penalty against repeated speech "
               "tokens (stutters, loops).", sampling_ignored),
        integer("max_mel_tokens", 1500, 10, 3000, "Longest speech per text piece, in tokens "
                "(about 1/50 s each); longer output is cut."),
        integer("max_text_tokens_per_segment", 120, 20, 600, "The model reads text in pieces "
                "of at most this many tokens; fewer starts audio sooner."),
        integer("interval_silence", 200, 0, 2000, "Silence (ms) between the model's pieces "
                "inside one of our segments."),
        integer("seed", 0, 0, 2**31 - 1, "The sampling's random seed: the same seed renders a "
                "segment the same way; a retake uses another."),
    )


def as_mono(audio: Any) -> np.ndarray:
    """A library chunk (tensor or array, any shape) as float32 mono at float scale (1.0 =
    full scale). IndexTTS2 builds have yielded both float audio in [-1, 1] and PCM-scale
    values (±32767): anything beyond 1.5 can only be the latter. Nothing is clipped here:
    a chunk still past full scale is scaled (and reported) by ``IndexTTSEngine.synthesize``."""
    if hasattr(audio, "detach"):
        audio = audio.detach().float().cpu().numpy()
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size and float(np.max(np.abs(audio))) > 1.5:
        audio = audio / np.float32(32767.0)
    return audio
