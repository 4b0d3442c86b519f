"""Loudness per ITU-R BS.1770 (LUFS, true peak, LRA): FFmpeg's meter for the loudness,
soxr's oversampling for the true peak.

The loudness meter is FFmpeg's ``ebur128`` filter, driven through PyAV: float blocks go into
an ``abuffer -> ebur128 -> abuffersink`` graph, and the filter tags every 100 ms of audio it
lets through with the running totals (``lavfi.r128.I``, ``.LRA``). It keeps histograms, not
the audio, so a 50-minute narration is measured in the same memory as a sentence.

The true peak is the largest magnitude of the audio oversampled 4x (BS.1770's Annex 2 asks
for at least 4x) by soxr's streaming resampler, or of the samples themselves if larger.
FFmpeg's own true-peak meter resamples to 192 kHz (8.7x at 22.05 kHz) and cost five times
the rest of the measurement; on speech the two agree within 0.01 dB, and it is the meter
that mastering runs on every segment, several times over (``tests/test_loudness.py``
holds both to independent references).

What FFmpeg's filter does that a caller has to know (all handled by :class:`LoudnessMeter`):

* It cuts the stream into 100 ms steps of ``rate // 10`` samples and updates its totals only
  when a step is complete. The samples after the last whole step (< 100 ms) are in no
  400 ms gating block (as with ``ffmpeg -af ebur128`` or pyloudnorm). So at the end we push
  100-200 ms of zeros to flush the filter and keep the totals read at the last whole step of
  real audio. (The peak meter sees every sample: soxr's stream is flushed at the end.)
* Fewer than four steps (< 0.4 s) or nothing above the -70 LUFS absolute gate: it reports
  ``I = -70.000``. We report ``integrated_lufs=None`` instead (see :class:`Loudness`).
* Mono is measured as one channel (BS.1770, as pyloudnorm does). A mono file that a video
  editor puts on both channels of a stereo track measures 3 dB louder there; pass
  ``dual_mono=True`` to measure as that stereo track would.

Evening out a narration (:func:`segment_gain_db`, :func:`apply_gain`) is gain only: one
constant gain per segment, no compression or limiting, so speech keeps its dynamics. The
gain brings a segment to the target unless its true peak would pass the limit; then the
segment stays that much under the target. TTS speech has a peak-to-loudness ratio (PLR) of
about 16-21 dB (piper, espeak), so at -1 dBTP only -17..-22 LUFS is reachable by gain alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = [
    "DEFAULT_TARGET_LUFS",
    "MAX_BOOST_DB",
    "PRESETS",
    "TRUE_PEAK_LIMIT_DBTP",
    "Loudness",
    "LoudnessMeter",
    "apply_gain",
    "level_segment",
    "measure",
    "parse_target",
    "segment_gain_db",
]

#: Spoken word: Apple Podcasts' level; AES TD1004 asks -16 to -20 for streamed speech.
DEFAULT_TARGET_LUFS = -16.0
#: Named targets, in LUFS. "youtube" also suits Spotify/Tidal (they play at -14);
#: "broadcast" is EBU R128 (TV and radio in Europe).
PRESETS: dict[str, float] = {"podcast": -16.0, "youtube": -14.0, "broadcast": -23.0}
_ALIASES = {"default": "podcast", "apple": "podcast", "spotify": "youtube",
            "ebu": "broadcast", "r128": "broadcast"}
_OFF = frozenset({"off", "none", "no", "false", "disabled"})
#: Accepted range of a numeric target: quieter than -40 is inaudible next to anything else,
#: louder than -5 cannot be reached by speech under a -1 dBTP peak limit.
TARGET_RANGE = (-40.0, -5.0)
TRUE_PEAK_LIMIT_DBTP = -1.0
#: Most gain :func:`segment_gain_db` applies: a segment that would need more is not normal
#: speech (a breath, noise, a failed render) and is not raised to the target.
MAX_BOOST_DB = 24.0

GATE_S = 0.4  # BS.1770 gating block
#: Shortest non-silent segment :func:`measure` estimates by looping (see there).
SHORT_MIN_S = 0.1
_LOOP_TO_S = 2.0
_ABSOLUTE_GATE = -70.0
_OVERSAMPLE = 4  # for the true peak
#: True-peak meters differ by a few thousandths of a dB (FFmpeg's 192 kHz interpolator
#: against a 4x polyphase one, as here): the gain aims this far under the limit so the file
#: stays under it by any meter a platform or a checker uses.
_METER_MARGIN_DB = 0.05
_PUSH_FRAMES = 65536


@dataclass(frozen=True)
class Loudness:
    """A BS.1770 measurement.

    ``integrated_lufs`` is ``None`` when no 400 ms gating block passes the -70 LUFS absolute
    gate: digital silence, near-silence, or less than 0.4 s of audio (``None`` rather than
    -inf or FFmpeg's -70, so that no caller computes a +86 dB gain from it by accident).
    ``true_peak_dbtp`` is -inf for digital silence. ``lra_lu`` is the loudness range
    (0 below about 3 s, where there are no short-term values to spread).
    """

    integrated_lufs: float | None
    true_peak_dbtp: float
    lra_lu: float
    duration_s: float

    @property
    def plr_db(self) -> float | None:
        """Peak-to-loudness ratio: how far the true peak sits above the integrated loudness.

        The loudest a segment can be made by gain alone is ``limit - plr_db``.
        """
        if self.integrated_lufs is None or math.isinf(self.true_peak_dbtp):
            return None
        return self.true_peak_dbtp - self.integrated_lufs

    def as_dict(self) -> dict[str, float | None]:
        """JSON-safe (no infinities): for job reports and the API."""
        return {
            "integrated_lufs": _round(self.integrated_lufs),
            "true_peak_dbtp": _round(self.true_peak_dbtp),
            "lra_lu": _round(self.lra_lu),
            "duration_s": round(self.duration_s, 3),
        }

    def summary(self) -> str:
        """One line for a log or the CLI, e.g. ``-16.0 LUFS, true peak -1.2 dBTP, LRA 4.1 LU``."""
        i = "silent" if self.integrated_lufs is None else f"{self.integrated_lufs:.1f} LUFS"
        tp = ("-inf" if math.isinf(self.true_peak_dbtp) else f"{self.true_peak_dbtp:.1f}")
        return f"{i}, true peak {tp} dBTP, LRA {self.lra_lu:.1f} LU"


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 2)


def _as_mono(block: np.ndarray) -> np.ndarray:
    a = np.asarray(block, dtype=np.float32)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"expected mono audio (1-D), got shape {a.shape}")
    return a


def _db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


class LoudnessMeter:
    """Streaming BS.1770 meter: :meth:`push` float32 mono blocks of any size, then
    :meth:`result`. Memory is constant whatever the length (FFmpeg keeps histograms).

    ``sample_rate`` is the rate of the blocks (8 kHz or more; FFmpeg designs the K-weighting
    filter for it). ``result()`` ends the stream; pushing after it is an error.
    """

    def __init__(self, sample_rate: int, *, dual_mono: bool = False) -> None:
        if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate < 8000:
            raise ValueError(
                f"sample_rate must be an integer of at least 8000, got {sample_rate!r}")
        import av  # here, not at import: most of the studio never needs FFmpeg
        import soxr
        from av.filter import Graph

        self._av = av
        self.sample_rate = int(sample_rate)
        self._step = self.sample_rate // 10  # FFmpeg's 100 ms step, in samples
        self._time_base = Fraction(1, self.sample_rate)
        graph = Graph()
        self._src = graph.add_abuffer(format="flt", sample_rate=self.sample_rate, layout="mono",
                                      time_base=self._time_base)
        meter = graph.add("ebur128", "metadata=1:framelog=quiet"
                          + (":dualmono=true" if dual_mono else ""))
        self._sink = graph.add("abuffersink")
        self._src.link_to(meter)
        meter.link_to(self._sink)
        graph.configure()
        self._graph = graph
        self._oversampler = soxr.ResampleStream(self.sample_rate, _OVERSAMPLE * self.sample_rate,
                                                1, dtype="float32")
        self.frames = 0  # real samples pushed
        self._pts = 0  # samples pushed, padding included
        self._pulled = 0  # samples that came out of the filter
        self._integrated = _ABSOLUTE_GATE
        self._lra = 0.0
        self._peak = 0.0  # linear, max of the oversampled and the sample peak
        self._result: Loudness | None = None

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    def push(self, block: np.ndarray) -> None:
        """Measure the next block (float32 mono, any length; NaN counts as silence)."""
        if self._result is not None:
            raise ValueError("the meter is finished; make a new one")
        a = np.nan_to_num(_as_mono(block), nan=0.0, posinf=1.0, neginf=-1.0)
        for i in range(0, len(a), _PUSH_FRAMES):
            chunk = a[i:i + _PUSH_FRAMES]
            self.frames += len(chunk)  # before the push: _drain compares against it
            self._push(chunk)
            self._peak_of(chunk)
            self._peak_of(self._oversampler.resample_chunk(chunk))

    def _peak_of(self, a: np.ndarray) -> None:
        if len(a):
            self._peak = max(self._peak, float(np.max(np.abs(a))))

    def _push(self, a: np.ndarray) -> None:
        frame = self._av.AudioFrame.from_ndarray(np.ascontiguousarray(a)[None, :],
                                                 format="flt", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.time_base = self._time_base
        frame.pts = self._pts
        self._pts += len(a)
        self._src.push(frame)
        self._drain()

    def _drain(self) -> None:
        av = self._av
        while True:
            try:
                frame = self._sink.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            self._pulled += frame.samples
            meta = frame.metadata
            if "lavfi.r128.I" not in meta:
                continue  # only frames ending a 100 ms step carry the totals
            if self._pulled <= self.frames:
                # Totals as of the last whole step of real audio, not of the padding.
                self._integrated = float(meta["lavfi.r128.I"])
                self._lra = float(meta.get("lavfi.r128.LRA", 0.0))

    def result(self) -> Loudness:
        """Finish the stream and return its loudness (the same object on later calls)."""
        if self._result is not None:
            return self._result
        # Complete the last 100 ms step, plus one more, so the filter has let every real
        # sample through; totals were taken before the padding.
        pad = (-self.frames) % self._step + self._step
        self._push(np.zeros(pad, dtype=np.float32))  # not counted in self.frames
        self._src.push(None)
        self._drain()
        self._peak_of(self._oversampler.resample_chunk(np.zeros(0, np.float32), last=True))
        real = self.frames
        integrated = (None if self._integrated <= _ABSOLUTE_GATE + 1e-9
                      or real < 4 * self._step else self._integrated)
        self._result = Loudness(integrated_lufs=integrated, true_peak_dbtp=_db(self._peak),
                                lra_lu=self._lra if integrated is not None else 0.0,
                                duration_s=real / self.sample_rate)
        self._graph = self._src = self._sink = self._oversampler = None  # free their state now
        return self._result


def measure(audio: np.ndarray, rate: int, *, dual_mono: bool = False) -> Loudness:
    """The loudness of one segment held in memory.

    For 0.4 s and longer this is exactly :class:`LoudnessMeter`'s BS.1770 result. A segment
    of ``SHORT_MIN_S`` (0.1 s) to 0.4 s — "Yes.", "Oh!" — fills no gating block, so BS.1770
    gives it no integrated loudness; here it is measured looped to 2 s, which gives its own
    average K-weighted power (the silence around it, which would dilute a padded block, does
    not count). Its true peak is still that of the audio as given. Shorter than 0.1 s, or
    silent: ``integrated_lufs`` is None and :func:`segment_gain_db` leaves it alone.
    """
    a = _as_mono(audio)
    meter = LoudnessMeter(rate, dual_mono=dual_mono)
    meter.push(a)
    result = meter.result()
    if (result.integrated_lufs is None and len(a) < GATE_S * rate
            and len(a) >= SHORT_MIN_S * rate and result.true_peak_dbtp > -math.inf):
        looped = LoudnessMeter(rate, dual_mono=dual_mono)
        looped.push(np.tile(a, math.ceil(_LOOP_TO_S * rate / len(a))))
        estimate = looped.result().integrated_lufs
        if estimate is not None:
            result = Loudness(estimate, result.true_peak_dbtp, 0.0, result.duration_s)
    return result


def parse_target(value: str | float | None) -> float | None:
    """A loudness target from the user: LUFS, or None for "do not normalise".

    ``None`` (not given) is :data:`DEFAULT_TARGET_LUFS`. Accepted: a preset name
    (``podcast`` -16, ``youtube`` -14, ``broadcast`` -23; also ``default``, ``apple``,
    ``spotify``, ``ebu``, ``r128``), a number between -40 and -5 (``-16``, ``"-16"``,
    ``"-16 LUFS"``, ``"−16"`` with a typographic minus), or ``off``/``none``. Anything else
    raises :class:`InputError` with a one-line message.
    """
    if value is None:
        return DEFAULT_TARGET_LUFS
    if isinstance(value, bool):
        raise InputError(_target_error(value))
    if isinstance(value, str):
        text = value.strip().lower().replace("\u2212", "-")
        if text in _OFF:
            return None
        name = _ALIASES.get(text, text)
        if name in PRESETS:
            return PRESETS[name]
        for unit in ("lufs", "lkfs", "db"):
            if text.endswith(unit):
                text = text[: -len(unit)].strip()
                break
        try:
            number = float(text)
        except ValueError:
            raise InputError(_target_error(value)) from None
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        raise InputError(_target_error(value))
    if not (TARGET_RANGE[0] <= number <= TARGET_RANGE[1]):  # also rejects NaN
        hint = (f" (targets are negative: did you mean {-number:g}?)"
                if TARGET_RANGE[0] <= -number <= TARGET_RANGE[1] else "")
        raise InputError(_target_error(value) + hint)
    return number


def _target_error(value: Any) -> str:
    presets = ", ".join(f"{name} {level:g}" for name, level in PRESETS.items())
    return (f"loudness target {value!r} is not usable: give LUFS between "
            f"{TARGET_RANGE[0]:g} and {TARGET_RANGE[1]:g}, a preset ({presets}) or 'off'")


def segment_gain_db(loudness: Loudness, target_lufs: float,
                    true_peak_limit_dbtp: float = TRUE_PEAK_LIMIT_DBTP, *,
                    max_boost_db: float = MAX_BOOST_DB) -> float:
    """The gain, in dB, that brings a segment to ``target_lufs`` without its true peak
    passing ``true_peak_limit_dbtp``.

    Gain only: when the peak would pass the limit, the gain is cut to the peak's headroom
    and the segment ends up under the target by that much (no compression or limiting, so
    the speech keeps its dynamics; see the module notes on PLR). A segment louder than the
    target, or peaking over the limit, gets a negative gain. The gain aims
    ``_METER_MARGIN_DB`` under the limit, so the result does not pass it by another meter's
    reading either.

    A segment without integrated loudness (silent, or under 0.1 s: see :func:`measure`) gets
    0 dB: there is no speech level to match, and raising a noise floor would be worse. No
    segment is raised by more than ``max_boost_db``.
    """
    if loudness.integrated_lufs is None:
        return 0.0
    gain = min(target_lufs - loudness.integrated_lufs, max_boost_db)
    if loudness.true_peak_dbtp > -math.inf:
        gain = min(gain, true_peak_limit_dbtp - _METER_MARGIN_DB - loudness.true_peak_dbtp)
    return gain


def apply_gain(audio: np.ndarray, gain_db: float) -> np.ndarray:
    """``audio`` times ``gain_db`` as a new float32 array; the input is not changed.

    Samples are clipped to [-1, 1] only if the gain pushed some past full scale, a last
    resort that :func:`segment_gain_db`'s peak limit normally makes unnecessary.
    """
    if not math.isfinite(gain_db):
        raise ValueError(f"gain must be a finite number of dB, got {gain_db!r}")
    a = _as_mono(audio)
    out = a * np.float32(10.0 ** (gain_db / 20.0)) if gain_db else a.copy()
    if len(out) and float(np.max(np.abs(out))) > 1.0:
        np.clip(out, -1.0, 1.0, out=out)
    return out


def level_segment(audio: np.ndarray, rate: int, target_lufs: float,
                  true_peak_limit_dbtp: float = TRUE_PEAK_LIMIT_DBTP,
                  ) -> tuple[np.ndarray, float, Loudness]:
    """:func:`measure`, :func:`segment_gain_db` and :func:`apply_gain` in one call.

    Returns the levelled audio, the gain applied (dB) and the loudness measured before it.
    """
    loudness = measure(audio, rate)
    gain = segment_gain_db(loudness, target_lufs, true_peak_limit_dbtp)
    return apply_gain(audio, gain), gain, loudness
