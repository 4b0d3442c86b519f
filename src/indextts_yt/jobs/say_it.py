"""'Say it': one pronunciation dictionary entry rendered in a short sentence, so a creator
hears it before a long job (the CLI's `dict try`, the API's POST /api/dictionary/try)."""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..audio.resample import BlockResampler
from ..audio.wav_writer import to_pcm16
from ..clips import ClipStore
from ..dictionary import Dictionary, Entry, studio_entries
from ..errors import InputError
from .plan import Choice, plan
from .render import render_all
from .runner import job_sample_rate

MAX_WORD_CHARS = 200
_GAP_S = 0.25  # between the segments of a carrier sentence split in two (mixed languages)


@dataclass(frozen=True)
class Said:
    audio: np.ndarray  # float32 mono
    sample_rate: int
    text: str  # the carrier sentence as written
    spoken: tuple[str, ...]  # what each engine was given (the dictionary applied)

    def wav(self) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(to_pcm16(self.audio))
        return out.getvalue()


def carrier(word: str) -> str:
    """A short sentence around ``word`` in its language."""
    if re.search(r"[\u3400-\u9fff]", word):
        return f"请说{word}。"
    return f"Say {word} again."


def say_it(word: str, choice: Choice, clips: ClipStore, *, entries: Iterable[Entry] = (),
           text: str | None = None, options: dict | None = None) -> Said:
    """``word`` said in a carrier sentence (or ``text``, which should contain it) by the
    chosen engine and voice, with the studio's dictionary and ``entries`` (over it)."""
    word = " ".join(str(word).split())
    if not word or len(word) > MAX_WORD_CHARS:
        raise InputError(f"the word to try is 1-{MAX_WORD_CHARS} characters")
    sentence = text if text and text.strip() else carrier(word)
    if len(sentence) > 4 * MAX_WORD_CHARS:
        raise InputError(f"the sentence to try is at most {4 * MAX_WORD_CHARS} characters")
    dictionary = Dictionary(entries, studio_entries(clips.data_dir))
    segments = plan(sentence, choice, options or {}, clips=clips, dictionary=dictionary)
    rate = job_sample_rate(s.engine for s in segments)
    parts: list[np.ndarray] = []
    for seg in segments:
        audio, _ = render_all(seg, clips)
        engine_rate = _engine_rate(seg.engine)
        resampler = BlockResampler(engine_rate, rate)
        parts += [resampler.push(audio), resampler.finish()]
        parts.append(np.zeros(int(_GAP_S * rate), np.float32))
    audio = np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32)
    return Said(audio.astype(np.float32), rate, sentence,
                tuple(s.spoken for s in segments))


def _engine_rate(name: str) -> int:
    from ..engines import registry

    return registry.get_engine(name).sample_rate
