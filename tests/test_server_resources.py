"""Each request owns its database connections and closes them: many requests from many
threads leave the server process with no more open files than before."""

from __future__ import annotations

import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from conftest import SHORT_SCRIPT
from indextts_yt.db import DB_NAME
from server_util import serve, served


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
                # Keep the iterators: a discarded one closes its connection (httpx closes
                # the stream when its generator is collected), and the server then rightly
                # closes the stream's Store.
                lines, raw = events.iter_lines(), audio.iter_raw()
                assert next(lines) == "event: snapshot"
                assert len(next(raw)) >= 44  # the WAV header
                assert _db_fds(data_dir) > 0  # each stream reads with its own Store
        deadline = time.monotonic() + 10
        while _db_fds(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _db_fds(data_dir) == 0


def _open_files(pid: int) -> list[str]:
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:  # closed while listing
            pass
    return out


def _low_fd_limit() -> None:  # in the server's process, before it starts
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


def test_bursts_of_new_threads_leave_a_real_server_no_more_open_files(data_dir):
    """`indextts-yt serve` under a 256-file limit: bursts of requests, each from a thread of
    its own, all succeed and leave the process no more open files than before (a connection
    cached per pool thread stayed open with its thread, and grew until EMFILE).

    One exception, bounded: SQLite does not close a closed connection's database file while
    another connection of the process (the worker's) holds a lock on it, since that would drop
    the lock; it keeps the descriptor for the next connection to reuse. So those can number
    at most the connections once open at the same time: one burst's requests."""
    burst_size = 40
    with served(data_dir, _low_fd_limit) as (proc, base):
        with httpx.Client(base_url=base, timeout=60) as http:
            job = http.post("/api/jobs", json={"text": SHORT_SCRIPT, "engine": "piper"}).json()
            deadline = time.monotonic() + 120
            while http.get(f"/api/jobs/{job['id']}").json()["state"] != "done":
                assert time.monotonic() < deadline, "the job did not finish"
                time.sleep(0.1)
            for _ in range(3):
                assert http.get("/api/jobs").status_code == 200
        db = str(data_dir / DB_NAME)

        def split() -> tuple[int, list[str]]:
            """(database files, everything else open: sockets, -wal, -shm, the lock...)."""
            files = _open_files(proc.pid)
            return sum(1 for f in files if f == db), [f for f in files if f != db]

        def settled(limit: int) -> tuple[int, list[str]]:
            """As split(), once the server has closed the finished clients' sockets (a
            moment after each client closes its own)."""
            deadline = time.monotonic() + 60
            while len(split()[1]) > limit and time.monotonic() < deadline:
                time.sleep(0.05)
            return split()

        db_files, others = settled(10**6)
        for burst in range(12):
            statuses: list[int] = []

            def get() -> None:
                statuses.append(httpx.get(base + "/api/jobs", timeout=60).status_code)

            threads = [threading.Thread(target=get) for _ in range(burst_size)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert statuses == [200] * burst_size, (burst, statuses)
            db_now, others_now = settled(len(others))
            assert len(others_now) <= len(others), (burst, others, others_now)
            assert db_now <= db_files + burst_size, (burst, db_files, db_now)
