"""Audio layer: segment files, streaming assembly, fades, resampling, subtitles, memory."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import srt

from indextts_yt.audio import (
    Assembler,
    Cue,
    PauseSettings,
    assemble,
    read_segment,
    srt_text,
    sweep_temp_files,
    write_segment,
    write_srt,
)
from indextts_yt.audio.subtitles import split_cues, wrap_cue_text
from indextts_yt.errors import InputError

SR = 22050
LSB = 1 / 32767  # one 16-bit step


def sine(seconds: float, sr: int = SR, freq: float = 440.0, amp: float = 0.8, phase: float = 0.0):
    t = np.arange(round(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def noise(seconds: float, sr: int = SR, amp: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (amp * rng.uniform(-1, 1, round(seconds * sr))).astype(np.float32)


def make_segment(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    write_segment(path, [audio], sr)
    return path


def read_out(path: Path) -> tuple[np.ndarray, int]:
    data, sr = sf.read(path, dtype="float32")
    return data, sr


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name)


# --- segment files -----------------------------------------------------------------------


def test_write_segment_streams_chunks_to_float_wav(tmp_path):
    audio = noise(1.3)
    chunks = [audio[:1000], audio[1000:20000], audio[20000:]]
    path = tmp_path / "seg.wav"

    duration = write_segment(path, iter(chunks), SR)

    assert duration == pytest.approx(len(audio) / SR, abs=1e-12)
    assert sf.info(str(path)).subtype == "FLOAT"  # no quantisation before loudness work
    data, sr = read_segment(path)
    assert sr == SR and data.dtype == np.float32
    np.testing.assert_array_equal(data, audio)  # bit-exact, float storage
    assert leftovers(tmp_path) == []


def test_write_segment_failure_leaves_no_file_and_keeps_old(tmp_path):
    path = tmp_path / "seg.wav"

    def failing():
        yield sine(0.2)
        raise RuntimeError("engine died")

    with pytest.raises(RuntimeError, match="engine died"):
        write_segment(path, failing(), SR)
    assert not path.exists()
    assert leftovers(tmp_path) == []

    # An earlier complete version survives a failed rewrite untouched.
    old = noise(0.5)
    write_segment(path, [old], SR)
    with pytest.raises(RuntimeError):
        write_segment(path, failing(), SR)
    np.testing.assert_array_equal(read_segment(path)[0], old)
    assert leftovers(tmp_path) == []


def test_write_segment_rejects_non_mono_chunk(tmp_path):
    path = tmp_path / "seg.wav"
    with pytest.raises(ValueError, match="mono"):
        write_segment(path, [np.zeros((100, 2), dtype=np.float32)], SR)
    assert not path.exists() and leftovers(tmp_path) == []


def test_sweep_temp_files_removes_only_dead_writers_leftovers(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: this pid now belongs to no live process
    dead = proc.pid
    nested = tmp_path / "jobs" / "j1"
    nested.mkdir(parents=True)
    orphans = [tmp_path / f"a.wav.tmp-{dead}", nested / f"0003.wav.tmp-{dead}"]
    live = tmp_path / f"b.wav.tmp-{os.getpid()}"  # our own: in flight
    keep = [tmp_path / "c.wav", tmp_path / "notes.tmp-old", live]
    for p in orphans + keep:
        p.write_bytes(b"x")

    assert sweep_temp_files(tmp_path) == 2
    assert not any(p.exists() for p in orphans)
    assert all(p.exists() for p in keep)
    assert sweep_temp_files(tmp_path) == 0


# --- assembly ----------------------------------------------------------------------------


def test_assembled_duration_and_cues_are_exact_to_the_sample(tmp_path):
    pauses = PauseSettings(sentence=0.35, paragraph=0.9, heading=1.2)
    audios = [sine(1.0), noise(0.77, seed=1), sine(0.5, freq=220), noise(2.01, seed=2)]
    classes = ["heading", "sentence", "paragraph", "sentence"]
    items = [
        (make_segment(tmp_path / f"s{i}.wav", a), c)
        for i, (a, c) in enumerate(zip(audios, classes))
    ]
    out = tmp_path / "out.wav"

    cues = assemble(out, items, SR, pauses)

    pause_frames = [round(pauses.seconds(c) * SR) for c in classes[:-1]]  # none after the last
    data, sr = read_out(out)
    assert sr == SR
    assert len(data) == sum(len(a) for a in audios) + sum(pause_frames)
    assert cues[-1].end_s * SR == pytest.approx(len(data))  # the output ends with audio

    pos = 0
    fade = round(pauses.fade_ms / 1000 * SR)
    for i, (cue, a) in enumerate(zip(cues, audios)):
        assert isinstance(cue, Cue) and (cue.start, cue.end) == tuple(cue)
        assert round(cue.start_s * SR) == pos and round(cue.end_s * SR) == pos + len(a)
        # The segment's audio really sits there (away from the fades).
        region = data[pos + fade : pos + len(a) - fade]
        np.testing.assert_allclose(region, a[fade:-fade], atol=1.5 * LSB)
        pos += len(a)
        if i < len(pause_frames):
            assert np.all(data[pos : pos + pause_frames[i]] == 0)  # the pause is silence
            pos += pause_frames[i]
    assert leftovers(tmp_path) == []


def _join_and_inside_jumps(data, cues, sr, window=64):
    diffs = np.abs(np.diff(data))
    join_max = inside_max = 0.0
    for cue in cues:
        a, b = round(cue.start_s * sr), round(cue.end_s * sr)
        for edge in (a, b):
            lo, hi = max(0, edge - window), min(len(diffs), edge + window)
            join_max = max(join_max, diffs[lo:hi].max())
        inside_max = max(inside_max, diffs[a + window : b - window].max())
    return join_max, inside_max


@pytest.mark.parametrize("pause", [0.0, 0.2])
def test_fades_make_joins_click_free(tmp_path, pause):
    # Full-scale sines cut at their peak: butted together raw, every join is a step of ~1.
    audios = [sine(0.5, phase=np.pi / 2, amp=0.9), sine(0.4, freq=330, phase=-np.pi / 2, amp=0.9)]
    items = [(make_segment(tmp_path / f"s{i}.wav", a), "sentence") for i, a in enumerate(audios)]
    items = items * 2

    faded = assemble(tmp_path / "faded.wav", items, SR, PauseSettings(sentence=pause))
    data, _ = read_out(tmp_path / "faded.wav")
    for cue in faded:
        a, b = round(cue.start_s * SR), round(cue.end_s * SR)
        assert abs(data[a]) <= LSB and abs(data[b - 1]) <= LSB
    join_max, inside_max = _join_and_inside_jumps(data, faded, SR)
    assert join_max <= inside_max * 1.05

    # The same measure on unfaded output does see the clicks (so the check above can fail).
    raw = assemble(tmp_path / "raw.wav", items, SR, PauseSettings(sentence=pause, fade_ms=0))
    raw_data, _ = read_out(tmp_path / "raw.wav")
    raw_join, raw_inside = _join_and_inside_jumps(raw_data, raw, SR)
    assert raw_join > 5 * raw_inside


def test_resampled_segment_keeps_duration_and_pitch(tmp_path):
    src_sr, out_sr = 24000, 22050
    seg = make_segment(tmp_path / "s.wav", sine(2.0, sr=src_sr, freq=1000.0), sr=src_sr)
    out = tmp_path / "out.wav"

    (cue,) = assemble(out, [(seg, "sentence")], out_sr, PauseSettings(fade_ms=0))

    data, sr = read_out(out)
    assert sr == out_sr
    assert abs(len(data) - round(2.0 * src_sr * out_sr / src_sr)) <= 1
    assert cue.end_s == pytest.approx(2.0, abs=1 / out_sr)
    spectrum = np.abs(np.fft.rfft(data))
    peak_hz = np.argmax(spectrum) * out_sr / len(data)
    assert peak_hz == pytest.approx(1000.0, abs=1.0)


def test_streaming_output_is_a_valid_wav_while_it_grows(tmp_path):
    first, second = noise(0.6, seed=3), sine(0.9)
    s1 = make_segment(tmp_path / "s1.wav", first)
    s2 = make_segment(tmp_path / "s2.wav", second)
    out = tmp_path / "live.wav"
    pause = round(0.9 * SR)

    with Assembler(out, SR, PauseSettings()) as asm:
        assert sf.info(str(out)).frames == 0  # valid (empty) before the first segment
        asm.add(s1, "paragraph")
        # Read by another reader mid-narration, with the writer still open.
        early, sr = read_out(out)
        assert sr == SR and len(early) == len(first)
        asm.add(s2, "heading")
        later, _ = read_out(out)
        assert len(later) == len(first) + pause + len(second)
        np.testing.assert_array_equal(later[: len(early)], early)  # only appended to
    final, _ = read_out(out)
    assert len(final) == len(later)  # the last segment's pause never reaches the file


def test_batch_assembly_is_atomic_on_failure(tmp_path):
    seg = make_segment(tmp_path / "s.wav", sine(0.3))
    out = tmp_path / "out.wav"

    def items():
        yield seg, "sentence"
        yield tmp_path / "missing.wav", "sentence"

    with pytest.raises(Exception):
        assemble(out, items(), SR)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_pause_settings_are_checked():
    with pytest.raises(InputError):
        PauseSettings(sentence=-0.1)
    with pytest.raises(InputError):
        PauseSettings(fade_ms=float("nan"))
    assert PauseSettings().seconds("heading") == 1.2


def test_memory_stays_flat_over_a_long_narration(tmp_path):
    sr, seconds, count = 16000, 5.0, 2000
    files = [make_segment(tmp_path / f"s{i}.wav", noise(seconds, sr, seed=i), sr) for i in range(20)]
    classes = itertools.cycle(["sentence", "sentence", "paragraph", "heading"])

    def items():  # ~2.8 hours of narration, never materialised as a list
        for i in range(count):
            yield files[i % len(files)], next(classes)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        cues = assemble(tmp_path / "long.wav", items(), sr)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    frames = sf.info(str(tmp_path / "long.wav")).frames
    assert len(cues) == count and frames == round(cues[-1].end_s * sr)
    assert frames > count * seconds * sr  # the audio (plus pauses) is all there
    # The audio is ~640 MB as float32; holding even one second per segment would show.
    assert peak < 4 * 2**20, f"peak Python allocation {peak / 2**20:.1f} MiB"


# --- subtitles ---------------------------------------------------------------------------


def test_srt_round_trip_count_order_and_times(tmp_path):
    cues = [
        (0.0, 1.2349, "Chapter one"),
        (2.4349, 4.0, "It was a bright cold day in April, and the clocks were striking thirteen."),
        (4.35, 6.5, "Short."),
    ]
    path = tmp_path / "out.srt"

    write_srt(path, cues)

    parsed = list(srt.parse(path.read_text(encoding="utf-8")))
    assert [s.index for s in parsed] == [1, 2, 3]
    for sub, (start, end, text) in zip(parsed, cues):
        assert abs(sub.start - timedelta(seconds=start)) <= timedelta(microseconds=500)
        assert abs(sub.end - timedelta(seconds=end)) <= timedelta(microseconds=500)
        assert " ".join(sub.content.split()) == text
    assert leftovers(tmp_path) == []
    # write_srt cuts segments into cues (and lays out their lines); srt_text formats cues.
    assert srt_text(split_cues(cues)) == path.read_text(encoding="utf-8")


def test_srt_cues_follow_real_assembly_times(tmp_path):
    items = [(make_segment(tmp_path / f"s{i}.wav", sine(0.4 + 0.3 * i)), "paragraph") for i in range(3)]
    cues = assemble(tmp_path / "out.wav", items, SR)
    texts = ["one", "two", "three"]

    parsed = list(srt.parse(srt_text([(c.start_s, c.end_s, t) for c, t in zip(cues, texts)])))

    assert [s.content for s in parsed] == texts
    for sub, cue in zip(parsed, cues):
        assert sub.start.total_seconds() == pytest.approx(cue.start_s, abs=5e-4)
        assert sub.end.total_seconds() == pytest.approx(cue.end_s, abs=5e-4)


def test_cue_text_wrapping():
    assert wrap_cue_text("  Hello\n\n world ") == "Hello world"  # no blank line in a cue
    two = "It was a bright cold day in April, and the clocks were striking."
    lines = wrap_cue_text(two).split("\n")
    assert len(lines) == 2 and all(len(line) <= 42 for line in lines)
    assert abs(len(lines[0]) - len(lines[1])) <= 10  # balanced, not full line + stub
    long = " ".join(["word"] * 40)  # too long for two lines: still one cue, more lines
    assert len(wrap_cue_text(long).split("\n")) > 2
    text = srt_text([(0, 1, long), (1, 1, "no duration"), (1, 2, "   ")])
    assert len(list(srt.parse(text))) == 1
