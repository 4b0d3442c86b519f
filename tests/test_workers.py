"""Workers on Ray (jobs/cluster.py): a real local Ray instance with two engine actors on
piper. A narration completes in script order and equals a single-worker one; an actor
killed mid-segment hands its take to the other with nothing lost or redone; a driver
killed mid-job resumes; the server streams in order with workers; bad flags are one line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import soundfile as sf

from conftest import DETERMINISTIC, DETERMINISTIC_FLAGS, cli, pooh_paragraphs, wait_for_done_segments
from indextts_yt.engines import registry
from indextts_yt.jobs import service
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CheckSettings, JobSettings
from browser_util import browser, open_ui  # noqa: F401 - the browser fixture
from server_util import WAV_HEADER, decode, serve
from test_cli import assert_no_jobs, one_error_line

pytest.importorskip("ray", reason="the cluster extra (Ray) is part of the test install")

from indextts_yt.jobs.cluster import WorkerPool  # noqa: E402

HERE = Path(__file__).resolve().parent
SLOW = "piper-slow"  # faulty_engines.SlowPiper: waits before each segment
OFF = CheckSettings(mode="off")


@pytest.fixture(scope="module")
def gate(tmp_path_factory):
    """The file SlowPiper's "Slowly" segments wait for (the actors see the variable: the
    local Ray instance starts with this process's environment)."""
    path = tmp_path_factory.mktemp("gate") / "open"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INDEXTTS_YT_TEST_GATE", str(path))
        yield path


@pytest.fixture(scope="module")
def pool(gate, tmp_path_factory):
    for name, cls in ((SLOW, "SlowPiper"), ("piper-nogpu", "NoGpuPiper"),
                      ("piper-nogpu-once", "NoGpuOnOneWorker")):
        registry.register_engine(name, registry.EngineEntry("faulty_engines", cls))
    claim = tmp_path_factory.mktemp("claim") / "taken"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INDEXTTS_YT_TEST_CLAIM", str(claim))
        made = WorkerPool(2)
    try:
        yield made
    finally:
        made.close()


def _job(store: Store, text: str, engine: str, output: Path, checks: CheckSettings = OFF):
    job, _ = service.create_job(store, service.JobRequest(text=text, settings=JobSettings(
        engine=engine, options=DETERMINISTIC, checks=checks)), output_path=output)
    return job


def _paragraphs(n: int) -> str:
    return "\n\n".join(f"Paragraph {k}, a short one." for k in range(1, n + 1))


def _narrate(store: Store, text: str, farm, engine: str, output: Path,
             checks: CheckSettings = OFF):
    job = _job(store, text, engine, output, checks)
    events = list(run_job(store, job.id, farm=farm))
    assert events[-1].kind == "finished", events[-1]
    return job, events


def test_two_workers_narrate_in_order_as_one_does(pool, gate, tmp_path):
    text = "Slowly it began.\n\n" + pooh_paragraphs(700)
    alone, together = Store(tmp_path / "one"), Store(tmp_path / "two")
    gate.touch()  # alone, the first segment goes first
    one, _ = _narrate(alone, text, None, SLOW, tmp_path / "one.wav")
    gate.unlink()  # with workers, the first segment waits for another to be done
    job = _job(together, text, SLOW, tmp_path / "two.wav")
    events = []
    for event in run_job(together, job.id, farm=pool.farm):
        events.append(event)
        if event.kind == "segment_done":
            gate.touch()
    assert events[-1].kind == "finished", events[-1]
    plan = [(s.idx, s.text, s.key, s.pause_after) for s in alone.segments(one.id)]
    two = together.get_job(job.id)
    assert [(s.idx, s.text, s.key, s.pause_after) for s in together.segments(two.id)] == plan
    done = [e.index for e in events if e.kind == "segment_done"]
    assert sorted(done) == list(range(len(plan))) and done[0] != 0
    # ... yet every segment holds its own audio (deterministic piper: the same samples'
    # count as a render here), and the narration is laid out in script order.
    for a, b in zip(alone.segments(one.id), together.segments(two.id)):
        assert b.take == 1 and sf.info(b.audio_path).frames == sf.info(a.audio_path).frames
    ours, theirs = sf.read(tmp_path / "one.wav")[0], sf.read(tmp_path / "two.wav")[0]
    assert len(ours) == len(theirs)
    # The ETA counts both workers: the run's rate, not one segment's.
    assert all(e.eta_s is not None for e in events if e.kind == "segment_done")


def test_the_workers_proofread_what_they_render(pool, tmp_path):
    store = Store(tmp_path)
    job, events = _narrate(store, "A first short sentence.\n\nAnd a second one, then the end.",
                           pool.farm, "piper", tmp_path / "o.wav", CheckSettings(mode="flag"))
    checked = [e for e in events if e.kind == "segment_checked"]
    assert len(checked) == 2 and {e.status for e in checked} == {"ok"}
    assert all(t.check["transcript"]["text"] for t in store.takes(job.id))  # Whisper heard it


def test_a_worker_killed_mid_segment_hands_its_take_over(pool, tmp_path):
    store = Store(tmp_path)
    job = _job(store, _paragraphs(8), SLOW, tmp_path / "o.wav")
    farms = []

    def farm(clips, job):
        farms.append(pool.farm(clips, job))
        return farms[-1]

    runner = run_job(store, job.id, farm=farm)
    events = []
    for event in runner:
        events.append(event)
        if event.kind == "segment_done":
            os.kill(pool.pids()[0], signal.SIGKILL)  # it holds two takes: one rendering
            break
    events += list(runner)
    assert events[-1].kind == "finished", events[-1]
    assert farms[0].reassigned >= 1  # its takes went to the other actor
    rows = store.segments(job.id)
    assert all(s.has_valid_audio and s.take == 1 for s in rows)  # nothing redone, none lost
    assert len(store.takes(job.id)) == len(rows)
    assert sorted(e.index for e in events if e.kind == "segment_done") == list(range(len(rows)))
    assert len(pool.pids()) == 2  # Ray started the killed actor again


def test_a_pause_stops_handing_out_and_keeps_what_was_out(pool, gate, tmp_path):
    from indextts_yt.jobs.state import Action, JobState, perform

    gate.touch()
    store = Store(tmp_path)
    job = _job(store, _paragraphs(10), SLOW, tmp_path / "o.wav")
    events = []
    for event in run_job(store, job.id, farm=pool.farm):
        events.append(event)
        if event.kind == "segment_done" and store.job_state(job.id) == JobState.RUNNING:
            perform(store, job.id, Action.PAUSE)
            out_then = {e.index for e in events if e.kind == "segment_started"}
    assert events[-1].kind == "stopped" and events[-1].state == JobState.PAUSED
    started = {e.index for e in events if e.kind == "segment_started"}
    assert started == out_then  # nothing handed out after the pause
    done = {s.idx for s in store.segments(job.id) if s.has_valid_audio}
    assert done == started and len(done) < 10  # what was out was finished and kept
    assert not any(s.state == "running" for s in store.segments(job.id))
    perform(store, job.id, Action.RESUME)
    again = list(run_job(store, job.id, farm=pool.farm))
    assert again[-1].kind == "finished"
    assert {e.index for e in again if e.kind == "segment_started"} == set(range(10)) - done


def test_a_worker_that_cannot_start_the_engine_leaves_it_to_the_others(pool, tmp_path,
                                                                       caplog):
    store = Store(tmp_path)
    text = _paragraphs(6)
    job, events = _narrate(store, text, pool.farm, "piper-nogpu-once", tmp_path / "o.wav")
    assert all(s.has_valid_audio for s in store.segments(job.id))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "indextts_yt.workers"]
    assert line.endswith("cannot start engine 'piper-nogpu-once': engine 'piper-nogpu' needs "
                         "a CUDA GPU, and this machine has none; the other workers render "
                         "its segments")
    # No worker can: the job stops with the engine's own reason, in one line.
    job = _job(store, text, "piper-nogpu", tmp_path / "p.wav")
    last = list(run_job(store, job.id, farm=pool.farm))[-1]
    assert last.kind == "stopped" and last.state == "failed"
    # (whichever of the segments out first hears it from the second worker)
    assert re.fullmatch(r"segment [1-4] failed: no worker can start engine 'piper-nogpu': "
                        r"engine 'piper-nogpu' needs a CUDA GPU, and this machine has none",
                        last.error)
    assert store.get_job(job.id).error == last.error


def test_the_server_streams_in_order_with_workers(pool, data_dir, browser):  # noqa: F811
    with serve(data_dir, farm=pool) as srv:
        job = srv.create(pooh_paragraphs(600), loudness="off", trim=False, engine="piper",
                         options=DETERMINISTIC, checks={"mode": "off"})
        data = bytearray()
        with srv.http.stream("GET", f"/api/jobs/{job['id']}/audio") as r:
            assert r.status_code == 200
            for chunk in r.iter_bytes():
                data += chunk
        assert len(data) > WAV_HEADER
        streamed, rate = decode(bytes(data))
        srv.wait_done(job["id"])
        final = Store(data_dir).get_job(job["id"])
        assembled, rate2 = sf.read(final.output_path, dtype="int16")
        # Segments finished out of order; the stream and the file are in script order.
        assert rate == rate2 and (streamed == assembled).all()

        # The queue says where takes are rendered, to a client and in the web UI.
        assert srv.http.get("/api/queue").json()["workers"] == {
            "workers": 2, "address": None, "gpu": False, "threads": pool.info.threads}
        page, errors, tid = open_ui(browser, srv.http)
        page.wait_for_function("document.querySelector('[data-testid=queue-workers]')"
                               ".textContent.includes('workers')")
        threads = "one CPU thread" if pool.info.threads == 1 else f"{pool.info.threads} CPU threads"
        assert tid("queue-workers").inner_text() == (
            f"Rendered by 2 workers on a local Ray instance, {threads} each, "
            "several segments at once.")
        tid("lang-toggle").click()
        assert tid("queue-workers").inner_text() == \
            f"由本机 Ray 实例上的 2 个工作进程并行生成，每个使用 {pool.info.threads} 个 CPU 线程。"
        assert not errors, errors
        page.context.close()


@pytest.mark.timeout(300)
def test_a_killed_driver_resumes_with_workers(tmp_path, data_dir):
    script, out = tmp_path / "s.txt", tmp_path / "o.wav"
    script.write_text(_paragraphs(12), encoding="utf-8")
    cmd = [sys.executable, str(HERE / "cli_with_test_engines.py"), "narrate", str(script),
           "-o", str(out), "--engine", SLOW, "--workers", "2", "--check", "off",
           "--data-dir", str(data_dir), *DETERMINISTIC_FLAGS]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = psutil.Process(proc.pid)
    ray_processes: list[psutil.Process] = []
    try:
        wait_for_done_segments(proc, data_dir, 3)
        ray_processes = driver.children(recursive=True)
    finally:
        proc.kill()  # SIGKILL: no cleanup code runs
        proc.wait()
        for child in ray_processes:  # what the local Ray instance leaves behind
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
    store = Store(data_dir)
    (job,) = store.list_jobs()
    before = {s.idx: (s.audio_path, s.finished_at) for s in store.segments(job.id)
              if s.has_valid_audio}
    assert 3 <= len(before) < 12
    result = subprocess.run([*cmd[:2], "resume", job.id, "--workers", "2", "--data-dir",
                             str(data_dir)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    after = store.segments(job.id)
    assert all(s.has_valid_audio for s in after)
    assert all((s.audio_path, s.finished_at) == before[s.idx] for s in after
               if s.idx in before)  # finished before the kill: kept, not redone
    assert sf.info(out).frames > 0


@pytest.mark.parametrize("flags, message", [
    (("--workers", "0"), "--workers must be at least 1 (got 0)"),
    (("--ray", "10.0.0.5:6379"), "--ray needs --workers N"),
    (("--workers", "1", "--ray", "nohost"), "give the head's host:port"),
    (("--workers", "1", "--ray", "127.0.0.1:1"), "cannot start workers on the Ray cluster at "
                                                   "'127.0.0.1:1': nothing answers there"),
])
def test_bad_worker_flags_are_one_line_and_store_nothing(flags, message, tmp_path, data_dir):
    script = tmp_path / "s.txt"
    script.write_text("Hello.", encoding="utf-8")
    result = cli("narrate", str(script), "-o", str(tmp_path / "o.wav"), *flags,
                 "--data-dir", str(data_dir))
    assert result.returncode == 2 and message in one_error_line(result)
    assert_no_jobs(data_dir)
    served = cli("serve", "--port", "0", *flags, "--data-dir", str(data_dir))
    assert served.returncode == 2 and message in one_error_line(served)
