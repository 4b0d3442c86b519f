"""Running the same `narrate` command again after it was stopped continues the same job,
whatever the output's format, and the job lists only the files the user asked for."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DETERMINISTIC_FLAGS, cli, pooh_paragraphs

from indextts_yt.jobs.state import JobState
from indextts_yt.jobs.store import Store


def _done_segments(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT count(*) FROM segments WHERE state='done'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0


def _stop_after_first_segment(cmd: list[str], db: Path, sig: signal.Signals) -> None:
    """Run narrate until a first segment is stored, then stop it with ``sig``."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while _done_segments(db) < 1:
            assert proc.poll() is None, "narrate ended before a first segment was done"
            time.sleep(0.02)
        proc.send_signal(sig)
        proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("suffix, sig", [
    (".wav", signal.SIGKILL), (".mp3", signal.SIGINT), (".mp3", signal.SIGKILL),
    (".flac", signal.SIGINT), (".opus", signal.SIGKILL), (".m4a", signal.SIGINT),
], ids=lambda v: v.name if isinstance(v, signal.Signals) else v[1:])
def test_the_same_command_again_continues_the_same_job(tmp_path, data_dir, suffix, sig):
    script = tmp_path / "book.txt"
    script.write_text(pooh_paragraphs(3000), encoding="utf-8")  # 17 segments
    out = tmp_path / f"book{suffix}"
    cmd = [sys.executable, "-m", "indextts_yt", "narrate", str(script), "-o", str(out),
           *DETERMINISTIC_FLAGS, "--data-dir", str(data_dir)]
    _stop_after_first_segment(cmd, data_dir / "studio.sqlite3", sig)

    store = Store(data_dir)
    (job,) = store.list_jobs()
    before = {s.idx: (s.audio_path, s.finished_at) for s in store.segments(job.id)
              if s.has_valid_audio}
    assert 1 <= len(before) < len(store.segments(job.id))

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"resuming unfinished job {job.id}" in again.stderr
    assert f"-> {out}" in again.stderr
    jobs = json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout)
    assert [(j["id"], j["state"]) for j in jobs] == [(job.id, JobState.DONE)]
    assert jobs[0]["output"] == str(out)  # the user's file, not the job's own WAV
    after = {s.idx: (s.audio_path, s.finished_at) for s in store.segments(job.id)}
    assert all(after[i] == kept for i, kept in before.items())  # not made again
    # Only the file asked for (and, for an encoded one, the WAV it is made from).
    files = store.get_job(job.id).report["files"]
    assert files == ([str(out)] if suffix == ".wav" else [job.output_path, str(out)])
    assert out.stat().st_size > 0
    store.close()
