"""Bad input is a 4xx with a JSON error and never disturbs a running job; the API key, the
Host and Origin checks; the CLI refuses to expose the studio without a key."""

from __future__ import annotations

import json

import pytest

from conftest import SHORT_SCRIPT, cli, pooh_paragraphs
from indextts_yt.script_input import MAX_SCRIPT_BYTES
from server_util import assert_error, serve


def test_bad_requests_are_4xx_json_and_leave_a_running_job_alone(data_dir):
    with serve(data_dir) as srv:
        job = srv.create(pooh_paragraphs(600), max_chars=100)
        srv.wait(job["id"], lambda j: j["state"] == "running", what="the job to start")
        jid = job["id"]
        post = srv.http.post
        cases = [
            # downloads of a job still running (first, while it surely is)
            (srv.http.get(f"/api/jobs/{jid}/download"), 409, "running"),
            (srv.http.get(f"/api/jobs/{jid}/subtitles.srt"), 409, "running"),
            # empty, blank, too large
            (post("/api/jobs", json={"text": ""}), 400, "empty"),
            (post("/api/jobs", json={"text": " \n\t "}), 400, "empty"),
            (post("/api/jobs", json={"text": "# \n\n<!-- -->"}), 400, "empty"),
            (post("/api/jobs", json={"title": "no text"}), 400, "text"),
            (post("/api/jobs", json={"text": "a" * (MAX_SCRIPT_BYTES + 1)}), 413, "limit"),
            (post("/api/jobs", content=b"x" * (2 * MAX_SCRIPT_BYTES + 300_000),
                  headers={"content-type": "application/json"}), 413, "limit"),
            # unknown engine or voice
            (post("/api/jobs", json={"text": "Hello.", "engine": "nope"}), 400, "unknown engine"),
            (post("/api/jobs", json={"text": "Hello.", "voice": "nobody"}), 400, "unknown voice"),
            (post("/api/jobs", json={"text": "Hello.", "engine": "piper", "voice": "cmn"}), 400,
             "unknown voice"),
            # malformed settings
            (post("/api/jobs", json={"text": "Hello.", "options": {"speed": 9}}), 400, "speed"),
            (post("/api/jobs", json={"text": "Hello.", "options": {"loudness": 1}}), 400,
             "loudness"),
            # Options may be text (emotion, clip ids), so a word for a number is the engine's
            # refusal, naming the setting.
            (post("/api/jobs", json={"text": "Hello.", "options": {"speed": "fast"}}), 400,
             "'speed' must be a number"),
            (post("/api/jobs", json={"text": "Hello.", "options": [1, 2]}), 422, "options"),
            (post("/api/jobs", json={"text": "Hello.", "pauses": {"sentence": -1}}), 422,
             "sentence"),
            (post("/api/jobs", json={"text": "Hello.", "pauses": {"sentense": 1}}), 422,
             "sentense"),
            (post("/api/jobs", json={"text": "Hello.", "max_chars": 5}), 422, "max_chars"),
            (post("/api/jobs", json={"text": "Hello.", "colour": "blue"}), 422, "colour"),
            (post("/api/jobs", content=b"{not json", headers={"content-type": "application/json"}),
             400, "JSON"),
            (post("/api/jobs", json=["a list"]), 400, "object"),
            (post("/api/jobs", content=b"text", headers={"content-type": "text/plain"}), 415,
             "multipart"),
            # uploads that are not text scripts
            (post("/api/jobs", files={"file": ("movie.mp4", b"\x00\x00\x00 ftypisom")}), 415,
             ".txt"),
            (post("/api/jobs", files={"file": ("script.txt", b"\x00\x01\x02binary")}), 400,
             "binary"),
            (post("/api/jobs", files={"file": ("script.md", "héllo".encode("latin-1"))}), 400,
             "UTF-8"),
            (post("/api/jobs", files={"file": ("empty.txt", b"   ")}), 400, "empty"),
            (post("/api/jobs", files={"file": ("s.txt", b"Hi there.")}, data={"options": "{"}),
             400, "options"),
            (post("/api/jobs", files={"file": ("s.txt", b"Hi there.")}, data={"colour": "x"}),
             400, "colour"),
            (post("/api/jobs", files={"file": ("big.txt", b"a" * (MAX_SCRIPT_BYTES + 1))}), 413,
             "limit"),
            # missing jobs and segments
            (srv.http.get("/api/jobs/20200101-000000-abcdef"), 404, "no job"),
            (srv.http.get("/api/jobs/../../etc/passwd"), 404, ""),
            (srv.http.get("/api/jobs/%2e%2e%2fstudio.sqlite3/download"), 404, ""),
            (srv.http.post("/api/jobs/20200101-000000-abcdef/pause"), 404, "no job"),
            (srv.http.delete("/api/jobs/20200101-000000-abcdef"), 404, "no job"),
            (srv.http.get("/api/jobs/20200101-000000-abcdef/events"), 404, "no job"),
            (srv.http.get("/api/jobs/20200101-000000-abcdef/audio"), 404, "no job"),
            (srv.http.get("/api/jobs/20200101-000000-abcdef/segments"), 404, "no job"),
            (srv.http.get("/api/jobs/nonsense/subtitles.srt"), 404, "no job"),
            (srv.http.get(f"/api/jobs/{jid}/segments/999/audio"), 404, "no segment"),
            (srv.http.patch(f"/api/jobs/{jid}/segments/999", json={"text": "x y z"}), 404,
             "no segment"),
            (srv.http.patch(f"/api/jobs/{jid}/segments/0", json={"text": "  "}), 400, "empty"),
            (srv.http.patch(f"/api/jobs/{jid}/segments/0", json={"options": {"speed": 0}}), 400,
             "speed"),
            (srv.http.patch(f"/api/jobs/{jid}/segments/0", json={"txt": "typo"}), 422, "txt"),
            (srv.http.get("/api/nothing-here"), 404, ""),
            (post("/api/preview", json={"text": ""}), 400, "empty"),
            (post("/api/preview", json={"text": "Hi.", "engine": "nope"}), 400, "unknown engine"),
        ]
        for response, status, words in cases:
            message = assert_error(response, status)
            assert words.lower() in message.lower(), (response.request.url, message)

        # The job ran on, undisturbed, to the end.
        final = srv.wait_done(jid)
        assert final["done"] == final["total"] and final["error"] is None
        segs = srv.http.get(f"/api/jobs/{jid}/segments").json()
        assert all(s["state"] == "done" for s in segs)


def test_api_key_is_required_on_every_route_but_health(data_dir):
    key = "s3cret-key"
    with serve(data_dir, api_key=key, start_worker=False) as srv:
        http = srv.http
        assert http.get("/api/health").status_code == 200
        for method, path in [("GET", "/api/jobs"), ("GET", "/api/engines"), ("POST", "/api/jobs"),
                             ("GET", "/"), ("GET", "/docs"), ("GET", "/openapi.json"),
                             ("POST", "/v1/audio/speech"), ("GET", "/api/jobs/x/audio")]:
            response = http.request(method, path)
            if path.startswith("/v1/"):  # OpenAI's error object there (issue #14)
                assert response.status_code == 401
                assert response.json()["error"]["type"] == "authentication_error", response.text
            else:
                assert_error(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
        assert_error(http.get("/api/jobs", headers={"Authorization": "Bearer wrong"}), 401)
        assert_error(http.get("/api/jobs", params={"key": "wrong"}), 401)

        assert http.get("/api/jobs", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert http.get("/api/jobs", headers={"X-API-Key": key}).status_code == 200
        made = http.post("/api/jobs", json={"text": SHORT_SCRIPT}, headers={"X-API-Key": key})
        assert made.status_code == 201
        # A browser opens the UI with ?key=; the cookie it gets covers its scripts and <audio>.
        page = http.get("/", params={"key": key})
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert http.get("/api/jobs").status_code == 200  # httpx kept the cookie
        assert http.get(f"/api/jobs/{made.json()['id']}").status_code == 200


def test_loopback_default_checks_host_and_origin(data_dir):
    with serve(data_dir, start_worker=False,
               allowed_hosts=("localhost", "127.0.0.1", "::1")) as srv:
        assert srv.http.get("/api/jobs").status_code == 200
        assert srv.http.get("/api/jobs", headers={"Host": "localhost:8765"}).status_code == 200
        # DNS rebinding: a hostile name pointed at 127.0.0.1.
        assert_error(srv.http.get("/api/jobs", headers={"Host": "evil.example:8765"}), 403)
        # Another site's page posting to the studio.
        r = srv.http.post("/api/jobs", json={"text": "Hello."},
                          headers={"Origin": "http://evil.example"})
        assert_error(r, 403)
        r = srv.http.post("/api/jobs", json={"text": "Hello."},
                          headers={"Origin": srv.base})
        assert r.status_code == 201


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_cli_refuses_a_non_loopback_address_without_a_key(host, data_dir):
    result = cli("serve", "--host", host, "--data-dir", str(data_dir), timeout=60,
                 env={"INDEXTTS_YT_API_KEY": ""})
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "without an API key" in lines[0], lines


def test_openapi_documents_the_api(data_dir):
    with serve(data_dir, start_worker=False) as srv:
        doc = srv.http.get("/openapi.json").json()
        paths = set(doc["paths"])
        assert {"/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/events",
                "/api/jobs/{job_id}/audio", "/api/jobs/{job_id}/segments/{index}",
                "/v1/audio/speech", "/api/engines", "/api/preview"} <= paths
        body = doc["paths"]["/api/jobs"]["post"]["requestBody"]["content"]
        assert {"application/json", "multipart/form-data"} <= set(body)
        assert "text/html" in srv.http.get("/docs").headers["content-type"]
        json.dumps(doc)
