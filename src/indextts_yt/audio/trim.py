"""Leading and trailing silence of a segment, cut before the timeline adds its pauses.

Engines pad their output unevenly (espeak ends a sentence with ~0.3 s of zeros, piper with
~0.1 s of a -95 dBFS floor), so without trimming the pause between two sentences would be
the configured pause plus whatever the engine left. Only the edges are cut; silence inside
a segment is speech rhythm and stays.

How silence is found: the segment is cut into 10 ms windows and each window's RMS level is
compared with a threshold set **relative to the segment's loudest window** (default 50 dB
under it), but never below an **absolute floor** (default -80 dBFS):

* Relative, because a segment's level is arbitrary before loudness normalisation: engines
  and voices differ by 10-20 dB, and a render's noise floor moves with its level. Soft
  onsets and tails ("f", "h", "th", a fading vowel) sit a roughly fixed 30-45 dB under the
  vowels, so a threshold tied to the segment's own peak keeps them in a quiet render as in
  a loud one; a fixed -50 dBFS would cut them from a segment rendered 20 dB low.
* The floor, so that hiss under -80 dBFS is never "sound", even in a segment whose loudest
  window is under -30 dBFS (where 50 dB under it would be under the hiss); a segment with
  nothing over the floor is silent. Typical TTS is far louder (loudest 10 ms window: piper
  about -11 dBFS, espeak -14) with a far lower floor (piper about -95 dBFS, espeak exact
  zeros), so for them the floor does not bind and the trim is purely relative. The floor is
  low on purpose: in a render 15-20 dB too quiet, a higher one (-70) cut quiet word endings
  and breaths that are clearly there once the segment is brought to the target loudness.
  The limit: hiss less than 50 dB under the loudest window is not told from speech.
* Windowed RMS, not single samples: a sample-level test fires on any stray spike of the
  noise floor and stops at every zero crossing of a vowel.

``keep_ms`` (40 ms) of the original is kept beyond the first and last window over the
threshold, so a consonant's onset or a tail under the threshold is not clipped, and the
timeline's 8 ms edge fades fall on near-silence, never on speech. The trimmed edges are
therefore within about 50 ms (40 ms plus one window) of the speech.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLOOR_DBFS", "trim_silence", "trimmed_bounds"]

WINDOW_MS = 10.0
#: Below this (window RMS, dBFS) a window is silence whatever the segment's level; a
#: segment with no window above it is all silence.
FLOOR_DBFS = -80.0


def _as_mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {a.shape}")
    return a


def _window_levels(a: np.ndarray, window: int) -> np.ndarray:
    """RMS of each ``window`` samples in dBFS (the last window may be shorter)."""
    n = len(a)
    count = -(-n // window)
    padded = np.zeros(count * window, dtype=np.float64)
    padded[:n] = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=-1.0)
    energy = np.square(padded).reshape(count, window).sum(axis=1)
    sizes = np.full(count, window, dtype=np.float64)
    sizes[-1] = n - (count - 1) * window
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(energy / sizes)


def trimmed_bounds(audio: np.ndarray, rate: int, threshold_db: float = -50.0,
                   keep_ms: float = 40.0, *, floor_dbfs: float = FLOOR_DBFS) -> tuple[int, int]:
    """``(start, end)`` sample indices of ``audio`` to keep: ``audio[start:end]``.

    ``threshold_db`` is relative to the loudest 10 ms window (negative); ``floor_dbfs`` is
    the absolute floor (see the module notes). ``start < end`` for any segment with sound
    above the floor; for an all-silent one (or an empty one) ``start == end == 0``.
    Callers can add ``start / rate`` to place subtitles on the trimmed audio.
    """
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    if not threshold_db < 0:
        raise ValueError(
            f"threshold_db must be negative (relative to the peak), got {threshold_db}")
    if not keep_ms >= 0:
        raise ValueError(f"keep_ms must be 0 or more, got {keep_ms}")
    a = _as_mono(audio)
    if not len(a):
        return 0, 0
    window = max(1, round(WINDOW_MS / 1000.0 * rate))
    levels = _window_levels(a, window)
    loudest = float(levels.max())
    if not loudest >= floor_dbfs:
        return 0, 0
    loud = levels >= max(loudest + threshold_db, floor_dbfs)
    first = int(np.argmax(loud))
    last = len(loud) - 1 - int(np.argmax(loud[::-1]))
    keep = round(keep_ms / 1000.0 * rate)
    return max(0, first * window - keep), min(len(a), (last + 1) * window + keep)


def trim_silence(audio: np.ndarray, rate: int, threshold_db: float = -50.0,
                 keep_ms: float = 40.0, *, floor_dbfs: float = FLOOR_DBFS) -> np.ndarray:
    """``audio`` without its leading and trailing silence (float32, a new array).

    Never empty when there is sound above the floor. An all-silent segment becomes
    ``2 * keep_ms`` of digital silence (at least one sample): the segment still has a place
    and a cue on the timeline, but no hiss to be raised by loudness normalisation.
    """
    start, end = trimmed_bounds(audio, rate, threshold_db, keep_ms, floor_dbfs=floor_dbfs)
    if start == end:
        return np.zeros(max(1, round(2 * keep_ms / 1000.0 * rate)), dtype=np.float32)
    return np.array(_as_mono(audio)[start:end], dtype=np.float32)
