"""Mastering a narration for publishing: every segment brought to one loudness, peaks kept
under a true-peak ceiling.

Per segment (a few seconds of speech, held in memory once): a gain to the target loudness,
then, only where that gain pushes the true peak over the ceiling, FFmpeg's ``alimiter``
run at 4x the sample rate (so it sees the peaks between samples) with a little margin;
the gain is corrected for what the limiter took off and the pair redone, at most a few
times. TTS speech peaks 16-21 dB above its loudness, so at -16 LUFS most segments need a
few dB of peak limiting; at -23 LUFS most need none and pass with gain alone.

Segments are mastered independently: each is its own sentence or paragraph, with a pause
on either side, so a limiter that starts fresh per segment changes nothing at the joins,
and the narration is mastered with the memory of one segment. The result is measured as a
whole (``LoudnessMeter``) when it is written, and reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .loudness import DEFAULT_TARGET_LUFS, TRUE_PEAK_LIMIT_DBTP, apply_gain, measure
from .trim import trim_silence, trimmed_bounds

__all__ = ["Mastering", "master_segment", "trimmed_lead"]

_OVERSAMPLE = 4
_ATTACK_MS = 2.0
_RELEASE_MS = 40.0
#: The limiter's ceiling sits this far under the requested one: its 4x view of the peaks
#: is close to, not exactly, BS.1770's true peak.
_MARGIN_DB = 0.3
_ROUNDS = 3
_TOLERANCE_LU = 0.3


@dataclass(frozen=True)
class Mastering:
    """Loudness target in LUFS (None: leave levels alone), the true-peak ceiling, and
    whether each segment's leading and trailing silence is cut (so that the pauses between
    segments are exactly the ones the user set, whatever padding the engine left)."""

    target_lufs: float | None = DEFAULT_TARGET_LUFS
    true_peak_dbtp: float = TRUE_PEAK_LIMIT_DBTP
    trim: bool = True

    @property
    def active(self) -> bool:
        return self.target_lufs is not None or self.trim


def master_segment(audio: np.ndarray, rate: int, mastering: Mastering) -> np.ndarray:
    """One segment, trimmed, at the target loudness with its true peak under the ceiling."""
    if mastering.trim and len(audio):
        audio = trim_silence(audio, rate)
    if mastering.target_lufs is None or not len(audio):
        return np.asarray(audio, dtype=np.float32)
    before = measure(audio, rate)
    if before.integrated_lufs is None:  # silence or a blip: no speech level to match
        return np.asarray(audio, dtype=np.float32)
    gain = mastering.target_lufs - before.integrated_lufs
    if before.true_peak_dbtp + gain <= mastering.true_peak_dbtp - _MARGIN_DB:
        return apply_gain(audio, gain)  # the gain alone keeps the peaks under the ceiling
    # The loudness after limiting grows with the gain, more slowly the more is limited: find
    # the gain that meets the target by the secant method, starting from the largest gain
    # the limiter leaves alone (there the loudness is exactly before + gain). The plain
    # fixed-point step (gain += shortfall) took all three rounds and still fell short.
    ceiling = mastering.true_peak_dbtp - _MARGIN_DB
    free = ceiling - before.true_peak_dbtp
    known = (free, before.integrated_lufs + free)  # (gain, loudness) last measured
    out = None
    for last in (i == _ROUNDS - 1 for i in range(_ROUNDS)):
        louder = (np.asarray(audio, np.float32) * np.float32(10 ** (gain / 20))).astype(np.float32)
        out = _limit(louder, rate, ceiling)
        if last:
            break  # nothing left to correct: no need to measure
        loudness = measure(out, rate).integrated_lufs
        if loudness is None or abs(loudness - mastering.target_lufs) <= _TOLERANCE_LU:
            break
        slope = (loudness - known[1]) / (gain - known[0]) if gain != known[0] else 1.0
        known = (gain, loudness)
        # a limiter never adds loudness faster than the gain, nor takes all of it
        gain += (mastering.target_lufs - loudness) / min(1.0, max(0.1, slope))
    assert out is not None
    return out


def trimmed_lead(audio: np.ndarray, rate: int, mastering: Mastering) -> int:
    """Samples :func:`master_segment` cuts from the start of ``audio``: where its output
    starts in the segment's own audio (word times from the take are placed by it)."""
    if not (mastering.trim and len(audio)):
        return 0
    return trimmed_bounds(audio, rate)[0]


def _limit(audio: np.ndarray, rate: int, ceiling_dbtp: float) -> np.ndarray:
    """FFmpeg's alimiter at 4x the rate, same length and timing as ``audio``."""
    import av
    import av.filter

    graph = av.filter.Graph()
    source = graph.add_abuffer(sample_rate=rate, format="flt", layout="mono")
    chain = [
        graph.add("aresample", str(rate * _OVERSAMPLE)),
        graph.add("alimiter", f"limit={10 ** (ceiling_dbtp / 20):.6f}:attack={_ATTACK_MS}"
                              f":release={_RELEASE_MS}:level=disabled"),
        graph.add("aresample", str(rate)),
        graph.add("abuffersink"),
    ]
    node = source
    for next_node in chain:
        node.link_to(next_node)
        node = next_node
    graph.configure()

    # The limiter looks ahead by its attack time, so its output is late by that much: feed
    # that much silence after the audio and drop it from the front.
    delay = round(_ATTACK_MS / 1000 * rate)
    padded = np.concatenate([audio, np.zeros(delay + rate // 10, np.float32)]).astype(np.float32)
    out: list[np.ndarray] = []

    def drain() -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            out.append(frame.to_ndarray().reshape(-1))

    step = 8192
    for start in range(0, len(padded), step):
        frame = av.AudioFrame.from_ndarray(padded[None, start:start + step].copy(), format="flt",
                                           layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    limited = np.concatenate(out) if out else np.zeros(0, np.float32)
    result = np.zeros(len(audio), np.float32)
    kept = limited[delay:delay + len(audio)]
    result[:len(kept)] = kept
    return result
