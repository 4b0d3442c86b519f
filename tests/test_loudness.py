"""Loudness (BS.1770 via FFmpeg's ebur128) and silence trimming, on real engine speech.

Our meter is checked against independent references: pyloudnorm for integrated loudness,
and a 4x-oversampled peak (soxr) for true peak.
"""

from __future__ import annotations

import math

import numpy as np
import psutil
import pyloudnorm
import pytest
import soxr

from conftest import DETERMINISTIC
from indextts_yt.audio.loudness import (
    DEFAULT_TARGET_LUFS,
    MAX_BOOST_DB,
    _METER_MARGIN_DB,
    PRESETS,
    Loudness,
    LoudnessMeter,
    apply_gain,
    level_segment,
    measure,
    parse_target,
    segment_gain_db,
)
from indextts_yt.audio.timeline import Timeline
from indextts_yt.audio.trim import trim_silence, trimmed_bounds
from indextts_yt.errors import InputError

SENTENCES = [
    "The studio reads long scripts.",
    "It splits them into segments and renders each one.",
    "Every finished segment is kept on disk, so a killed run picks up where it stopped.",
    "Oh, really? I had no idea that was the case!",
    "Christopher Robin was sitting in the sun, humming quietly to himself.",
]


def render(engine_name: str, voice: str, text: str) -> tuple[np.ndarray, int]:
    from indextts_yt.engines import registry

    engine = registry.get_engine(engine_name)
    settings = DETERMINISTIC if engine_name == "piper" else {}  # levels not drawn at random
    audio = np.concatenate(list(engine.synthesize(text, engine.prepare_voice(voice), settings)))
    return audio.astype(np.float32), engine.sample_rate


@pytest.fixture(scope="module")
def speech() -> dict[str, tuple[list[np.ndarray], int]]:
    """Each engine's rendering of SENTENCES: {"piper": ([audio, ...], rate), "espeak": ...}."""
    out = {}
    for name, voice in (("piper", "joe"), ("espeak", "en-us")):
        rendered = [render(name, voice, s) for s in SENTENCES]
        out[name] = ([a for a, _ in rendered], rendered[0][1])
    return out


def long_take(speech, name: str) -> tuple[np.ndarray, int]:
    """All the engine's sentences with short gaps: a ~15 s piece of narration."""
    segments, rate = speech[name]
    gap = np.zeros(round(0.3 * rate), dtype=np.float32)
    return np.concatenate([x for a in segments for x in (a, gap)]), rate


def reference_lufs(audio: np.ndarray, rate: int) -> float:
    return pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))


def reference_true_peak_db(audio: np.ndarray, rate: int) -> float:
    x = audio.astype(np.float64)
    # Zeros either side so the resampler's edges see the signal's own ends.
    pad = np.zeros(256)
    up = soxr.resample(np.concatenate((pad, x, pad)), rate, 4 * rate, quality="VHQ")
    return 20 * math.log10(max(float(np.abs(up).max()), float(np.abs(x).max())))


def db_gain(audio: np.ndarray, db: float) -> np.ndarray:
    return (audio * 10 ** (db / 20)).astype(np.float32)


# --- the meter against independent references ----------------------------------------------


@pytest.mark.parametrize("engine", ["piper", "espeak"])
@pytest.mark.parametrize("rate", [None, 16000, 44100, 48000])
@pytest.mark.parametrize("level_db", [0.0, -12.0])
def test_integrated_and_true_peak_match_independent_meters(speech, engine, rate, level_db):
    audio, native = long_take(speech, engine)
    if rate is not None:
        audio = soxr.resample(audio, native, rate, quality="VHQ").astype(np.float32)
    rate = rate or native
    audio = db_gain(audio, level_db)
    ours = measure(audio, rate)
    assert ours.integrated_lufs == pytest.approx(reference_lufs(audio, rate), abs=0.5)
    assert ours.true_peak_dbtp == pytest.approx(reference_true_peak_db(audio, rate), abs=0.5)
    assert ours.duration_s == pytest.approx(len(audio) / rate)
    assert 0 < ours.lra_lu < 20


def test_true_peak_sees_intersample_peaks():
    # A quarter-rate sine at 45 degrees: every sample is at 0.707 of the wave's real peak.
    rate = 22050
    t = np.arange(rate * 2)
    fade = np.ones(len(t))
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(2205) / 2205)
    fade[:2205], fade[-2205:] = ramp, ramp[::-1]  # no step at the ends: it would ring
    audio = (0.9 * np.sin(np.pi / 2 * t + np.pi / 4) * fade).astype(np.float32)
    sample_peak = 20 * math.log10(float(np.abs(audio).max()))
    result = measure(audio, rate)
    assert sample_peak == pytest.approx(20 * math.log10(0.9) - 3.01, abs=0.05)
    assert result.true_peak_dbtp == pytest.approx(20 * math.log10(0.9), abs=0.3)
    assert result.true_peak_dbtp == pytest.approx(reference_true_peak_db(audio, rate), abs=0.5)


def test_streaming_in_any_blocks_equals_one_shot(speech):
    audio, rate = long_take(speech, "piper")
    one_shot = measure(audio, rate)
    meter = LoudnessMeter(rate)
    rng = np.random.default_rng(7)
    i = 0
    while i < len(audio):
        n = int(rng.choice([1, 17, 2205, 4096, 70000]))
        meter.push(audio[i:i + n])
        i += n
    meter.push(np.zeros(0, dtype=np.float32))
    streamed = meter.result()
    assert streamed == one_shot
    assert meter.result() is streamed  # idempotent
    with pytest.raises(ValueError):
        meter.push(audio[:10])


def test_the_last_samples_count_for_the_peak():
    # The last sample, after FFmpeg's last whole 100 ms step and in the oversampler's
    # delay line: the meter must flush both.
    rate = 22050
    for n in (rate, rate + 7):
        audio = np.zeros(n, dtype=np.float32)
        audio[-1] = 0.5
        assert measure(audio, rate).true_peak_dbtp == pytest.approx(-6.02, abs=0.1)


def test_constant_memory_over_a_long_narration(speech):
    segment, rate = long_take(speech, "piper")
    block = np.resize(segment, rate * 10)  # 10 s blocks of speech
    meter = LoudnessMeter(rate)
    process = psutil.Process()
    for _ in range(12):  # 2 minutes: FFmpeg's and numpy's pools are warm
        meter.push(block)
    before = process.memory_info().rss
    for _ in range(12 * 9):  # to 20 minutes
        meter.push(block)
    grown = process.memory_info().rss - before
    result = meter.result()
    assert result.duration_s == pytest.approx(20 * 60)
    assert result.integrated_lufs == pytest.approx(measure(block, rate).integrated_lufs, abs=0.2)
    # 18 minutes of float32 audio would be 95 MB; the meter keeps none of it.
    print(f"memory grew by {grown / 2**20:.1f} MiB")
    assert grown < 8 * 2**20, f"memory grew by {grown / 2**20:.1f} MiB"


def test_silence_and_too_short_audio():
    rate = 22050
    silent = measure(np.zeros(rate * 3, dtype=np.float32), rate)
    assert silent.integrated_lufs is None and silent.true_peak_dbtp == -math.inf
    assert silent.summary() == "silent, true peak -inf dBTP, LRA 0.0 LU"
    assert silent.as_dict()["true_peak_dbtp"] is None
    empty = LoudnessMeter(rate).result()
    assert empty == Loudness(None, -math.inf, 0.0, 0.0)
    # Under the -70 LUFS absolute gate counts as silence too.
    hiss = np.random.default_rng(0).normal(0, 10 ** (-85 / 20), rate * 3).astype(np.float32)
    assert measure(hiss, rate).integrated_lufs is None


def test_short_segments_are_measured_by_their_own_power(speech):
    segments, rate = speech["piper"]
    word = trim_silence(segments[0], rate)[: round(0.3 * rate)]  # 0.3 s of speech
    # The streaming meter is strict BS.1770: no 400 ms block, no integrated loudness.
    meter = LoudnessMeter(rate)
    meter.push(word)
    strict = meter.result()
    assert strict.integrated_lufs is None and strict.true_peak_dbtp > -20
    short = measure(word, rate)
    assert short.true_peak_dbtp == strict.true_peak_dbtp
    # The looped measure is the word's own K-weighted power: as pyloudnorm sees it looped.
    looped = np.tile(word, 10)
    assert short.integrated_lufs == pytest.approx(reference_lufs(looped, rate), abs=0.5)
    # ... and it follows the level, so a quiet short word is evened out like the rest.
    assert measure(db_gain(word, -10), rate).integrated_lufs == pytest.approx(
        short.integrated_lufs - 10, abs=0.1)
    # Under 0.1 s is not a word: left alone.
    blip = measure(word[: round(0.05 * rate)], rate)
    assert blip.integrated_lufs is None
    assert segment_gain_db(blip, -16.0) == 0.0


def test_dual_mono_reads_3_db_louder(speech):
    audio, rate = long_take(speech, "espeak")
    mono = measure(audio, rate).integrated_lufs
    dual = measure(audio, rate, dual_mono=True).integrated_lufs
    assert dual == pytest.approx(mono + 3.01, abs=0.05)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        LoudnessMeter(0)
    with pytest.raises(ValueError):
        LoudnessMeter(4000)
    with pytest.raises(ValueError):
        measure(np.zeros((100, 2), dtype=np.float32), 22050)


# --- targets ---------------------------------------------------------------------------------


def test_presets_and_targets():
    assert PRESETS == {"podcast": -16.0, "youtube": -14.0, "broadcast": -23.0}
    assert parse_target(None) == DEFAULT_TARGET_LUFS == -16.0
    for name, level in PRESETS.items():
        assert parse_target(name) == level
        assert parse_target(name.upper()) == level
    assert parse_target("ebu") == parse_target("r128") == -23.0
    assert parse_target("spotify") == -14.0
    assert parse_target(-18) == -18.0
    assert parse_target(" -19.5 ") == -19.5
    assert parse_target("-16 LUFS") == parse_target("-16lufs") == -16.0
    assert parse_target("\u221214") == -14.0  # typographic minus
    assert parse_target("-40") == -40.0 and parse_target("-5") == -5.0
    for off in ("off", "OFF", "none"):
        assert parse_target(off) is None


@pytest.mark.parametrize("bad", ["loud", "", "-4", "-41", "16", "nan", "inf", "-16 dBFS x",
                                 0, 3.0, -100, float("nan"), True, [-16]])
def test_nonsense_targets_are_rejected_in_one_line(bad):
    with pytest.raises(InputError) as info:
        parse_target(bad)
    message = str(info.value)
    assert "\n" not in message and "LUFS" in message and "podcast -16" in message


def test_a_positive_target_gets_a_hint():
    with pytest.raises(InputError, match="did you mean -16"):
        parse_target("16")


# --- evening segments out -----------------------------------------------------------------


def test_segment_gain_rules():
    plain = Loudness(-24.0, -10.0, 3.0, 2.0)
    assert segment_gain_db(plain, -16.0) == pytest.approx(8.0)
    assert segment_gain_db(plain, -30.0) == pytest.approx(-6.0)
    # Capped by the true peak: +12 dB would put a -10 dBTP peak at +2 dBTP; 9 dB is the most,
    # less a margin for other meters (0.05 dB).
    assert segment_gain_db(plain, -12.0) == pytest.approx(8.95)
    # A segment peaking over the limit is brought down even if it is under the target.
    hot = Loudness(-20.0, 0.5, 3.0, 2.0)
    assert segment_gain_db(hot, -16.0) == pytest.approx(-1.55, abs=0.01)
    assert segment_gain_db(hot, -16.0, true_peak_limit_dbtp=-2.0) == pytest.approx(-2.55, abs=0.01)
    # Silence and unmeasurable segments are left alone; boosts are bounded.
    assert segment_gain_db(Loudness(None, -60.0, 0.0, 1.0), -16.0) == 0.0
    assert segment_gain_db(Loudness(None, -math.inf, 0.0, 1.0), -16.0) == 0.0
    faint = Loudness(-60.0, -55.0, 0.0, 2.0)
    assert segment_gain_db(faint, -16.0) == MAX_BOOST_DB


def test_apply_gain():
    audio = np.array([0.1, -0.2, 0.5], dtype=np.float32)
    kept = audio.copy()
    out = apply_gain(audio, 6.0206)
    assert out.dtype == np.float32 and np.allclose(out, [0.2, -0.4, 1.0], atol=1e-4)
    assert np.array_equal(audio, kept)  # the input is not changed
    assert apply_gain(audio, 0.0) is not audio
    loud = apply_gain(audio, 12.0)  # past full scale: clipped, a last resort
    assert float(np.abs(loud).max()) == 1.0 and loud[0] == pytest.approx(0.398, abs=1e-3)
    with pytest.raises(ValueError):
        apply_gain(audio, float("inf"))


LEVELS_DB = [0.0, -10.0, 6.0, -4.0, 2.0]  # how far each sentence is off its engine's level


def _capped_floor(before_db: float, after_db: float) -> float:
    """The lowest true peak a segment capped by its peak may end at: the limit, less the
    margin the gain keeps on purpose, less one step of FFmpeg's peak reading ("%.3f", linear)
    before and after the gain. A step is 0.001 of full scale, so it is a larger part of a
    quiet segment's peak (0.04 dB at -14 dBTP): where a sample lands within a step is not
    something the test can hold still, so the floor says how precise the meter is."""
    def step_db(peak_db: float) -> float:
        peak = 10 ** (peak_db / 20)
        return 20 * math.log10((peak + 0.001) / peak)

    return -1.0 - _METER_MARGIN_DB - step_db(before_db) - step_db(after_db)


@pytest.mark.parametrize("target", sorted(PRESETS.values()))
def test_segments_are_evened_to_the_target(speech, target):
    capped = []
    for engine in ("piper", "espeak"):
        segments, rate = speech[engine]
        for audio, level in zip(segments, LEVELS_DB):
            audio = db_gain(trim_silence(audio, rate), level)
            out, gain, before = level_segment(audio, rate, target)
            after = measure(out, rate)
            peak_4x = reference_true_peak_db(out, rate)
            assert after.true_peak_dbtp <= -1.0 and peak_4x <= -1.0
            wanted = target - before.integrated_lufs
            if gain < wanted - 1e-6:  # capped by its peak: right at the limit, under the target
                capped.append(round(before.plr_db, 1))
                floor = _capped_floor(before.true_peak_dbtp, after.true_peak_dbtp)
                assert after.true_peak_dbtp > floor, (engine, level, before, after)
                assert after.integrated_lufs < target
            else:
                assert gain == pytest.approx(wanted)
                assert after.integrated_lufs == pytest.approx(target, abs=1.0)
                assert reference_lufs(out, rate) == pytest.approx(target, abs=1.0)
    # TTS speech peaks 16-22 dB over its loudness (PLR): at -1 dBTP that leaves room for
    # broadcast level, rarely for -16 and never for -14 by gain alone (see loudness.py).
    if target == -23.0:
        assert len(capped) <= 2, capped
    if target == -14.0:
        assert len(capped) == 10, capped


def test_an_evened_narration_measures_at_the_target(speech):
    """Trim, level, lay out with pauses and fades (the real Timeline), measure the whole."""
    target = -23.0
    timeline = Timeline(22050)
    meter = LoudnessMeter(22050)
    for engine in ("piper", "espeak"):
        segments, rate = speech[engine]
        assert rate == 22050
        for audio, level in zip(segments, LEVELS_DB):
            levelled, _, _ = level_segment(trim_silence(db_gain(audio, level), rate), rate, target)
            for block in timeline.segment([levelled], "sentence"):
                meter.push(block)
    result = meter.result()
    assert result.integrated_lufs == pytest.approx(target, abs=0.5)
    assert result.true_peak_dbtp <= -1.0
    assert result.duration_s == pytest.approx(timeline.frames / 22050)
    assert result.summary().startswith(f"{result.integrated_lufs:.1f} LUFS, true peak ")


# --- trimming -------------------------------------------------------------------------------


def speech_bounds(audio: np.ndarray, below_peak_db: float = 50.0) -> tuple[int, int]:
    """Independent reference: first and last sample within ``below_peak_db`` of the peak."""
    loud = np.flatnonzero(np.abs(audio) >= np.abs(audio).max() * 10 ** (-below_peak_db / 20))
    return int(loud[0]), int(loud[-1]) + 1


def with_noisy_silence(audio: np.ndarray, rate: int, seconds: float = 0.5,
                       noise_dbfs: float = -70.0, seed: int = 0) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    pad = round(seconds * rate)
    out = np.concatenate((np.zeros(pad), audio, np.zeros(pad)))
    out += rng.normal(0, 10 ** (noise_dbfs / 20), len(out))
    return out.astype(np.float32), pad


@pytest.mark.parametrize("engine", ["piper", "espeak"])
@pytest.mark.parametrize(("level_db", "noise_dbfs"), [(0.0, -70.0), (0.0, -90.0), (-15.0, -85.0)])
def test_trim_real_speech_in_noisy_silence(speech, engine, level_db, noise_dbfs):
    """0.5 s of low noise before and after real speech; -15/-85: the same, rendered quieter."""
    segments, rate = speech[engine]
    margins = []
    window = round(0.01 * rate)
    keep = round(0.04 * rate)
    for clean in segments:
        clean = db_gain(clean, level_db)
        noisy, offset = with_noisy_silence(clean, rate, noise_dbfs=noise_dbfs)
        start, end = trimmed_bounds(noisy, rate)
        # The added silence is gone, but for the 40 ms kept (+ up to one 10 ms window).
        assert offset - keep - window <= start and end <= offset + len(clean) + keep + window
        # Nothing audible is cut: every sample within 50 dB of the peak is kept, ...
        ref_start, ref_end = speech_bounds(clean)
        ref_start += offset
        ref_end += offset
        assert start <= ref_start and ref_end <= end
        margins += [(ref_start - start) / rate, (end - ref_end) / rate]
        kept = trim_silence(noisy, rate)
        assert np.array_equal(kept, noisy[start:end]) and kept.dtype == np.float32
        # ... what was cut off the speech holds next to none of its energy, and the kept
        # part is as loud as the speech itself.
        speech_energy = float(np.sum(clean.astype(np.float64) ** 2))
        removed = np.concatenate((clean[: max(0, start - offset)], clean[end - offset:]))
        assert float(np.sum(removed.astype(np.float64) ** 2)) < 1e-5 * speech_energy
        rms_kept = np.sqrt(np.mean(kept.astype(np.float64) ** 2))
        rms_speech = np.sqrt(np.mean(noisy[ref_start:ref_end].astype(np.float64) ** 2))
        assert 20 * math.log10(rms_kept / rms_speech) == pytest.approx(0.0, abs=0.5)
    # Typically ~50 ms of margin around the speech (more where a breath or a faint tail
    # between -50 and -60 dB is kept: piper's renders vary).
    assert 0.03 <= float(np.median(margins)) <= 0.06, margins


def test_trim_threshold_follows_the_segment_level(speech):
    """Relative to the segment's own peak: a quiet render is trimmed like a loud one."""
    segments, rate = speech["piper"]
    for clean in segments:
        loud = trimmed_bounds(clean, rate)
        quiet = trimmed_bounds(db_gain(clean, -8.0), rate)
        window = round(0.01 * rate)
        assert abs(loud[0] - quiet[0]) <= window and abs(loud[1] - quiet[1]) <= window


def test_trim_removes_the_engines_own_padding(speech):
    segments, rate = speech["espeak"]
    trimmed = [len(a) - len(trim_silence(a, rate)) for a in segments]
    assert min(trimmed) > round(0.1 * rate)  # espeak ends each sentence with ~0.3 s of zeros


def test_trim_all_silent_and_edge_cases():
    rate = 22050
    for silent in (np.zeros(rate, dtype=np.float32),
                   np.random.default_rng(1).normal(0, 10 ** (-85 / 20), rate).astype(np.float32),
                   np.zeros(0, dtype=np.float32)):
        assert trimmed_bounds(silent, rate) == (0, 0)
        out = trim_silence(silent, rate)
        assert out.dtype == np.float32 and len(out) == round(0.08 * rate) and not out.any()
    # A lone click in silence is sound: kept, with its margins, never empty.
    click = np.zeros(rate, dtype=np.float32)
    click[rate // 2] = 0.5
    start, end = trimmed_bounds(click, rate)
    assert start < rate // 2 < end and end - start <= round(0.1 * rate)
    # Sound to the very edges: nothing to trim.
    tone = (0.3 * np.sin(np.arange(rate) * 0.1)).astype(np.float32)
    assert trimmed_bounds(tone, rate) == (0, rate)
    assert len(trim_silence(tone[:3], rate)) == 3
    with pytest.raises(ValueError):
        trimmed_bounds(tone, rate, threshold_db=10.0)
    with pytest.raises(ValueError):
        trimmed_bounds(tone, rate, keep_ms=-1.0)
