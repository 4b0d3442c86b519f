"""Long-form failure guards of the IndexTTS engines, on IndexTTS-2.5 (the real ``indextts25``
library on a tiny random checkpoint of its real architecture, tests/fixtures):

- a piece that ran to ``max_mel_tokens`` without a stop token (a runaway) is reported in the
  segment's progress event, stored on the segment, shown by the API, the CLI and the report;
- every piece of speech ends in a fade to exactly 0 (no click);
- a waveform past full scale is scaled, not clipped, and reported.

Faults are injected around the real code, never in place of it: the tiny GPT always emits
16 codes then its stop token, so ``max_mel_tokens`` below 16 makes it run away to the limit;
a forward hook on the real vocoder's last layer makes its waveform 3x full scale. The
IndexTTS2 counterparts are in tests/v2/test_indextts2_guards.py.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from indextts_yt.clips import ClipStore
from indextts_yt.cli.progress import log_line
from indextts_yt.db import DB_NAME
from indextts_yt.engines import registry
from indextts_yt.engines.base import settings_for, synthesis_warnings
from indextts_yt.engines.indextts_common import END_FADE_MS, LoadOptions
from indextts_yt.paths import ENV_CACHE_DIR
from indextts_yt.jobs import service
from indextts_yt.jobs import store as st
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CheckSettings, JobSettings

from fixtures.tiny_indextts import STOP_AFTER_CODES, build_indextts25
from indextts_util import (
    FAST, check_runaway_is_reported, check_scaled_not_clipped, piper_clip, runaway_warning,
    synthesize_all, vocoder_past_full_scale,
)
from server_util import serve

ENGINE = "indextts2.5"
#: The tiny GPT ends after 16 codes: with room for 20 it ends on its own.
CLEAN = {**FAST, "max_mel_tokens": STOP_AFTER_CODES + 4}
RUNAWAY = {**FAST, "max_mel_tokens": STOP_AFTER_CODES - 1}
TWO_PIECES = "Hello there, my friend. This is the second sentence, and it keeps going."
SCRIPT = "First paragraph.\n\nSecond paragraph, a little longer."

#: The tiny random GPT says nothing a recogniser could hear; these tests are about the
#: engine's warnings, so proofreading (which would retake every segment) is off.
UNCHECKED = CheckSettings(mode="off")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    model_dir = build_indextts25(tmp_path_factory.mktemp("tiny25"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_CACHE_DIR, str(tmp_path_factory.mktemp("cache")))
        registry.configure_engine(ENGINE, LoadOptions(checkpoints=model_dir, device="cpu"))
        yield registry.get_engine(ENGINE)
        registry.configure_engine(ENGINE, LoadOptions())  # back to unconfigured


@pytest.fixture(scope="module")
def voice_clip(tmp_path_factory):
    return piper_clip(tmp_path_factory.mktemp("clips") / "voice.wav", 3.0)


@pytest.fixture(scope="module")
def voice(engine, voice_clip):
    return engine.prepare_voice(str(voice_clip))


def render(engine, voice, given, text=TWO_PIECES):
    settings = settings_for(engine, {**given, "max_text_tokens_per_segment": 20})
    return synthesize_all(engine.synthesize(text, voice, settings, "en"))


class LibraryChunks:
    """Keeps a copy of every chunk the library's ``stream()`` yields (before our fade)."""

    def __init__(self, engine):
        self.api = engine._loaded().api
        self.real = self.api.stream
        self.chunks: list[np.ndarray] = []

    def __enter__(self):
        def stream(*args, **kwargs):
            for chunk in self.real(*args, **kwargs):
                self.chunks.append(np.array(chunk.audio, dtype=np.float32))
                yield chunk

        self.api.stream = stream
        return self

    def __exit__(self, *exc):
        self.api.stream = self.real


# -- engine level ------------------------------------------------------------------------------

def test_a_runaway_is_reported_and_agrees_with_the_library(engine, voice):
    check_runaway_is_reported(lambda given: render(engine, voice, given), RUNAWAY, CLEAN,
                              STOP_AFTER_CODES - 1)


def test_every_piece_of_speech_ends_in_a_fade_to_zero(engine, voice):
    with LibraryChunks(engine) as library:
        chunks, found = render(engine, voice, CLEAN)
    assert found == ()
    assert len(chunks) == len(library.chunks) >= 3  # speech, silence, speech
    n = round(END_FADE_MS / 1000 * engine.sample_rate)
    ramp = (0.5 + 0.5 * np.cos(np.pi * (np.arange(n) + 1) / n)).astype(np.float32)
    for ours, raw in zip(chunks, library.chunks):
        assert ours.dtype == np.float32 and len(ours) == len(raw)  # nothing added or held
        if not raw.any():
            assert np.array_equal(ours, raw)  # silences pass unchanged
            continue
        assert np.array_equal(ours[:-n], raw[:-n])  # only the end is touched
        assert ours[-1] == 0.0 and raw[-1] != 0.0
        np.testing.assert_allclose(ours[-n:], raw[-n:] * ramp, atol=1e-7)
        # the last 5 ms fall away to nothing, however loud the library ended
        last5 = round(0.005 * engine.sample_rate)
        gains = np.abs(ours[-last5:]) / np.maximum(np.abs(raw[-last5:]), 1e-12)
        assert gains.max() < 0.8 and gains[-last5 // 4:].max() < 0.1


def test_a_waveform_past_full_scale_is_scaled_not_clipped(engine, voice):
    with vocoder_past_full_scale(engine, 3.0) as loud:
        chunks, found = render(engine, voice, CLEAN)
    check_scaled_not_clipped(chunks, found, loud, engine.sample_rate, atol=2e-4)

    # Without the fault nothing is scaled: the guard is a no-op on normal speech.
    chunks, found = render(engine, voice, CLEAN)
    assert found == () and all(np.abs(c).max() <= 1.0 for c in chunks)


# -- a job: the event, the segment, the report, the CLI line, the API -------------------------

@pytest.fixture(scope="module")
def runaway_job(engine, voice_clip, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    store = Store(data)
    clip = ClipStore(data).add_file(voice_clip)
    job, _ = service.create_job(store, service.JobRequest(
        text=SCRIPT, settings=JobSettings(engine=ENGINE, voice=clip.id, options=RUNAWAY, checks=UNCHECKED)))
    events = list(run_job(store, job.id))
    assert events[-1].kind == "finished", events[-1]
    return data, store, job.id, events


def _runaway(k: int, of: int) -> str:
    return runaway_warning(k, of, STOP_AFTER_CODES - 1)


def test_a_runaway_reaches_the_event_the_segment_and_the_report(runaway_job):
    data, store, job_id, events = runaway_job
    done = [e for e in events if e.kind == "segment_done"]
    assert [e.warnings for e in done] == [[_runaway(1, 1)], [_runaway(1, 1)]]
    assert all(e.warnings is None for e in events if e.kind != "segment_done")
    assert json.loads(json.dumps(done[0].to_dict()))["warnings"] == [_runaway(1, 1)]
    assert [s.warnings for s in store.segments(job_id)] == [(_runaway(1, 1),)] * 2
    report = store.get_job(job_id).report
    assert [w for w in report["warnings"] if w.startswith("segment ")] == [
        f"segment 1: {_runaway(1, 1)}", f"segment 2: {_runaway(1, 1)}"]
    line = log_line(done[1])
    assert line.splitlines()[1:] == [f"  \u26a0 segment 2: {_runaway(1, 1)}"]


def test_the_api_shows_a_segments_warnings(runaway_job):
    data, store, job_id, _ = runaway_job
    with serve(data, start_worker=False) as server:
        segs = server.http.get(f"/api/jobs/{job_id}/segments").json()
        job = server.job(job_id)
    assert [s["warnings"] for s in segs] == [[_runaway(1, 1)]] * 2
    assert f"segment 1: {_runaway(1, 1)}" in job["report"]["warnings"]


def test_an_identical_segment_reuses_the_warnings_with_the_audio(runaway_job):
    data, store, job_id, _ = runaway_job
    first = store.get_job(job_id)
    again, _ = service.create_job(store, service.JobRequest(
        text=SCRIPT + "\n\nA third one.",
        settings=JobSettings(engine=ENGINE, voice=first.voice, options=RUNAWAY,
                            checks=UNCHECKED)))
    # Only the reuse step: the first two segments come from the first job, not the engine.
    events = run_job(store, again.id)
    assert next(events).kind == "started"
    events.close()
    segs = store.segments(again.id)
    assert [s.reused for s in segs[:2]] == [True, True]
    assert [s.warnings for s in segs[:2]] == [(_runaway(1, 1),)] * 2
    assert segs[2].warnings == ()


def test_an_edit_clears_the_warnings_and_a_clean_render_stores_none(runaway_job, engine):
    data, store, job_id, _ = runaway_job
    seg, changed = service.edit_segment(store, job_id, 1, options={"max_mel_tokens": 20})
    assert changed and store.segment(job_id, 1).warnings == ()
    events = list(run_job(store, job_id))
    done = [e for e in events if e.kind == "segment_done"]
    assert [(e.index, e.warnings) for e in done] == [(1, [])]
    assert [s.warnings for s in store.segments(job_id)] == [(_runaway(1, 1),), ()]
    assert "\u26a0" not in log_line(done[0])
    report = store.get_job(job_id).report
    assert [w for w in report.get("warnings", []) if w.startswith("segment ")] == [
        f"segment 1: {_runaway(1, 1)}"]


# -- the store -------------------------------------------------------------------------------

def test_an_old_database_gains_the_warnings_column(tmp_path):
    old_schema = "\n".join(line for line in st.SCHEMA.splitlines()
                           if not line.strip().startswith("warnings"))
    assert "warnings" not in old_schema.split("TABLE IF NOT EXISTS segments")[1]
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.executescript(old_schema)
    db.execute("INSERT INTO jobs (id, created_at, updated_at, state, title, fingerprint, engine,"
               " settings, output_path, streaming, total_chars) VALUES"
               " ('j', 0, 0, 'done', 't', 'f', 'piper', '{}', 'out.wav', 1, 5)")
    db.execute("INSERT INTO segments (job_id, idx, text, pause_after, language, engine, voice,"
               " settings, key, state) VALUES ('j', 0, 'Hello', 'end', 'en', 'piper', 'joe',"
               " '{}', 'k', 'done')")
    db.commit()
    db.close()

    store = Store(tmp_path)
    columns = {row[1] for row in store._db.execute("PRAGMA table_info(segments)")}
    assert "warnings" in columns
    assert store.segment("j", 0).warnings == ()
    assert store.mark_segment_done("j", 0, key="k", audio_path="a.wav", sample_rate=22050,
                                   audio_seconds=1.0, compute_seconds=0.1,
                                   warnings=["clipping: piece 1 of 1 ..."])
    assert store.segment("j", 0).warnings == ("clipping: piece 1 of 1 ...",)
    store.mark_segment_running("j", 0)  # rendered again: the old audio's warnings go
    assert store.segment("j", 0).warnings == ()
    store.close()
    Store(tmp_path).close()  # a second open finds the column there


def test_a_bad_return_value_is_named_as_the_engines_bug():
    assert synthesis_warnings(None) == () and synthesis_warnings(["a"]) == ("a",)
    with pytest.raises(TypeError, match="tuple of warning strings"):
        synthesis_warnings("runaway")
