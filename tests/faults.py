"""Fault injection for the proofreading checks: each function takes a clean take (float32
mono) and returns a corrupted copy, the way a take goes wrong. Deterministic: the same
take and seed always give the same copy.

Speech is found here with its own plain energy gate, independent of checks.signal, so a
fault is placed by what the audio holds rather than by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FRAME_S = 0.01
XFADE_S = 0.01  # joins are cross-faded, so a cut is heard as missing speech, not a click


def _frame_db(audio: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    frame = int(rate * FRAME_S)
    n = len(audio) // frame
    x = audio[: n * frame].astype(np.float64).reshape(n, frame)
    return 10 * np.log10(np.mean(x * x, axis=1) + 1e-12), frame


def speech_span(audio: np.ndarray, rate: int) -> tuple[int, int]:
    """(first, last) sample of speech: frames within 40 dB of the loudest."""
    db, frame = _frame_db(audio, rate)
    loud = np.flatnonzero(db > db.max() - 40)
    return int(loud[0]) * frame, int(loud[-1] + 1) * frame


def quiet_point(audio: np.ndarray, rate: int, near: int, within_s: float = 0.15) -> int:
    """The quietest 10 ms frame within ``within_s`` of sample ``near`` (a word boundary)."""
    db, frame = _frame_db(audio, rate)
    centre = near // frame
    reach = int(within_s / FRAME_S)
    lo, hi = max(0, centre - reach), min(len(db), centre + reach + 1)
    return (lo + int(np.argmin(db[lo:hi]))) * frame


def join(a: np.ndarray, b: np.ndarray, rate: int) -> np.ndarray:
    """``a`` then ``b``, cross-faded over 10 ms."""
    n = min(int(rate * XFADE_S), len(a), len(b))
    if n == 0:
        return np.concatenate([a, b]).astype(np.float32)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    mixed = a[-n:] * (1 - ramp) + b[:n] * ramp
    return np.concatenate([a[:-n], mixed, b[n:]]).astype(np.float32)


def cut_clause(audio: np.ndarray, rate: int, fraction: float = 0.3) -> np.ndarray:
    """Drop ``fraction`` of the speech from its middle, cut at quiet points."""
    start, end = speech_span(audio, rate)
    middle, half = (start + end) // 2, int((end - start) * fraction / 2)
    a = quiet_point(audio, rate, middle - half)
    b = quiet_point(audio, rate, middle + half)
    return join(audio[:a], audio[b:], rate)


def repeat_phrase(audio: np.ndarray, rate: int, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """Say about ``seconds`` of speech (pauses not counted) twice, from a quiet point in the
    middle half of the speech."""
    start, end = speech_span(audio, rate)
    db, frame = _frame_db(audio, rate)
    voiced = db > db.max() - 40
    rng = np.random.default_rng(seed)
    a = quiet_point(audio, rate, start + int(rng.uniform(0.25, 0.5) * (end - start)))
    # walk on until ``seconds`` of voiced frames are inside, then to the next quiet point
    counted = np.cumsum(voiced[a // frame:])
    reach = int(np.searchsorted(counted, int(seconds / FRAME_S)))
    b = max(a + frame, quiet_point(audio, rate, a + reach * frame, within_s=0.1))
    return join(join(audio[:b], audio[a:b], rate), audio[b:], rate)


def insert_silence(audio: np.ndarray, rate: int, seconds: float = 5.0) -> np.ndarray:
    """``seconds`` of digital silence at a quiet point in the middle of the speech."""
    start, end = speech_span(audio, rate)
    at = quiet_point(audio, rate, (start + end) // 2)
    return np.concatenate([audio[:at], np.zeros(int(seconds * rate), np.float32), audio[at:]])


def cut_last_word(audio: np.ndarray, rate: int, seconds: float = 0.4) -> np.ndarray:
    """The last ``seconds`` of speech gone; the trailing silence stays, so the take ends
    cleanly, just early."""
    _, end = speech_span(audio, rate)
    return join(audio[: max(0, end - int(seconds * rate))], audio[end:], rate)


def clip(audio: np.ndarray, rate: int, gain: float = 4.0) -> np.ndarray:
    """Four times too loud, hard clipped at full scale."""
    return np.clip(audio * np.float32(gain), -1.0, 1.0).astype(np.float32)


def end_on_click(audio: np.ndarray, rate: int) -> np.ndarray:
    """Stopped dead mid-waveform: the take ends on the largest sample of its last second
    of speech."""
    start, end = speech_span(audio, rate)
    lo = max(start, end - rate)
    peak = lo + int(np.argmax(np.abs(audio[lo:end])))
    return audio[: peak + 1].copy()


def run_long(audio: np.ndarray, rate: int, seconds: float = 8.0) -> np.ndarray:
    """``seconds`` of babble after the take: its own speech reversed, repeated as needed."""
    start, end = speech_span(audio, rate)
    babble = audio[start:end][::-1]
    need = int(seconds * rate)
    babble = np.tile(babble, need // max(1, len(babble)) + 1)[:need]
    return join(audio, babble.astype(np.float32), rate)


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[np.ndarray, int], np.ndarray]
    #: The checks that should flag it (any of them counts as caught); first: the main one.
    caught_by: tuple[str, ...]


FAULTS = {f.name: f for f in (
    Fault("cut_clause", cut_clause, ("heard", "rate")),
    Fault("repeat_phrase", repeat_phrase, ("repeat", "heard", "rate")),
    Fault("insert_silence", insert_silence, ("silence",)),
    Fault("cut_last_word", cut_last_word, ("heard",)),
    Fault("clip", clip, ("clipping",)),
    Fault("end_on_click", end_on_click, ("click",)),
    Fault("run_long", run_long, ("rate", "heard")),
)}
