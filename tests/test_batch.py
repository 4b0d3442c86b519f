"""Batches and the queue: many scripts with one preset, each its own job; order, pause,
cancel and ETA; the CLI batch controlled from another process, killed and continued."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from conftest import cli, pooh_paragraphs
from server_util import assert_error, serve
from test_cli import one_error_line

from indextts_yt.jobs import store as st
from indextts_yt.jobs.queue import move_job, queue_view
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.service import JobRequest, create_job
from indextts_yt.settings import JobSettings
from indextts_yt.jobs.store import Store
from indextts_yt.presets import PresetLibrary


def _scripts(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _jobs(data_dir: Path) -> list[dict]:
    return json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout)


def test_cli_batch_of_a_folder_with_a_preset(tmp_path, data_dir):
    PresetLibrary(data_dir).save("Fast MP3", {"engine": "piper", "options": {"speed": 1.3},
                                              "output": {"format": "mp3", "bitrate": "64k"}})
    folder = _scripts(tmp_path / "scripts", {
        "part 10.txt": "The last part.", "part 2.md": "# Two\n\nThe second part.",
        "part 1.txt": "The first part, which comes first.", "notes.pdf": "not a script"})
    out = tmp_path / "out"
    out.mkdir()
    result = cli("batch", str(folder), "-o", str(out), "--preset", "fast mp3", "--chapters",
                 "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr.decode()
    for name in ("part 1", "part 2", "part 10"):
        audio = sf.info(out / f"{name}.mp3")
        assert audio.duration > 0.5 and (out / f"{name}.srt").stat().st_size > 0
    assert (out / "part 2.chapters.txt").read_text().startswith("00:00 Two")
    assert not list(out.glob("notes*"))
    jobs = _jobs(data_dir)
    assert len(jobs) == 3 and {j["state"] for j in jobs} == {"done"}
    with sqlite3.connect(data_dir / "studio.sqlite3") as db:
        rows = db.execute("SELECT title, settings, batch_id FROM jobs"
                          " ORDER BY updated_at").fetchall()
    # Natural order (part 2 before part 10), one batch, the preset's settings on each.
    assert [r[0] for r in rows] == ["part 1", "part 2", "part 10"]
    assert len({r[2] for r in rows}) == 1 and rows[0][2].startswith("batch-")
    for _, settings, _ in rows:
        settings = json.loads(settings)
        assert settings["options"] == {"speed": 1.3}
        assert settings["output"]["format"] == "mp3" and settings["output"]["bitrate"] == 64000


@pytest.mark.parametrize("texts, message", [
    ({"a.txt": "Fine.", "b.txt": "   \n"}, "b.txt"),
    ({"a.txt": "Fine.", "a.md": "Also fine."}, "same files"),
    ({"a.txt": "Fine.", "b.txt": "\x00\x01binary"}, "binary"),
])
def test_one_bad_script_refuses_the_whole_batch(tmp_path, data_dir, texts, message):
    folder = _scripts(tmp_path / "scripts", texts)
    out = tmp_path / "out"
    out.mkdir()
    line = one_error_line(cli("batch", str(folder), "-o", str(out), "--data-dir", str(data_dir)))
    assert message in line
    assert _jobs(data_dir) == [] and list(out.iterdir()) == []


def test_cli_batch_bad_arguments(tmp_path, data_dir):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.txt").write_text("Fine.")
    (tmp_path / "list.txt").write_text("# scripts\na.txt\nmissing.txt\n")
    cases = [
        (("batch", str(tmp_path / "empty"), "-o", str(out)), "no scripts found"),
        (("batch", str(tmp_path / "nope.txt"), "-o", str(out)), "does not exist"),
        (("batch", str(tmp_path / "a.txt"), "-o", str(tmp_path / "no-dir")), "does not exist"),
        (("batch", "--list", str(tmp_path / "list.txt"), "-o", str(out)), "missing.txt"),
        (("batch", str(tmp_path / "a.txt"), "-o", str(out), "--preset", "nope"), "no preset"),
        (("batch", str(tmp_path / "a.txt"), "-o", str(out), "--format", "wma"), "wma"),
    ]
    for args, message in cases:
        assert message in one_error_line(cli(*args, "--data-dir", str(data_dir))), args
    assert _jobs(data_dir) == []


def _measure_speed(data_dir: Path) -> None:
    """Render one job, so the studio has measured seconds per character."""
    store = Store(data_dir)
    job, _ = create_job(store, JobRequest(text=pooh_paragraphs(300), settings=JobSettings(engine="piper")))
    for _ in run_job(store, job.id):
        pass
    store.close()


def test_api_batch_queue_order_eta_pause_cancel(data_dir):
    _measure_speed(data_dir)
    PresetLibrary(data_dir).save("Slow", {"engine": "piper", "options": {"speed": 0.9}})
    texts = {"one.txt": pooh_paragraphs(200), "two.md": pooh_paragraphs(600),
             "three.txt": pooh_paragraphs(100)}
    with serve(data_dir, start_worker=False) as s:
        http = s.http
        r = http.post("/api/batches", data={"preset": "Slow"},
                      files=[("file", (n, t.encode())) for n, t in texts.items()])
        assert r.status_code == 201, r.text
        batch = r.json()
        assert [j["title"] for j in batch["jobs"]] == ["one", "two", "three"]
        assert [j["queue_position"] for j in batch["jobs"]] == [1, 2, 3]
        assert all(j["settings"]["options"] == {"speed": 0.9} for j in batch["jobs"])

        queue = http.get("/api/queue").json()["jobs"]
        by_title = {e["title"]: e for e in queue}
        # ETAs from the measured speed: each job's remaining time follows its length, and
        # each ETA adds up the jobs ahead of it.
        left = {t: by_title[t]["remaining_s"] for t in ("one", "two", "three")}
        chars = {t: sum(len(x["text"]) for x in http.get(
            f"/api/jobs/{by_title[t]['id']}/segments").json()) for t in left}
        # (remaining_s is rounded to 0.1 s, so the ratio is compared with that much slack)
        assert left["two"] == pytest.approx(left["one"] * chars["two"] / chars["one"],
                                            rel=0.02, abs=0.1 + 0.05 * chars["two"] / chars["one"])
        etas = [e["eta_s"] for e in queue]
        assert etas == sorted(etas) and etas[-1] == pytest.approx(sum(left.values()), abs=0.3)

        three = by_title["three"]["id"]
        assert http.post(f"/api/jobs/{three}/move", json={"position": 1}).json()["order"][0] \
            == three
        assert [e["title"] for e in http.get("/api/queue").json()["jobs"]] == \
            ["three", "one", "two"]
        assert_error(http.post(f"/api/jobs/{three}/move", json={"position": 0}), 422)
        http.post(f"/api/jobs/{by_title['one']['id']}/pause")
        http.post(f"/api/jobs/{by_title['two']['id']}/cancel")
        assert "paused; only a queued job" in assert_error(
            http.post(f"/api/jobs/{by_title['one']['id']}/move", json={"position": 1}), 409)
        queue = http.get("/api/queue").json()["jobs"]
        assert [(e["title"], e["state"], e["position"]) for e in queue] == [
            ("three", "queued", 1), ("one", "paused", None)]
        got = http.get(f"/api/batches/{batch['batch_id']}").json()
        assert {j["title"]: j["state"] for j in got["jobs"]} == {
            "three": "queued", "one": "paused", "two": "cancelled"}

        # Bad batches: nothing queued.
        before = len(http.get("/api/jobs").json())
        assert "b.txt is empty" in assert_error(http.post(
            "/api/batches", files=[("file", ("a.txt", b"Fine.")), ("file", ("b.txt", b" "))]),
            400)
        assert_error(http.post("/api/batches", files=[("file", ("a.pdf", b"%PDF"))]), 415)
        assert "no preset" in assert_error(http.post(
            "/api/batches", json={"preset": "nope", "scripts": [{"text": "Hi."}]}), 404)
        assert_error(http.post("/api/batches", json={"scripts": []}), 422)
        assert "speed" in assert_error(http.post("/api/batches", json={
            "scripts": [{"text": "Hi."}], "settings": {"engine": "piper",
                                                      "options": {"speed": 99}}}), 400)
        assert_error(http.get("/api/batches/batch-nope"), 404)
        assert len(http.get("/api/jobs").json()) == before


def test_server_worker_follows_the_queue_order(data_dir):
    with serve(data_dir, start_worker=False) as s:
        r = s.http.post("/api/batches", json={"scripts": [
            {"title": "A", "text": "First in."}, {"title": "B", "text": "Second in."},
            {"title": "C", "text": "Third in."}]})
        ids = {j["title"]: j["id"] for j in r.json()["jobs"]}
        s.http.post(f"/api/jobs/{ids['C']}/move", json={"position": 1})
    with serve(data_dir) as s:  # now with the worker
        for job_id in ids.values():
            s.wait_done(job_id)
    store = Store(data_dir)
    started = {t: min(seg.finished_at for seg in store.segments(i)) for t, i in ids.items()}
    assert sorted(started, key=started.get) == ["C", "A", "B"]


def _wait(pred, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (value := pred()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def _batch_jobs(data_dir: Path) -> dict[str, st.Job]:
    store = Store(data_dir)
    try:
        return {j.title: j for j in store.list_jobs()}
    finally:
        store.close()


def _done_segments(data_dir: Path, job_id: str) -> int:
    store = Store(data_dir)
    try:
        return sum(s.has_valid_audio for s in store.segments(job_id))
    finally:
        store.close()


def test_cli_batch_controlled_from_another_process_killed_and_continued(tmp_path, data_dir):
    folder = _scripts(tmp_path / "scripts", {
        "1 long.txt": pooh_paragraphs(2400), "2 paused.txt": "This one is paused.",
        "3 moved.txt": "This one is moved to the front.", "4 last.txt": "The last one."})
    out = tmp_path / "out"
    out.mkdir()
    args = [sys.executable, "-m", "indextts_yt", "batch", str(folder), "-o", str(out),
            "--data-dir", str(data_dir)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        jobs = _wait(lambda: len(_batch_jobs(data_dir)) == 4 and _batch_jobs(data_dir),
                     "the batch to be queued")
        long_id = jobs["1 long"].id
        _wait(lambda: _done_segments(data_dir, long_id) >= 1, "a first segment")
        # From another process, while the first job runs: reorder and pause.
        moved = cli("queue", "move", jobs["3 moved"].id, "1", "--data-dir", str(data_dir))
        assert moved.returncode == 0 and b"#1 of 3" in moved.stdout, moved.stderr
        assert cli("pause", jobs["2 paused"].id, "--data-dir", str(data_dir)).returncode == 0
        shown = json.loads(cli("queue", "--json", "--data-dir", str(data_dir)).stdout)
        assert [(e["title"], e["position"]) for e in shown] == [
            ("1 long", None), ("3 moved", 1), ("4 last", 2), ("2 paused", None)]
        assert shown[0]["state"] == "running" and shown[1]["eta_s"] is not None
        # Killed mid-job (no chance to clean up): nothing finished may be lost.
        done_before = _done_segments(data_dir, long_id)
        assert done_before < len(Store(data_dir).segments(long_id))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    finished_before = {s.idx: s.finished_at for s in Store(data_dir).segments(long_id)
                       if s.has_valid_audio}
    assert len(finished_before) >= done_before

    again = cli("batch", str(folder), "-o", str(out), "--data-dir", str(data_dir))
    assert again.returncode == 1, again.stderr.decode()  # one job is still paused
    jobs = _batch_jobs(data_dir)
    assert len(jobs) == 4 and jobs["1 long"].id == long_id  # the same job continued
    assert {t: j.state for t, j in jobs.items()} == {
        "1 long": "done", "2 paused": "paused", "3 moved": "done", "4 last": "done"}
    kept = {s.idx: s.finished_at for s in Store(data_dir).segments(long_id)}
    assert all(kept[i] == t for i, t in finished_before.items())  # not made again
    assert sorted(p.name for p in out.glob("*.wav")) == ["1 long.wav", "3 moved.wav",
                                                         "4 last.wav"]
    assert jobs["3 moved"].updated_at < jobs["4 last"].updated_at
    assert "2 paused" in again.stderr.decode() or "paused" in again.stdout.decode()


def test_jobs_created_in_one_clock_tick_keep_their_order_and_can_be_moved(data_dir, monkeypatch):
    """A coarse clock (Windows ticks every 15.6 ms) gives a batch's jobs one creation time:
    the queue still runs them in the order they were made, and a move still moves."""
    store = Store(data_dir)
    monkeypatch.setattr(st.time, "time", lambda: 1_800_000_000.0)
    ids = [create_job(store, JobRequest(text=f"Script number {n}.", settings=JobSettings(engine="piper")))[0].id
           for n in range(4)]
    assert store.queued_ids() == ids
    assert [j.id for j in store.list_jobs()] == ids[::-1]  # newest first
    assert move_job(store, ids[3], 1) == [ids[3], *ids[:3]]
    assert store.queued_ids() == [ids[3], *ids[:3]]
    assert move_job(store, ids[0], 4) == [ids[3], ids[1], ids[2], ids[0]]
    assert store.queued_ids() == [ids[3], ids[1], ids[2], ids[0]]
    store.close()
