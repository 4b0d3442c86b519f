"""Publishing a narration: the real CLI makes an encoded file, mastered WAV, subtitles and
chapters; everything is read back with independent tools (pyloudnorm, soxr, PyAV, srt,
webvtt-py) and checked against the segments it came from."""

from __future__ import annotations

import io
import json

import av
import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import soxr
import srt
import webvtt

from indextts_yt.audio import PauseSettings
from indextts_yt.audio.trim import trimmed_bounds
from indextts_yt.jobs.store import Store

from conftest import DETERMINISTIC_FLAGS, cli

STORY = """# Introduction

It was a bright cold day in April. The clocks were striking thirteen, and the narrator
cleared his throat before he began to read the long story to the small crowd.

# The Middle

Nothing happened for a long while, and then, quite suddenly, everything happened at once:
the doors flew open, the lights went out, and somebody laughed in the dark.

# The End

And that was that.
"""


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """One narration to MP3 with SRT, VTT and a chapter list, at the default -16 LUFS."""
    folder = tmp_path_factory.mktemp("story")
    script = folder / "story.md"
    script.write_text(STORY, encoding="utf-8")
    data = folder / "data"
    files = {k: folder / f"story.{k}" for k in ("mp3", "srt", "vtt")}
    files["chapters"] = folder / "chapters.txt"
    result = cli("narrate", str(script), "-o", str(files["mp3"]), "--srt", str(files["srt"]),
                 "--vtt", str(files["vtt"]), "--chapters", str(files["chapters"]),
                 *DETERMINISTIC_FLAGS,  # cue lengths and levels not drawn at random
                 "--data-dir", str(data))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    store = Store(data)
    (job,) = store.list_jobs()
    return {"files": files, "job": job, "segments": store.segments(job.id),
            "stderr": result.stderr.decode()}


def true_peak_dbtp(audio: np.ndarray, rate: int) -> float:
    """BS.1770-style true peak: the peak of the signal oversampled 4x."""
    up = soxr.resample(audio.astype(np.float64), rate, rate * 4, quality="VHQ")
    return 20 * np.log10(max(np.abs(up).max(), np.abs(audio).max()))


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def test_mastered_to_the_target_with_peaks_under_the_ceiling(story):
    audio, rate = sf.read(story["job"].output_path, dtype="float64")
    loudness = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert loudness == pytest.approx(-16.0, abs=1.0)
    assert true_peak_dbtp(audio, rate) <= -1.0 + 0.1
    report = story["job"].report
    assert report["loudness"]["integrated_lufs"] == pytest.approx(loudness, abs=0.3)
    assert "loudness -1" in story["stderr"] and "dBTP" in story["stderr"]


def test_sentences_are_evened_out(story):
    """No segment jumps out: the spoken segments of the mastered WAV sit within a few LU."""
    audio, rate = sf.read(story["job"].output_path, dtype="float64")
    meter = pyloudnorm.Meter(rate)
    cues = list(srt.parse(story["files"]["srt"].read_text()))
    # each sentence-long cue group: measure every cue of 2 s or more
    levels = [meter.integrated_loudness(audio[int(c.start.total_seconds() * rate):
                                              int(c.end.total_seconds() * rate)])
              for c in cues if (c.end - c.start).total_seconds() >= 2.0]
    assert len(levels) >= 3
    assert max(levels) - min(levels) < 4.0


def test_encoded_file_matches_the_wav_and_carries_the_chapters(story):
    wav, rate = sf.read(story["job"].output_path, dtype="float32")
    with av.open(str(story["files"]["mp3"])) as container:
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
        chapters = container.chapters()
        decoded_rate = container.streams.audio[0].sample_rate
    assert decoded_rate == rate
    assert abs(len(decoded) - len(wav)) / rate < 0.08  # encoder padding only
    titles = [c["metadata"]["title"] for c in chapters]
    assert titles == ["Introduction", "The Middle", "The End"]
    listed = story["files"]["chapters"].read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in listed] == titles
    assert listed[0].startswith("00:00 ")
    for chapter, line in zip(chapters, listed):
        start = chapter["start"] * chapter["time_base"]
        minutes, seconds = line.split(" ", 1)[0].split(":")
        assert int(minutes) * 60 + int(seconds) == int(start)


def test_subtitles_are_readable_and_tile_the_speech(story):
    srt_cues = list(srt.parse(story["files"]["srt"].read_text()))
    vtt_cues = list(webvtt.read(str(story["files"]["vtt"])))
    assert len(srt_cues) == len(vtt_cues) > len(story["segments"])  # long segments were split
    duration = story["job"].report["duration_s"]
    previous_end = 0.0
    for cue, vcue in zip(srt_cues, vtt_cues):
        start, end = cue.start.total_seconds(), cue.end.total_seconds()
        assert previous_end - 1e-3 <= start < end <= duration + 1e-3
        assert end - start <= 7.0 + 1e-3
        lines = cue.content.split("\n")
        assert len(lines) <= 2 and all(len(line) <= 42 for line in lines)
        assert seconds(vcue.start) == pytest.approx(start, abs=1e-3)
        assert seconds(vcue.end) == pytest.approx(end, abs=1e-3)
        assert vcue.text == cue.content
        previous_end = end
    spoken = " ".join(" ".join(c.content.split()) for c in srt_cues)
    assert spoken == " ".join(" ".join(s.text.split()) for s in story["segments"])
    assert srt_cues[0].start.total_seconds() == 0.0


def test_trimmed_segments_leave_exactly_the_pauses_set(tmp_path):
    script = tmp_path / "s.md"
    script.write_text("One sentence here.\n\nAnother one after a paragraph.\n\nThe last.",
                      encoding="utf-8")
    out, data = tmp_path / "s.wav", tmp_path / "data"
    result = cli("narrate", str(script), "-o", str(out), "--loudness", "off",
                 "--paragraph-pause", "0.5", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    store = Store(data)
    (job,) = store.list_jobs()
    segments = store.segments(job.id)
    kept = 0
    for seg in segments:
        audio, rate = sf.read(seg.audio_path, dtype="float32")
        start, end = trimmed_bounds(audio, rate)
        assert end - start < len(audio)  # the engine's padding was there, and is cut
        kept += end - start
    pauses = PauseSettings(paragraph=0.5)
    expected = kept / rate + sum(pauses.seconds(s.pause_after) for s in segments[:-1])
    assert sf.info(out).duration == pytest.approx(expected, abs=0.002)


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/x.xyz"], "must end in"),
    (["-o", "{tmp}/x.mp3", "--bitrate", "5k"], "bit rate"),
    (["-o", "{tmp}/x.mp3", "--format", "flac"], "flac"),
    (["-o", "{tmp}/x.flac", "--bitrate", "96k"], "lossless"),
    (["-o", "{tmp}/x.wav", "--loudness", "loud"], "loudness target"),
    (["-o", "{tmp}/x.wav", "--loudness", "16"], "did you mean -16"),
    (["-o", "{tmp}/x.wav", "--vtt", "{tmp}/x.srt"], "must end in .vtt"),
    (["-o", "/nonexistent-dir/x.mp3"], "does not exist"),
])
def test_bad_output_choices_fail_before_any_work(tmp_path, short_script, data_dir, args,
                                                 message):
    args = [a.format(tmp=tmp_path) for a in args]
    result = cli("narrate", str(short_script), *args, "--data-dir", str(data_dir))
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, lines
    assert message in lines[0], lines[0]
    assert json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout) == []
    assert not list(tmp_path.glob("x.*"))


def test_the_server_publishes_the_chosen_format(data_dir):
    from server_util import serve

    with serve(data_dir) as srv:
        job = srv.create(STORY, format="aac", loudness="youtube")
        done = srv.wait_done(job["id"])
        assert done["report"]["target_lufs"] == -14.0 and "aac" in done["report"]["format"]
        m4a = srv.http.get(f"/api/jobs/{job['id']}/download", params={"format": "m4a"})
        assert m4a.status_code == 200 and m4a.headers["content-type"] == "audio/mp4"
        with av.open(io.BytesIO(m4a.content)) as container:
            assert [c["metadata"]["title"] for c in container.chapters()] == [
                "Introduction", "The Middle", "The End"]
        listed = srv.http.get(f"/api/jobs/{job['id']}/chapters.txt").text
        assert listed.startswith("00:00 Introduction")
        assert srv.http.get(f"/api/jobs/{job['id']}/download",
                            params={"format": "mp3"}).status_code == 404
        bad = srv.http.post("/api/jobs", json={"text": "Hi.", "format": "wma"})
        assert bad.status_code == 400 and "wma" in bad.json()["error"]


def test_a_failed_publish_keeps_every_segment_and_resumes(tmp_path, data_dir):
    """The output cannot be written (its folder vanished): the job fails with the reason,
    no segment is lost, and `resume` writes the output once the folder is back."""
    script = tmp_path / "s.md"
    script.write_text("One sentence.\n\nAnother sentence.", encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "s.mp3"
    from indextts_yt.jobs import service
    from indextts_yt.jobs.runner import run_job

    store = Store(data_dir)
    from indextts_yt.settings import JobFiles, JobSettings

    request = service.JobRequest(text=script.read_text(), settings=JobSettings().checked(out),
                                 files=JobFiles(file=str(out)))
    job, _ = service.create_job(store, request, origin="cli")
    folder.rmdir()
    events = list(run_job(store, job.id))
    assert events[-1].state == "failed" and "writing the output failed" in events[-1].error
    assert all(s.has_valid_audio for s in store.segments(job.id))
    folder.mkdir()
    events = list(run_job(store, job.id))
    assert events[-1].kind == "finished" and out.exists()
    assert all(e.kind != "segment_started" for e in events)  # nothing was re-rendered
