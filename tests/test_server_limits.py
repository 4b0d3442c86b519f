"""The server's limits: request bodies, segment indices, one server per studio, what a job's
answer reveals about the server's disk, and open files under many requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conftest import DETERMINISTIC, SHORT_SCRIPT
from server_util import assert_error, serve

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
