"""Automatic dialogue: quotes to the characters their attributions name (text/dialogue.py,
jobs/plan.py with settings.DialogueSettings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DETERMINISTIC, DETERMINISTIC_FLAGS, cli
from indextts_yt.errors import InputError
from indextts_yt.jobs.plan import Choice, describe, plan
from indextts_yt.settings import CastMember, DialogueSettings, JobSettings, StoredJob
from indextts_yt.text.dialogue import quotes, split

CAST = {"Pooh": CastMember(voice="espeak:en-gb"), "Piglet": CastMember(voice="espeak:en-us")}
BOOK = Path("/work/shared/texts/winnie-the-pooh.txt")


def pooh_passage() -> str:
    """From "Hallo!" said Piglet to the Woozle: quotes, said Pooh/Piglet, apostrophes."""
    if not BOOK.exists():
        pytest.skip(f"{BOOK} is not here")
    text = BOOK.read_text(encoding="utf-8").replace("\r\n", "\n")
    start = text.index('"Hallo!" said Piglet')
    return text[start:text.index("With these few words", start)]


def who(script: str, dialogue: DialogueSettings | None, cast=CAST) -> list[tuple]:
    rows = describe(plan(script, Choice("piper"), DETERMINISTIC, None, None, cast,
                         dialogue=dialogue))
    return [(r["text"], r["speaker"], f"{r['engine']}:{r['voice']}") for r in rows]


def test_the_pooh_passage_gives_quotes_to_their_speakers_and_narration_to_the_narrator():
    rows = who(pooh_passage(), DialogueSettings(voice="espeak:fr"))
    said = {text: (speaker, voice) for text, speaker, voice in rows}
    assert said['"Hallo!"'] == ("Piglet", "espeak:en-us")
    assert said['"what are you doing?"'] == ("Piglet", "espeak:en-us")  # said Piglet, "..."
    assert said['"Hunting,"'] == ("Pooh", "espeak:en-gb")
    # "said Winnie-the-Pooh" is Pooh's too
    assert said['"Tracking something,"'] == ("Pooh", "espeak:en-gb")
    # A paragraph's other quotes are its one speaker's.
    assert said['"Paw-marks."'] == ("Piglet", "espeak:en-us")
    # Unattributed: the dialogue voice (eSpeak's fr speaks no English: its en-us reads it)
    assert said['"Hunting what?"'][0] is None
    assert said['"Hunting what?"'][1].startswith("espeak:")
    # The narration stays the narrator's, attribution and all.
    assert said["said Pooh."] == (None, "piper:joe")
    assert said["said Winnie-the-Pooh very mysteriously."] == (None, "piper:joe")
    # Segments never mix voices: no segment holds a quote and narration.
    for text, speaker, voice in rows:
        if text.startswith('"'):
            assert text.endswith('"') and voice.startswith("espeak:"), text
        else:
            assert '"' not in text and voice == "piper:joe", text


def test_without_a_dialogue_voice_unknown_quotes_stay_the_narrators():
    rows = who('"Hunting," said Pooh.\n\n"Hunting what?"\n', DialogueSettings())
    assert rows == [('"Hunting,"', "Pooh", "espeak:en-gb"),
                    ("said Pooh.", None, "piper:joe"),
                    ('"Hunting what?"', None, "piper:joe")]
    # A cast name as the dialogue voice; attribution off: every quote is its.
    rows = who('"Hunting," said Pooh.', DialogueSettings(voice="piglet", attribution=False))
    assert rows[0] == ('"Hunting,"', "Piglet", "espeak:en-us")
    # Off (no dialogue setting): as before.
    assert who('"Hunting," said Pooh.', None) == [('"Hunting," said Pooh.', None, "piper:joe")]


def test_apostrophes_never_open_a_quote():
    text = "Pooh's honey, don't you think? The bears' den. ’Tis so. rock 'n' roll"
    assert quotes(text) == []
    assert [p.text for p in split("Pooh’s ‘Hello, don’t go,’ said Piglet.", CAST)
            if p.quote] == ["‘Hello, don’t go,’"]
    assert split('"I don\'t know," said Pooh\'s friend Piglet.', CAST)[0].text == \
        '"I don\'t know,"'


def test_chinese_corner_brackets_and_shuo():
    cast = {"小熊": CastMember(voice="espeak:cmn"), "小猪": CastMember(voice="espeak:yue")}
    parts = split("小熊说：「你好，『小猪』！」小猪笑了。「早上好。」小猪说。", cast)
    assert [(p.text, p.speaker) for p in parts if p.quote] == [
        ("「你好，『小猪』！」", "小熊"), ("「早上好。」", "小猪")]
    assert quotes("小熊说：「你好") == [] and quotes("「你好『朋友」") == [(0, 7)]
    rows = describe(plan("小熊说：「你好！」\n", Choice("auto"), {}, None, None, cast,
                         dialogue=DialogueSettings()))
    assert [(r["text"], r["speaker"]) for r in rows] == [("小熊说：", None), ("「你好！」", "小熊")]


def test_a_quote_over_paragraphs_is_one_speech_in_one_voice():
    # Each paragraph but the last opens the quote again and leaves it open.
    text = ('"I went to the wood," said Pooh, "and there I saw\n\n'
            '"a Heffalump, or so I thought,\n\n'
            '  "but it was only Piglet."\n\n'
            '"Really?" asked Piglet.\n\n'
            '"Yes and\n\n"no." It ended.')
    parts = [(p.text, p.speaker) for p in split(text, CAST) if p.quote]
    assert parts == [('"I went to the wood,"', "Pooh"), ('"and there I saw', "Pooh"),
                     ('"a Heffalump, or so I thought,', "Pooh"),
                     ('"but it was only Piglet."', "Pooh"), ('"Really?"', "Piglet"),
                     ('"Yes and', None), ('"no."', None)]
    # Attributed only at its end: the whole speech is that character's.
    assert {p.speaker for p in split('"One\n\n"two," said Piglet.', CAST) if p.quote} == \
        {"Piglet"}
    # Segments still never mix voices: the paragraphs of a speech are segments of its voice.
    rows = who(text, DialogueSettings(voice="narrator"))
    assert [(t, voice) for t, _, voice in rows if t.startswith('"a Heff')] == \
        [('"a Heffalump, or so I thought,', "espeak:en-gb")]


@pytest.mark.parametrize("text", [
    '"Hallo! said Piglet, who never stopped.', "“Oh dear,” said Pooh. “Oh",
    "Pooh said “no.\n\nAnd then” it ended.", "An empty “” quote.",
])
def test_unbalanced_quotes_are_narration_without_error(text):
    rows = who(text, DialogueSettings(voice="espeak:en-us"))
    narration = [t for t, speaker, voice in rows if voice == "piper:joe"]
    assert narration, rows
    for t, _, voice in rows:
        assert voice == "piper:joe" or t.startswith(("“", '"', "「")) and t.endswith("”"), rows


def test_directions_and_dialogue_lines_keep_their_voices_and_code_has_no_quotes():
    script = ('Pooh: "Hello," said Piglet.\n[voice: espeak:en-us] "Good day," said Pooh.\n'
              '[voice: default] Now `"code"` and "Hi," said Pooh.\n\n# "A title"\n')
    rows = who(script, DialogueSettings())
    assert ('Pooh: "Hello," said Piglet.'.split(": ", 1)[1], "Pooh", "espeak:en-gb") in rows
    assert ('"Good day," said Pooh.', None, "espeak:en-us") in rows  # whole
    assert ('"Hi,"', "Pooh", "espeak:en-gb") in rows
    assert any("code" in text and voice == "piper:joe" for text, _, voice in rows)
    assert rows[-1][1:] == (None, "piper:joe") and "A title" in rows[-1][0]


def test_the_setting_is_checked_stored_and_a_bad_dialogue_voice_refused():
    settings = JobSettings(dialogue=DialogueSettings(voice="Pooh"))
    assert JobSettings.model_validate_json(settings.model_dump_json()) == settings
    merged = settings.merged({"dialogue": {"attribution": False}})
    assert merged.dialogue == DialogueSettings(voice="Pooh", attribution=False)
    stored = StoredJob.read(json.loads(StoredJob(settings=settings, files={}).to_json()),
                            "auto", None)
    assert stored.settings.dialogue == settings.dialogue
    assert StoredJob.read({}, "auto", None).settings.dialogue is None  # older jobs: off
    with pytest.raises(InputError, match="dialogue voice: unknown voice 'nope'"):
        who('"Hi."', DialogueSettings(voice="nope"))


def test_the_cli_previews_and_narrates_a_dialogue_per_voice(tmp_path, data_dir):
    from indextts_yt.jobs.store import Store

    script, cast, out = tmp_path / "s.txt", tmp_path / "cast.json", tmp_path / "o.wav"
    script.write_text('"Hallo!" said Piglet.\n\n"Hunting," said Pooh.\n\n"Hunting what?"\n',
                      encoding="utf-8")
    cast.write_text(json.dumps({"Pooh": {"voice": "espeak:en-gb"},
                                "Piglet": {"voice": "espeak:en-us"}}), encoding="utf-8")
    args = ("--engine", "piper", "--cast", str(cast), "--dialogue-voice", "Piglet")
    preview = cli("segments", str(script), *args, "--json", "--data-dir", str(data_dir))
    assert preview.returncode == 0, preview.stderr.decode()
    planned = [(r["speaker"], r["engine"], r["voice"])
               for r in json.loads(preview.stdout)["segments"]]
    assert planned == [("Piglet", "espeak", "en-us"), (None, "piper", "joe"),
                       ("Pooh", "espeak", "en-gb"), (None, "piper", "joe"),
                       ("Piglet", "espeak", "en-us")]
    result = cli("narrate", str(script), "-o", str(out), *args, "--check", "off", "--batch",
                 "--data-dir", str(data_dir), *DETERMINISTIC_FLAGS)
    assert result.returncode == 0, result.stderr.decode()
    store = Store(data_dir)
    (job,) = store.list_jobs()
    assert job.settings.dialogue == DialogueSettings(voice="Piglet")
    rows = store.segments(job.id)
    assert [(r.speaker, r.engine, r.voice) for r in rows] == planned
    assert all(r.audio_seconds and r.audio_seconds > 0.2 for r in rows)
    assert out.stat().st_size > 0


def test_the_http_preview_and_job_form_take_the_dialogue_setting(data_dir):
    from server_util import serve

    text = '"Hunting," said Pooh.\n\n"Hunting what?"\n'
    cast = {"Pooh": {"voice": "espeak:en-gb"}, "Piglet": {"voice": "espeak:en-us"}}
    with serve(data_dir, start_worker=False) as srv:
        rows = srv.http.post("/api/preview", json={
            "text": text, "engine": "piper", "cast": cast,
            "dialogue": {"voice": "Piglet"}}).json()["segments"]
        assert [r["speaker"] for r in rows] == ["Pooh", None, "Piglet"]
        bad = srv.http.post("/api/preview", json={"text": text, "dialogue": {"voice": "nope"}})
        assert bad.status_code == 400 and "dialogue voice" in bad.json()["error"]
        made = srv.http.post("/api/jobs", files={"file": ("s.txt", text.encode())}, data={
            "engine": "piper", "cast": json.dumps(cast),
            "dialogue": json.dumps({"voice": "Piglet", "attribution": False})})
        assert made.status_code == 201, made.text
        assert made.json()["settings"]["dialogue"] == {"voice": "Piglet", "attribution": False}


def test_no_attribution_gives_every_quote_to_the_dialogue_voice(tmp_path, data_dir):
    from test_cli import assert_no_jobs, one_error_line

    script, cast = tmp_path / "s.txt", tmp_path / "cast.json"
    script.write_text('"Hallo!" said Piglet.\n\n"Hunting," said Pooh.\n', encoding="utf-8")
    cast.write_text(json.dumps({"Pooh": {"voice": "espeak:en-gb"},
                                "Piglet": {"voice": "espeak:en-us"}}), encoding="utf-8")
    args = ("--engine", "piper", "--cast", str(cast), "--no-attribution")
    preview = cli("segments", str(script), *args, "--dialogue-voice", "Piglet", "--json")
    assert preview.returncode == 0, preview.stderr.decode()
    assert [r["speaker"] for r in json.loads(preview.stdout)["segments"]] == \
        ["Piglet", None, "Piglet", None]  # Pooh's quote is Piglet's too: names left aside
    out = tmp_path / "o.wav"
    narrated = cli("narrate", str(script), "-o", str(out), *args, "--dialogue-voice", "Piglet",
                   "--check", "off", "--data-dir", str(data_dir), *DETERMINISTIC_FLAGS)
    assert narrated.returncode == 0, narrated.stderr.decode()
    from indextts_yt.jobs.store import Store

    (job,) = Store(data_dir).list_jobs()
    assert job.settings.dialogue == DialogueSettings(voice="Piglet", attribution=False)
    # Without a dialogue voice nothing would change voice: refused, nothing stored.
    for command in ("segments", "narrate"):
        extra = ("-o", str(tmp_path / "x.wav"), "--data-dir", str(tmp_path / "d")) \
            if command == "narrate" else ()
        refused = cli(command, str(script), *args, *extra)
        assert refused.returncode == 2
        assert "with attribution off every quote goes to the dialogue voice" in \
            one_error_line(refused)
    assert_no_jobs(tmp_path / "d")
