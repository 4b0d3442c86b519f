"""The server's limits: request bodies, segment indices, one server per studio, what a job's
answer reveals about the server's disk, and open files under many requests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from conftest import DETERMINISTIC, DETERMINISTIC_FLAGS, SHORT_SCRIPT, cli
from server_util import assert_error, free_port, serve
from test_cli import one_error_line

HUGE = "99999999999999999999"  # beyond SQLite's 64-bit integers


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_a_huge_segment_index_is_a_404_and_unknown_edit_options_a_400(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        job = srv.create(SHORT_SCRIPT, engine="piper")["id"]
        for index in (HUGE, "-" + HUGE, "-1", "1000"):
            assert_error(srv.http.get(f"/api/jobs/{job}/segments/{index}/audio"), 404)
            assert_error(srv.http.patch(f"/api/jobs/{job}/segments/{index}",
                                        json={"text": "New words."}), 404)

        before = srv.http.get(f"/api/jobs/{job}/segments").json()[1]
        error = assert_error(srv.http.patch(f"/api/jobs/{job}/segments/1",
                                            json={"options": {"bogus": 1}}), 400)
        assert "'bogus'" in error
        error = assert_error(srv.http.patch(f"/api/jobs/{job}/segments/1",
                                            json={"options": {"speed": 0.9, "bogus": 1}}), 400)
        assert "'bogus'" in error
        assert srv.http.get(f"/api/jobs/{job}/segments").json()[1] == before  # unchanged
        ok = srv.http.patch(f"/api/jobs/{job}/segments/1", json={"options": {"speed": 0.9}})
        assert ok.status_code == 200 and ok.json()["settings"]["speed"] == 0.9, ok.text


def test_the_jobs_api_names_files_without_server_paths(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        job = srv.create(SHORT_SCRIPT, engine="piper", options=DETERMINISTIC, format="mp3")
        with srv.http.stream("GET", f"/api/jobs/{job['id']}/events") as events:
            lines = events.iter_lines()
            assert next(lines) == "event: snapshot"
            srv.studio.worker.start()  # now: the stream sees every progress event
            streamed = "\n".join(lines)  # it ends when the job is done
        assert "event: progress" in streamed and '"kind": "finished"' in streamed
        done = srv.wait_done(job["id"])
        assert done["output"]["file"] == "narration.mp3"
        assert done["output"]["vtt"] == "narration.vtt"
        assert done["output"]["chapters"] == "narration.chapters.txt"
        assert {"narration.wav", "narration.mp3", "narration.srt"} <= set(done["report"]["files"])
        answers = [srv.http.get("/api/jobs").json(), done, streamed,
                   srv.http.get(f"/api/jobs/{job['id']}/events").text]
        for answer in answers:
            for s in _strings(answer):
                assert str(data_dir) not in s and '"/' not in s and not s.startswith("/"), s
        # the files are still served by their routes
        assert srv.http.get(f"/api/jobs/{job['id']}/download?format=mp3").status_code == 200
        assert srv.http.get(f"/api/jobs/{job['id']}/subtitles.vtt").status_code == 200


@contextmanager
def served(data_dir: Path, preexec: Callable[[], None] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real `indextts-yt serve` process on ``data_dir``, stopped (as Ctrl-C) at the end."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "indextts_yt", "serve", "--port", str(port),
                             "--data-dir", str(data_dir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=preexec)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # waiting for it to listen; the assertion only guards a broken start
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            try:
                if httpx.get(base + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, base
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_one_server_per_studio_and_the_cli_beside_it(data_dir, short_script, tmp_path):
    with served(data_dir) as (first, base):
        second = cli("serve", "--port", str(free_port()), "--data-dir", str(data_dir), timeout=60)
        line = one_error_line(second)
        assert "another server is already running" in line and str(data_dir) in line
        assert first.poll() is None and httpx.get(base + "/api/jobs").status_code == 200

        # A narration from the command line runs beside the server (under its job's lock).
        out = tmp_path / "beside.wav"
        made = cli("narrate", str(short_script), "-o", str(out), "--data-dir", str(data_dir),
                   *DETERMINISTIC_FLAGS)
        assert made.returncode == 0, made.stderr.decode()
        assert out.stat().st_size > 44
        first.send_signal(signal.SIGKILL)  # the OS releases the lock even so
        first.wait(30)
    # Another studio, or this one once its server is gone, serves as before.
    with served(tmp_path / "other"), served(data_dir) as (_, again):
        assert httpx.get(again + "/api/jobs").status_code == 200
