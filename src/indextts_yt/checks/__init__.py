"""Proofreading: is a finished take what the script says, said cleanly?

``check_segment`` runs every check on one take: what an ASR model hears against the text
(``heard``), and from the audio alone a stretch said twice (``repeat``: Whisper tidies
repeats away), the speaking rate, long silences, clipping, an end click, and the engine's
own runaway warning. A language no ASR model covers gets the signal
checks only and is "not_checked", never "ok".

Modules, one job each: ``model`` (results), ``asr`` (which Whisper model, loading it,
transcribing), ``compare`` (heard vs written: normalisation, alignment, the heard verdict),
``numbers`` (English numbers as words), ``repeat`` (speech said twice, from the audio's
self-similarity), ``signal`` (the other audio-only checks). Below ``jobs``:
nothing here knows about jobs, storage or delivery.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .asr import AsrModelRef, AsrSet, resolve_asr_model, transcribe
# (aliased: the name ``compare`` stays the submodule)
from .compare import HEARD_THRESHOLDS, heard_verdict
from .compare import compare as compare_texts
from .model import CHECK_NAMES, CheckResult, Diff, DiffOp, Transcript, Verdict, Word
from .repeat import REPEAT_THRESHOLDS, RepeatThresholds, repeat_verdict
from .signal import (THRESHOLDS, Thresholds, clipping, click, levels, rate, runaway, silence,
                     speech_seconds)

__all__ = [
    "CHECK_NAMES", "HEARD_THRESHOLDS", "REPEAT_THRESHOLDS", "THRESHOLDS", "AsrModelRef",
    "AsrSet", "CheckResult", "Diff", "DiffOp", "RepeatThresholds", "Thresholds", "Transcript",
    "Verdict", "Word", "check_segment",
    "default_asr", "resolve_asr_model",
]

_DEFAULT_ASR: AsrSet | None = None


def default_asr() -> AsrSet:
    """English by Whisper tiny.en, every other language by Whisper base (one per process)."""
    global _DEFAULT_ASR
    if _DEFAULT_ASR is None:
        _DEFAULT_ASR = AsrSet.default()
    return _DEFAULT_ASR


def check_segment(audio: np.ndarray, sample_rate: int, text: str, language: str, *,
                  engine_rate_cpm: float, warnings: Sequence[str] = (),
                  asr: AsrSet | None = None, thresholds: Thresholds = THRESHOLDS) -> CheckResult:
    """Check one take: float32 mono ``audio`` at ``sample_rate``, made from ``text`` in
    ``language``. ``engine_rate_cpm``: the engine's characters a minute for the language
    (``engines.base.speaking_rate``); ``warnings``: what the engine's synthesize returned;
    ``asr``: which model hears which language (default: ``default_asr()``)."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    lv = levels(samples, sample_rate)
    verdicts = {v.name: v for v in (
        rate(lv, text, engine_rate_cpm, thresholds), silence(lv, thresholds),
        repeat_verdict(samples, sample_rate, text, language, speech_seconds(lv)),
        runaway(warnings), clipping(samples, thresholds),
        click(samples, sample_rate, lv, thresholds))}
    model = (asr or default_asr()).model_for(language)
    transcript = diff = None
    notes: tuple[str, ...] = ()
    if model is None:
        notes = (f"no speech recogniser for {language!r}: not heard back",)
    else:
        transcript = transcribe(model, samples, sample_rate, language, text)
        comparison = compare_texts(text, transcript.text, language)
        diff = comparison.diff
        verdicts["heard"] = heard_verdict(comparison, language)
    ordered = tuple(verdicts[name] for name in CHECK_NAMES if name in verdicts)
    status = "flagged" if any(not v.ok for v in ordered) else \
        "not_checked" if model is None else "ok"
    return CheckResult(status, ordered, transcript, diff, notes)
