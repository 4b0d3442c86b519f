"""Proofreading end to end, and the review workflow on top of it.

Real speech (piper), real faults (tests/faults.py, injected into the first take of chosen
segments by faulty_engines.FaultyPiper, which takes a seed so the studio retakes it), the
real checks with the offline Whisper models, the real runner and SQLite; review through the
real command line in a subprocess and the real HTTP server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DETERMINISTIC, as_made
from faults import FAULTS
from faulty_engines import FaultyPiper
from indextts_yt.engines import registry
from indextts_yt.jobs.plan import Choice, fingerprint, plan
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.state import JobState
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CheckSettings, JobSettings

TESTS = Path(__file__).resolve().parent
ENGINE = "piper-faults"

# One paragraph (one segment) per fault, and a clean one first; phrase -> fault.
PARAGRAPHS = {
    "clean": "Winnie the Pooh walked through the forest, humming a little song to himself.",
    "cut_clause": "Rabbit was busy in his garden, counting his carrots one by one, while the "
                  "sun climbed slowly over the tall trees behind the house.",
    "repeat_phrase": "Piglet had found a very small acorn near his door, and he wondered "
                     "whether it might grow into a great big oak one day.",
    "insert_silence": "Owl sat on a branch above the stream and told everyone who passed "
                      "about his uncle, who had once seen a real ship.",
    "cut_last_word": "Eeyore stood by the thistles and said that nobody ever remembered his "
                     "birthday, which was true most years.",
    "clip": "Kanga called for Roo to come home for his supper before the evening grew dark "
            "and cold.",
    "end_on_click": "Christopher Robin came down the hill with a long stick and a pot of "
                    "honey for the expedition.",
    "run_long": "Tigger bounced into the clearing and announced that tiggers like everything "
                "except honey and acorns.",
}
SCRIPT = "\n\n".join(PARAGRAPHS.values()) + "\n"
FAULT_OF = {text.split(",")[0]: name for name, text in PARAGRAPHS.items() if name != "clean"}


@pytest.fixture
def faulty_piper():
    registry.register_engine(ENGINE, registry.EngineEntry("faulty_engines", "FaultyPiper"))
    FaultyPiper.FAULTS = dict(FAULT_OF)
    yield
    FaultyPiper.FAULTS = {}
    registry._ENGINES.pop(ENGINE, None)
    registry._instances.pop(ENGINE, None)


def make_job(store: Store, out: Path, checks: CheckSettings, text: str = SCRIPT):
    options = dict(DETERMINISTIC)
    segments = plan(text, Choice(ENGINE), options)
    settings = JobSettings(engine=ENGINE, options=options, checks=checks)
    return store.create_job(title="faults", fingerprint=fingerprint(segments, {"o": str(out)}),
                            settings=as_made(settings), output_path=str(out), srt_path=None,
                            streaming=True, segments=segments)


def review_cli(data_dir: Path, *args: str, faults: dict | None = None
               ) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
           "INDEXTTS_YT_TEST_FAULTS": json.dumps(faults if faults is not None else FAULT_OF)}
    return subprocess.run([sys.executable, str(TESTS / "cli_with_test_engines.py"), "review",
                           *args, "--data-dir", str(data_dir)],
                          capture_output=True, timeout=300, env=env)


def test_every_fault_is_flagged_by_its_check_retaken_and_the_narration_is_clean(
        data_dir, tmp_path, faulty_piper):
    store = Store(data_dir)
    job = make_job(store, tmp_path / "out.wav", CheckSettings())  # the engine's default
    events = list(run_job(store, job.id))
    assert events[-1].kind == "finished", events[-1]

    segments = store.segments(job.id)
    assert [s.text for s in segments] == list(PARAGRAPHS.values())
    for seg, fault in zip(segments, PARAGRAPHS):
        takes = store.takes(job.id, seg.idx)
        if fault == "clean":
            assert [(t.take, t.status) for t in takes] == [(1, "ok")]
            continue
        first = takes[0].check
        failed = {v["name"] for v in first["verdicts"] if not v["ok"]}
        assert first["status"] == "flagged" and failed & set(FAULTS[fault].caught_by), \
            (fault, first["verdicts"])
        # A seeded engine is retaken by default; the next seed's take is clean and chosen.
        assert [(t.take, t.status) for t in takes] == [(1, "flagged"), (2, "ok")], fault
        assert seg.take == 2 and seg.audio_path == takes[1].audio_path
    report = store.get_job(job.id).report["checks"]
    assert report == {"checked": 8, "flagged": 7, "retaken": 7, "fixed": 7,
                      "still_flagged": 0, "not_checked": 0}
    flagged = [e for e in events if e.kind == "segment_checked" and e.status == "flagged"]
    assert sorted(e.index for e in flagged) == list(range(1, 8))


ONLY_CUT = {PARAGRAPHS["cut_clause"].split(",")[0]: "cut_clause"}
CALM = "The stream ran quietly under the old bridge all afternoon."


def _flagged_job(store: Store, tmp_path: Path) -> str:
    """Three segments, the second cut in its first take; checked, flagged, not retaken."""
    FaultyPiper.FAULTS = dict(ONLY_CUT)
    text = "\n\n".join([PARAGRAPHS["clean"], PARAGRAPHS["cut_clause"], CALM])
    job = make_job(store, tmp_path / "flagged.wav", CheckSettings(mode="flag"), text=text)
    assert list(run_job(store, job.id))[-1].kind == "finished"
    assert [s.take for s in store.segments(job.id)] == [1, 1, 1]
    return job.id


def _one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr.decode()
    assert all(w in lines[0] for w in words), lines[0]


def test_review_lists_what_needs_ears_and_its_actions_rerender_and_publish(
        data_dir, tmp_path, faulty_piper):
    store = Store(data_dir)
    job_id = _flagged_job(store, tmp_path)
    only_cut = ONLY_CUT

    listing = review_cli(data_dir, job_id, faults=only_cut)
    assert listing.returncode == 0, listing.stderr.decode()
    out = listing.stdout.decode()
    assert "#2 " in out and "#1 " not in out and "#3 " not in out  # only what needs ears
    assert "flagged" in out and "script: " in out and "[" in out  # missing words marked

    assert "1 flagged" in listing.stderr.decode()

    # One more take: rendered at once with the next seed (clean), chosen, published.
    published = os.stat(store.get_job(job_id).output_path).st_mtime_ns
    result = review_cli(data_dir, job_id, "--retake", "2", faults=only_cut)
    assert result.returncode == 0, result.stderr.decode()
    seg = store.segment(job_id, 1)
    takes = store.takes(job_id, 1)
    assert [(t.take, t.status, t.rejected) for t in takes] == [(1, "flagged", True),
                                                               (2, "ok", False)]
    assert seg.take == 2 and not seg.retake_asked
    assert store.get_job(job_id).state == JobState.DONE
    assert os.stat(store.get_job(job_id).output_path).st_mtime_ns != published

    # Pick the first take after all: it is used, and approved (a person listened).
    result = review_cli(data_dir, job_id, "--take", "2:1", "--json", faults=only_cut)
    assert result.returncode == 0, result.stderr.decode()
    review = json.loads(result.stdout)
    assert review["version"] == 1 and review["job"] == job_id
    rows = review["segments"]
    assert [r["status"] for r in rows] == ["ok", "approved", "ok"]
    assert rows[1]["take"] == 1 and rows[1]["approved"] and len(rows[1]["takes"]) == 2
    assert rows[1]["takes"][0]["diff"]["ops"] and rows[1]["takes"][0]["heard"]
    assert all(r["start_s"] is not None for r in rows)
    assert rows[0]["start_s"] == 0.0 and rows[1]["start_s"] < rows[2]["start_s"]
    assert review["counts"]["approved"] == 1
    assert store.segment(job_id, 1).take == 1

    # Edit a segment: rendered again from the new text, its takes replaced.
    result = review_cli(data_dir, job_id, "--edit", "3", "Rabbit made soup for everyone.",
                        faults=only_cut)
    assert result.returncode == 0, result.stderr.decode()
    seg = store.segment(job_id, 2)
    assert seg.text == "Rabbit made soup for everyone." and seg.has_valid_audio
    assert [t.take for t in store.takes(job_id, 2)] == [1]
    assert store.get_job(job_id).state == JobState.DONE


def test_review_refuses_bad_actions_in_one_line_and_stores_nothing(data_dir, tmp_path,
                                                                    faulty_piper):
    store = Store(data_dir)
    job_id = _flagged_job(store, tmp_path)
    before = [(s.approved, s.take, s.retake_asked) for s in store.segments(job_id)]

    _one_line_error(review_cli(data_dir, job_id, "--approve", "9"), "no segment 9")
    _one_line_error(review_cli(data_dir, job_id, "--approve", "0"), "no segment 0")
    _one_line_error(review_cli(data_dir, job_id, "--take", "2:5"), "no take 5")
    _one_line_error(review_cli(data_dir, job_id, "--take", "two"), "N:K")
    # The first action is fine, the second is not: neither is applied.
    _one_line_error(review_cli(data_dir, job_id, "--approve", "1", "--take", "2:9"), "take 9")
    _one_line_error(review_cli(data_dir, job_id, "--edit", "2", "   "), "empty")
    _one_line_error(review_cli(data_dir, "20990101-000000-abcdef"), "no job")
    assert [(s.approved, s.take, s.retake_asked) for s in store.segments(job_id)] == before
    assert store.get_job(job_id).state == JobState.DONE

    # A deterministic engine says the same again: a retake is refused, an edit is the way.
    segments = plan(PARAGRAPHS["clean"], Choice("piper"), DETERMINISTIC)
    plain = store.create_job(
        title="p", fingerprint=fingerprint(segments, {"o": "p"}),
        settings=as_made(JobSettings(engine="piper", options=DETERMINISTIC)),
        output_path=str(tmp_path / "p.wav"), srt_path=None, streaming=True, segments=segments)
    assert list(run_job(store, plain.id))[-1].kind == "finished"
    _one_line_error(review_cli(data_dir, plain.id, "--retake", "1"), "piper", "edit")

    store.transition(job_id, JobState.CANCELLED, from_states=[JobState.DONE])
    _one_line_error(review_cli(data_dir, job_id, "--approve", "1"), "cancelled")


def test_review_through_the_api_approve_retake_choose_and_refusals(data_dir, tmp_path,
                                                                   faulty_piper):
    from server_util import serve

    store = Store(data_dir)
    job_id = _flagged_job(store, tmp_path)
    seg = f"/api/jobs/{job_id}/segments"
    with serve(data_dir) as srv:
        http = srv.http
        review = http.get(f"/api/jobs/{job_id}/review").json()
        assert review["counts"] == {"ok": 2, "flagged": 1, "not_checked": 0, "approved": 0,
                                    "unchecked": 0}
        take = review["segments"][1]["takes"][0]
        assert take["status"] == "flagged" and take["heard"]
        assert any(op["kind"] != "equal" for op in take["diff"]["ops"])

        r = http.post(f"{seg}/0/approve")
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text
        assert http.get(f"/api/jobs/{job_id}").json()["state"] == "done"  # no audio changed
        r = http.post(f"{seg}/0/approve", json={"approved": False})
        assert r.json()["approved"] is False and r.json()["status"] == "ok"

        # One more take: the worker renders it (the next seed is clean) and publishes again.
        r = http.post(f"{seg}/1/retake")
        assert r.status_code == 200 and r.json()["retake_asked"], r.text
        srv.wait_done(job_id)
        s1 = http.get(seg).json()[1]
        assert (s1["take"], s1["status"], s1["retake_asked"]) == (2, "ok", False)
        assert [(t["take"], t["rejected"]) for t in s1["takes"]] == [(1, True), (2, False)]
        audio = http.get(f"{seg}/1/takes/1/audio")
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"

        # Take 1 after all: used, approved, the narration rebuilt.
        r = http.post(f"{seg}/1/takes/1/choose")
        assert r.status_code == 200 and (r.json()["take"], r.json()["approved"]) == (1, True)
        srv.wait_done(job_id)
        assert store.segment(job_id, 1).take == 1

        # Refusals: JSON, 4xx, nothing changed.
        before = [(s.approved, s.take, s.retake_asked) for s in store.segments(job_id)]
        for method, path, status in (("post", f"{seg}/9/approve", 404),
                                     ("post", f"{seg}/1/takes/7/choose", 404),
                                     ("get", f"{seg}/1/takes/7/audio", 404),
                                     ("post", f"{seg}/{2**70}/retake", 404),
                                     ("get", "/api/jobs/not-a-job/review", 404)):
            r = getattr(http, method)(path)
            assert r.status_code == status and "error" in r.json(), (path, r.text)
        r = http.post(f"{seg}/0/approve", json={"approved": "yes please"})
        assert r.status_code == 422
        assert [(s.approved, s.take, s.retake_asked) for s in store.segments(job_id)] == before

        http.post(f"/api/jobs/{job_id}/cancel")  # done: cancel is refused, so force it
        store.transition(job_id, JobState.CANCELLED, from_states=[JobState.DONE])
        r = http.post(f"{seg}/0/approve")
        assert r.status_code == 409 and "cancelled" in r.json()["error"]


def test_narrate_says_what_proofreading_found_and_refuses_an_unknown_asr_model(
        data_dir, tmp_path, short_script):
    from conftest import DETERMINISTIC_FLAGS, cli

    out = tmp_path / "out.wav"
    result = cli("narrate", str(short_script), "-o", str(out), *DETERMINISTIC_FLAGS,
                 "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr.decode()
    last = result.stderr.decode().strip().splitlines()[-1]
    job = Store(data_dir).list_jobs()[0]
    checks = job.report["checks"]  # piper is checked (flagged only) by default
    assert checks["checked"] == len(Store(data_dir).segments(job.id))
    assert last.strip().startswith(f"checks: {checks['checked']} checked, "
                                   f"{checks['flagged']} flagged"), last

    for bad, words in (("no-such-model", "no-such-model"),
                       (str(tmp_path / "nowhere"), "does not exist")):
        result = cli("narrate", str(short_script), "-o", str(tmp_path / "x.wav"),
                     "--asr-model", bad, "--data-dir", str(data_dir))
        lines = result.stderr.decode().strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and words in lines[0], lines
    assert len(Store(data_dir).list_jobs()) == 1  # nothing stored
