"""The server's limits: request bodies, segment indices, one server per studio, what a job's
answer reveals about the server's disk."""

from __future__ import annotations

import http.client
import json
import select
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from conftest import DETERMINISTIC, DETERMINISTIC_FLAGS, SHORT_SCRIPT, cli
from indextts_yt.server.limits import limit_for
from server_util import assert_error, free_port, serve, served
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


def _chunked_upload(port: int, method: str, path: str, content_type: str, total: int,
                    prefix: bytes = b"") -> tuple[int, dict, int]:
    """Send ``prefix`` and then ``total`` bytes as a chunked body, 64 KB a chunk, until the
    server answers or hangs up; (status, JSON body, bytes the client managed to send)."""
    chunk = b"x" * (64 * 1024)
    sock = socket.create_connection(("127.0.0.1", port))
    sent = 0
    try:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     f"{content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        try:
            if prefix:
                sock.sendall(b"%x\r\n%b\r\n" % (len(prefix), prefix))
            while sent < total and not select.select([sock], [], [], 0)[0]:  # no answer yet
                sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading, and says why (below)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read()), sent
    finally:
        sock.close()


def _kernel_buffers() -> int:
    """The most a TCP connection's send and receive buffers hold (what a client can have
    sent that the server never read)."""
    return sum(int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])
               for name in ("tcp_wmem", "tcp_rmem"))


_FILE_PART = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n'
              b"Content-Type: application/octet-stream\r\n\r\n")
_MULTIPART = "multipart/form-data; boundary=B"
_JSON = "application/json"


def _message(path: str, body: dict) -> str:
    """The error's text: OpenAI's error object on /v1, ``{"error": "..."}`` elsewhere."""
    if path.startswith("/v1/"):
        assert set(body["error"]) == {"message", "type", "param", "code"}, body
        return body["error"]["message"]
    return body["error"]


def test_every_body_is_cut_off_at_its_routes_limit(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        job = srv.create(SHORT_SCRIPT, engine="piper")["id"]
        port = int(srv.base.rsplit(":", 1)[1])
        # (method, path, content type, the route's own message, or None: the table's)
        routes = [
            ("POST", "/v1/audio/speech", _JSON, None),
            ("POST", "/api/preview", _JSON, None),
            ("POST", "/api/presets", _JSON, None),
            ("PATCH", f"/api/jobs/{job}/segments/1", _JSON, None),
            ("POST", f"/api/jobs/{job}/move", _JSON, None),
            ("POST", "/api/clips/0123456789abcdef/preload", _JSON, None),
            ("PATCH", "/api/voices/some-voice", _JSON, None),
            ("POST", "/api/jobs", _JSON, "5 MB script limit"),
            ("POST", "/api/jobs", _MULTIPART, "5 MB script limit"),
            ("POST", "/api/batches", _JSON, "5 MB script limit"),
            ("POST", "/api/batches", _MULTIPART, "5 MB script limit"),
            ("POST", "/api/clips", _MULTIPART, "limited to 20 MB"),
            ("POST", "/api/voices", _MULTIPART, "limited to 20 MB"),
            ("POST", "/api/voices/import", _MULTIPART, "limited to 20 MB"),
            ("POST", "/api/presets/import", _JSON, "at most 64 KB"),
            ("POST", "/api/presets/import", _MULTIPART, "at most 64 KB"),
        ]
        buffers = _kernel_buffers()
        for method, path, ctype, own_message in routes:
            limit = limit_for(method, path)
            total = limit + buffers + 64 * 1024 * 1024
            prefix = _FILE_PART if ctype == _MULTIPART else b""
            status, body, sent = _chunked_upload(port, method, path, ctype, total, prefix)
            where = (method, path, ctype, body, sent)
            assert status == 413 and set(body) == {"error"}, where
            # the routes with their own, tighter cap still say so
            assert (own_message or "this route's") in _message(path, body), where
            # it stopped reading at the limit: the client sent at most what the kernel's
            # buffers took beyond it, and was far from the end
            assert sent <= limit + buffers, where

            # a declared length over the limit is refused before the body is read
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                             f"{ctype}\r\nContent-Length: {limit + 1}\r\n\r\n".encode())
                response = http.client.HTTPResponse(sock)
                response.begin()
                assert response.status == 413, where
                assert "this route's" in _message(path, json.loads(response.read())), where
        # the server is fine afterwards
        assert srv.http.get(f"/api/jobs/{job}").status_code == 200
