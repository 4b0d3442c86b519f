"""Each request owns its database connections and closes them: many requests from many
threads leave the server process with no more open files than before."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from conftest import SHORT_SCRIPT
from indextts_yt.db import DB_NAME
from server_util import serve


def _fds() -> list[str]:
    """What this process (the test and the server in its thread) has open."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed while listing (the listing's own fd)
            pass
    return out


def _db_fds(data_dir: Path) -> int:
    db = str(data_dir / DB_NAME)
    return sum(1 for target in _fds() if target.startswith(db))  # the db, -wal and -shm


def _settled(limit: int, data_dir: Path) -> tuple[int, int]:
    """(open files, open database files), once the server has closed the sockets of a
    finished client (it does so a moment after the client closes them)."""
    deadline = time.monotonic() + 10
    while len(_fds()) > limit and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(_fds()), _db_fds(data_dir)


def test_requests_from_many_threads_leave_no_connection_open(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        job = srv.create(SHORT_SCRIPT, engine="piper")["id"]
        paths = ["/api/jobs", f"/api/jobs/{job}", f"/api/jobs/{job}/segments", "/api/queue",
                 "/api/presets", "/api/voices", "/api/clips", "/api/health",
                 "/api/jobs/20990101-000000-abcdef", "/api/presets/nothing-here",
                 f"/api/jobs/{job}/download"]
        expected = {"/api/jobs/20990101-000000-abcdef": 404, "/api/presets/nothing-here": 404,
                    f"/api/jobs/{job}/download": 409}

        def run(threads: int, requests: int) -> None:
            with httpx.Client(base_url=srv.base, timeout=60) as http, \
                    ThreadPoolExecutor(threads) as pool:
                def get(i: int) -> None:
                    path = paths[i % len(paths)]
                    r = http.get(path)
                    assert r.status_code == expected.get(path, 200), (path, r.text)
                list(pool.map(get, range(requests)))

        run(1, 2 * len(paths))  # lazy imports and caches, one thread
        files, db_files = _settled(10**6, data_dir)
        assert db_files == 0  # no worker here: no connection outlives its request

        run(16, 30 * len(paths))
        after, db_after = _settled(files, data_dir)
        assert db_after == 0
        assert after <= files, (files, after)


def test_a_stream_keeps_its_connection_until_the_client_leaves(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        job = srv.create(SHORT_SCRIPT, engine="piper")["id"]  # queued: its streams stay open
        assert _db_fds(data_dir) == 0
        with httpx.Client(base_url=srv.base, timeout=60) as http:
            with http.stream("GET", f"/api/jobs/{job}/events") as events, \
                    http.stream("GET", f"/api/jobs/{job}/audio") as audio:
                assert next(events.iter_lines()) == "event: snapshot"
                assert len(next(audio.iter_raw())) >= 44  # the WAV header
                assert _db_fds(data_dir) > 0  # each stream reads with its own Store
        deadline = time.monotonic() + 10
        while _db_fds(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _db_fds(data_dir) == 0
