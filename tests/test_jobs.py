"""Job store and runner on the real piper engine and real SQLite."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
import srt

from conftest import DETERMINISTIC, SHORT_SCRIPT, as_made, pooh_paragraphs, wait_for_done_segments
from indextts_yt.audio import PauseSettings
from indextts_yt.errors import JobBusy
from indextts_yt.jobs.state import JobState, SegmentState
from indextts_yt.jobs.plan import Choice, fingerprint, plan
from indextts_yt.jobs.runner import run_job, sweep_stale
from indextts_yt.jobs.service import pause_job
from indextts_yt.jobs.store import Store
from indextts_yt.settings import JobSettings


def make_job(store: Store, text: str, out: Path, *, streaming: bool = True, srt_path=None,
             engine: str = "auto", options=None):
    segments = plan(text, Choice(engine), options or {})
    fp = fingerprint(segments, {"output": str(out)})
    return store.create_job(title="t", fingerprint=fp,
                            settings=as_made(JobSettings(engine=engine, options=options or {})),
                            output_path=str(out), srt_path=str(srt_path) if srt_path else None,
                            streaming=streaming, segments=segments)


@pytest.mark.parametrize("streaming", [True, False])
def test_run_job_renders_assembles_and_times_subtitles(data_dir, tmp_path, streaming):
    store = Store(data_dir)
    out, sub = tmp_path / "out.wav", tmp_path / "out.srt"
    job = make_job(store, SHORT_SCRIPT, out, streaming=streaming, srt_path=sub)
    events = list(run_job(store, job.id))

    kinds = [e.kind for e in events]
    total = events[0].total
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert kinds.count("segment_done") == kinds.count("segment_started") == total
    done_events = [e for e in events if e.kind == "segment_done"]
    assert [e.done for e in done_events] == list(range(1, total + 1))
    for e in done_events:
        assert e.segment_audio_s > 0.3 and e.segment_compute_s > 0
        assert e.segment_rtf == pytest.approx(e.segment_compute_s / e.segment_audio_s)
        assert e.eta_s is not None and e.eta_s >= 0
    assert done_events[-1].eta_s == 0
    assert store.get_job(job.id).state == JobState.DONE

    # The output is exactly the segments plus the configured pauses, in order.
    segs = store.segments(job.id)
    pauses = PauseSettings()
    expected = sum(s.audio_seconds for s in segs) + sum(
        getattr(pauses, s.pause_after) for s in segs[:-1])
    info = sf.info(out)
    assert info.samplerate == 22050 and info.channels == 1
    assert info.duration == pytest.approx(expected, abs=0.01)

    cues = list(srt.parse(sub.read_text(encoding="utf-8")))
    assert len(cues) == len(segs)
    assert cues[0].start.total_seconds() == 0
    assert cues[-1].end.total_seconds() == pytest.approx(info.duration, abs=0.01)
    assert cues[1].start.total_seconds() == pytest.approx(
        segs[0].audio_seconds + getattr(pauses, segs[0].pause_after), abs=0.002)


def test_identical_segments_are_reused_not_recomputed(data_dir, tmp_path):
    store = Store(data_dir)
    first = make_job(store, SHORT_SCRIPT, tmp_path / "a.wav")
    list(run_job(store, first.id))
    edited = SHORT_SCRIPT.replace("renders each one.", "renders each one carefully.")
    second = make_job(store, edited, tmp_path / "b.wav")
    events = list(run_job(store, second.id))
    rendered = [e.index for e in events if e.kind == "segment_done"]
    assert len(rendered) == 1
    assert "carefully" in store.segment(second.id, rendered[0]).text
    reused = [s for s in store.segments(second.id) if s.reused]
    assert len(reused) == len(store.segments(second.id)) - 1
    assert all(s.compute_seconds == 0 for s in reused)


def test_changed_settings_never_serve_old_audio(data_dir, tmp_path):
    store = Store(data_dir)
    # durations compared between two renders: without noise they are not drawn at random
    slow = make_job(store, SHORT_SCRIPT, tmp_path / "a.wav",
                    options={**DETERMINISTIC, "speed": 1.0})
    list(run_job(store, slow.id))
    fast = make_job(store, SHORT_SCRIPT, tmp_path / "b.wav",
                    options={**DETERMINISTIC, "speed": 2.0})
    events = list(run_job(store, fast.id))
    assert sum(e.kind == "segment_done" for e in events) == len(store.segments(fast.id))
    # twice as fast: the speech alone is 0.55-0.72x as long (piper's durations are random), the
    # pauses between sentences are not sped up
    assert sf.info(tmp_path / "b.wav").duration < 0.85 * sf.info(tmp_path / "a.wav").duration


def test_stale_running_job_is_swept_to_interrupted(data_dir, tmp_path):
    store = Store(data_dir)
    job = make_job(store, SHORT_SCRIPT, tmp_path / "a.wav")
    # as a runner that died would have left it
    store.transition(job.id, JobState.RUNNING, from_states=(JobState.QUEUED,), runner_pid=999999)
    store.mark_segment_running(job.id, 0)
    orphan = store.job_dir(job.id) / "seg-00000-abc.wav.tmp-999999"
    orphan.write_bytes(b"half a segment")
    assert sweep_stale(store) == [job.id]
    assert store.get_job(job.id).state == JobState.INTERRUPTED
    assert store.segment(job.id, 0).state == SegmentState.PENDING
    assert not orphan.exists()


def test_second_runner_on_the_same_job_is_refused(data_dir, tmp_path):
    store = Store(data_dir)
    job = make_job(store, SHORT_SCRIPT, tmp_path / "a.wav")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from filelock import FileLock;"
         "l = FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(60)",
         str(store.job_dir(job.id) / "run.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(JobBusy, match="already running"):
            next(run_job(store, job.id))
        assert store.get_job(job.id).state == JobState.QUEUED  # untouched
    finally:
        holder.kill()
        holder.wait()


def test_pause_between_segments_keeps_finished_work(data_dir, tmp_path):
    store = Store(data_dir)
    job = make_job(store, pooh_paragraphs(600), tmp_path / "a.wav")
    runner = run_job(store, job.id)
    for event in runner:
        if event.kind == "segment_done" and event.done == 2:
            pause_job(store, job.id)  # as the server will, from another thread
    assert event.kind == "stopped" and event.state == JobState.PAUSED
    assert sum(s.has_valid_audio for s in store.segments(job.id)) == 2
    events = list(run_job(store, job.id))  # resuming renders only the rest
    total = events[0].total
    assert sum(e.kind == "segment_done" for e in events) == total - 2
    assert store.get_job(job.id).state == JobState.DONE


def test_sigkill_mid_narration_then_resume(data_dir, tmp_path):
    """Kill a real narration process; the resumed run finishes and redoes at most one segment."""
    script = tmp_path / "book.txt"
    script.write_text(pooh_paragraphs(1500), encoding="utf-8")
    out = tmp_path / "book.wav"
    # Levels and silences as the engine made them, so the layout can be checked exactly
    # (mastering is tested in tests/test_publish.py).
    cmd = [sys.executable, "-m", "indextts_yt", "narrate", str(script), "-o", str(out),
           "--loudness", "off", "--no-trim", "--data-dir", str(data_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_done_segments(proc, data_dir, 3)
    finally:
        proc.kill()  # SIGKILL: no cleanup code runs
        proc.wait()
    killed_at = time.time()

    store = Store(data_dir)
    (job,) = store.list_jobs()
    assert job.state == JobState.RUNNING  # as the dead process left it
    before = {s.idx: (s.audio_path, s.finished_at) for s in store.segments(job.id)
              if s.has_valid_audio}
    total = len(store.segments(job.id))
    assert 3 <= len(before) < total

    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "resuming unfinished job" in result.stderr
    after = store.segments(job.id)
    assert store.get_job(job.id).state == JobState.DONE
    # Finished segments were kept as they were, not recomputed.
    for seg in after:
        if seg.idx in before:
            assert (seg.audio_path, seg.finished_at) == before[seg.idx]
        else:
            assert seg.finished_at > killed_at
    assert all(s.has_valid_audio for s in after)
    pauses = PauseSettings()
    expected = sum(s.audio_seconds for s in after) + sum(
        getattr(pauses, s.pause_after) for s in after[:-1])
    assert sf.info(out).duration == pytest.approx(expected, abs=0.01)
    leftovers = [p for p in store.job_dir(job.id).iterdir() if ".tmp-" in p.name]
    assert leftovers == []


def test_an_engine_error_without_a_message_still_says_what_it_was(data_dir, tmp_path):
    from indextts_yt.engines import registry

    registry.register_engine("silent-failure", registry.EngineEntry("faulty_engines", "SilentFailure"))
    try:
        store = Store(data_dir)
        job = make_job(store, "Hello there.", tmp_path / "out.wav", engine="silent-failure")
        events = list(run_job(store, job.id))
    finally:  # other tests list every engine's voices
        registry._ENGINES.pop("silent-failure", None)
        registry._instances.pop("silent-failure", None)
    assert events[-1].error == "segment 1 failed: RuntimeError"
    assert store.get_job(job.id).error == "segment 1 failed: RuntimeError"
    assert store.segment(job.id, 0).error == "RuntimeError"
