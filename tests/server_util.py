"""A real uvicorn server on a free loopback port, in a thread, for the server tests."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
import uvicorn

from indextts_yt.server import create_app

WAV_HEADER = 44


class Running:
    def __init__(self, app, base: str) -> None:
        self.app = app
        self.base = base
        self.studio = app.state.studio
        self.http = httpx.Client(base_url=base, timeout=60)

    def job(self, job_id: str) -> dict:
        r = self.http.get(f"/api/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def create(self, text: str, **fields) -> dict:
        r = self.http.post("/api/jobs", json={"text": text, **fields})
        assert r.status_code == 201, r.text
        return r.json()

    def wait(self, job_id: str, pred, timeout: float = 120, what: str = "") -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if pred(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or pred}: {job}")
            time.sleep(0.05)

    def wait_done(self, job_id: str, timeout: float = 120) -> dict:
        job = self.wait(job_id, lambda j: j["state"] in ("done", "failed", "cancelled"), timeout,
                        "the job to finish")
        assert job["state"] == "done", job
        return job


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(data_dir: Path, **kwargs) -> Iterator[Running]:
    """Start the real app under uvicorn; on exit, stop it (as Ctrl-C would)."""
    app = create_app(data_dir, **kwargs)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    if kwargs.get("start_worker", True):
        assert app.state.studio.worker.wait_started(60)
    running = Running(app, f"http://127.0.0.1:{port}")
    try:
        yield running
    finally:
        running.http.close()
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "server did not stop"


@contextmanager
def served(data_dir: Path, preexec: Callable[[], None] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real `indextts-yt serve` process on ``data_dir``, stopped (as Ctrl-C) at the end.
    Its log goes to a file (a pipe nobody reads would block it once full)."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "indextts_yt", "serve", "--port", str(port),
                             "--data-dir", str(data_dir)], stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=preexec)
    base = f"http://127.0.0.1:{port}"

    def logged() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-4000:]

    try:
        deadline = time.monotonic() + 60
        while True:  # waiting for it to listen; the assertion only guards a broken start
            assert proc.poll() is None and time.monotonic() < deadline, logged()
            try:
                if httpx.get(base + "/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, base
    except BaseException:
        print(logged())
        raise
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        log.close()


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """(event, data) pairs from a streaming text/event-stream response."""
    event, data = None, []
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and event is not None:
            yield event, json.loads("\n".join(data))
            event, data = None, []


def decode(data: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(data), dtype="int16")
    return samples, rate


def assert_error(response: httpx.Response, status: int | tuple[int, ...]) -> str:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return body["error"]


def assert_openai_error(response: httpx.Response, status: int, param: str | None) -> str:
    """OpenAI's error object: {"error": {"message", "type", "param", "code"}}."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    error = body["error"]
    assert isinstance(error["message"], str) and error["message"], body
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error"), body
    assert error["param"] == param, body
    assert error["code"] is None or isinstance(error["code"], str), body
    return error["message"]
