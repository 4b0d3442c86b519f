"""Inline directions, dialogue lines and a cast (text/directions.py, jobs/plan.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from conftest import DETERMINISTIC, DETERMINISTIC_FLAGS, cli
from indextts_yt.errors import InputError
from indextts_yt.jobs.plan import Choice, describe, plan
from indextts_yt.settings import CastMember, JobSettings, read_cast, validate_settings
from indextts_yt.text.directions import At, Pause, Section, Voice, parse
from test_cli import assert_no_jobs, one_error_line

CAST = {"Pooh": CastMember(voice="espeak:en-gb"), "Piglet": CastMember(voice="espeak:en-us")}


def sections(text: str, cast=("Pooh", "Piglet")) -> list[tuple]:
    """(text, speaker, ref, speed, emotion) per section, or ("pause", seconds)."""
    out: list[tuple] = []
    for item in parse(text, cast):
        if isinstance(item, Pause):
            out.append(("pause", item.seconds))
        else:
            v = item.voice
            out.append((item.text, v.speaker, v.ref, v.speed, v.emotion))
    return out


@pytest.mark.parametrize("direction", [
    "[voice: espeak:en-gb]", "[VOICE:espeak:en-gb]", "【声音：espeak:en-gb】", "［角色: espeak:en-gb］",
    "[音色：espeak:en-gb]", "[ voice :  espeak:en-gb ]",
])
def test_voice_in_every_form(direction):
    assert sections(f"A. {direction} B.") == [
        ("A. ", None, None, None, None), (" B.", None, "espeak:en-gb", None, None)]


@pytest.mark.parametrize("value, seconds", [
    ("1.5s", 1.5), ("500ms", 0.5), ("1.5秒", 1.5), ("500毫秒", 0.5), ("2", 2.0), (".25 s", 0.25),
    ("0", 0.0), ("10s", 10.0),
])
def test_pause_values(value, seconds):
    for form in (f"[pause: {value}]", f"【停顿：{value}】", f"［暂停: {value}］"):
        assert sections(f"A. {form} B.")[1] == ("pause", seconds)


def test_speed_emotion_and_their_ends():
    got = sections("a [speed: 0.9] b [语速：1.2x] c [emotion: calm and low] d [情绪：无] e "
                   "[speed: default] f")
    assert got == [("a ", None, None, None, None), (" b ", None, None, 0.9, None),
                   (" c ", None, None, 1.2, None), (" d ", None, None, 1.2, "calm and low"),
                   (" e ", None, None, 1.2, None), (" f", None, None, None, None)]


def test_a_voice_change_ends_speed_and_emotion_and_default_returns():
    got = sections("[speed: 0.8] a [voice: Pooh] b [voice: 旁白] c [voice: Narrator] d")
    # default / 旁白 / narrator: the job's voice, one section; Pooh's speed is not 0.8.
    assert got == [(" a ", None, None, 0.8, None), (" b ", "Pooh", None, None, None),
                   (" c  d", None, None, None, None)]


def test_cast_names_are_matched_ignoring_case_and_win_over_default():
    assert sections("[voice: pooh] a")[0][1] == "Pooh"
    assert sections("[voice: Narrator] a", cast=("Narrator",))[0][1] == "Narrator"


def test_dialogue_lines():
    text = "Once.\nPooh: Hello, Piglet!\nPIGLET： Oh d-dear.\nNote: read as written.\nPooh"
    assert sections(text) == [
        ("Once.\n", None, None, None, None), ("Hello, Piglet!\n", "Pooh", None, None, None),
        ("Oh d-dear.\n", "Piglet", None, None, None),
        ("Note: read as written.\nPooh", None, None, None, None)]
    # Without a cast a line "Pooh: ..." is text.
    assert sections("Pooh: hi", cast=()) == [("Pooh: hi", None, None, None, None)]


def test_a_direction_in_a_dialogue_line_lasts_the_line():
    assert sections("Pooh: slow [speed: 0.7] down\nafter") == [
        ("slow ", "Pooh", None, None, None), (" down\n", "Pooh", None, 0.7, None),
        ("after", None, None, None, None)]


def test_escapes_plain_brackets_links_and_code_are_text():
    text = ("\\[voice: x] \\【停顿：1秒】 [1] [a link: here](https://x.y) `[voice: x]`\n"
            "```\n[nonsense: here]\n```\n")
    (only,) = parse(text, ())
    assert isinstance(only, Section) and only.voice == Voice()
    assert only.text == ("\\[voice: x] 【停顿：1秒】 [1] [a link: here](https://x.y) "
                         "`[voice: x]`\n```\n[nonsense: here]\n```\n")
    spoken = " ".join(s.text for s in plan(text, Choice("auto")))
    assert spoken.startswith("[voice: x]") and "【停顿：1秒】" in spoken and "[1] a link: here" in spoken


def test_a_line_of_directions_only_leaves_no_blank_line():
    items = parse("One.\n[voice: Pooh]\nTwo.\n\n[voice: default]\nThree.", ("Pooh",))
    assert [(i.text, i.ends_paragraph) for i in items] == [
        ("One.\n", False), ("Two.\n\n", True), ("Three.", True)]


@pytest.mark.parametrize("text, where, message", [
    ("Hi [voics: x]", (1, 4), "unknown direction 'voics' (directions: voice, pause, speed, "
     "emotion; write \\[ for a literal bracket)"),
    ("A.\n\n  [Note: x] b", (3, 3), "unknown direction 'Note'"),
    ("A.\nB [pause: 1.5 minutes]", (2, 3), "pause '1.5 minutes' is not a duration"),
    ("A [pause: 11s]", (1, 3), "longer than 10 s"),
    ("A [speed: fast]", (1, 3), "speed 'fast' is not a positive number"),
    ("A [speed: 0]", (1, 3), "speed '0' is not a positive number"),
    ("A [voice: ]", (1, 3), "the voice direction has no value"),
    ("A 【停顿：1秒", (1, 3), "is not closed"),
])
def test_malformed_directions_name_line_and_column(text, where, message):
    with pytest.raises(InputError) as err:
        parse(text, ())
    assert str(err.value).startswith(f"{At(*where)}: ")
    assert message in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("Hi.\n[voice: Poo] x", "line 2, column 1: unknown voice 'Poo'"),
    ("Hi. [speed: 3] x", "line 1, column 5: setting 'speed' must be between 0.5 and 2, got 3"),
    ("Hi. [speed: 3]", "line 1, column 5: setting 'speed'"),  # checked with no speech after
    ("Hi. [emotion: happy] x", "line 1, column 5: piper cannot take the emotion 'happy'"),
    ("[pause: 1s] Hi.", "line 1, column 1: a pause needs speech before it"),
])
def test_the_plan_refuses_what_no_voice_can_do_at_its_place(text, message):
    with pytest.raises(InputError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        plan(text, Choice("piper"), {}, None, None, CAST)


def test_unknown_cast_voices_are_refused_naming_the_character():
    with pytest.raises(InputError, match="^cast 'Owl': unknown voice 'espeak:nope'"):
        plan("Hi.", Choice("piper"), {}, None, None, {"Owl": CastMember(voice="espeak:nope")})
    with pytest.raises(InputError, match="^cast 'Owl': setting 'speed'"):
        plan("Hi.", Choice("piper"), {}, None, None,
             {"Owl": CastMember(voice="espeak:en-us", speed=4)})


@pytest.mark.parametrize("cast, message", [
    ({"Po:oh": {"voice": "espeak:en-us"}}, "must not contain brackets or colons"),
    ({" Pooh": {"voice": "espeak:en-us"}}, "without spaces around it"),
    ({"Pooh": {"voice": "espeak:en-us"}, "pooh": {"voice": "espeak:en-gb"}}, "differ only in case"),
    ({"Pooh": {"voice": "espeak:en-us", "sped": 1}}, "unknown field 'cast.Pooh.sped'"),
    ({"Pooh": {}}, "field 'cast.Pooh.voice' is missing"),
])
def test_bad_casts_are_refused(cast, message):
    with pytest.raises(InputError, match=message):
        validate_settings({"cast": cast})


def test_the_plan_gives_every_line_its_voice_and_the_preview_its_speaker():
    script = ("# One\n\nThe narrator speaks. [pause: 2s] Still the narrator.\n\n"
              "Pooh: Hello, Piglet!\nPiglet: Oh, hello, Pooh.\n[voice: espeak:en-gb] Good day.\n"
              "[voice: default] [speed: 0.8] Slowly now.")
    rows = describe(plan(script, Choice("piper"), DETERMINISTIC, None, None, CAST))
    got = [(r["text"], r["speaker"], r["engine"], r["voice"], r["pause_after"]) for r in rows]
    assert got == [
        ("One", None, "piper", "joe", "heading"),
        ("The narrator speaks.", None, "piper", "joe", "2s"),
        ("Still the narrator.", None, "piper", "joe", "paragraph"),
        ("Hello, Piglet!", "Pooh", "espeak", "en-gb", "sentence"),
        ("Oh, hello, Pooh.", "Piglet", "espeak", "en-us", "sentence"),
        ("Good day.", None, "espeak", "en-gb", "sentence"),
        ("Slowly now.", None, "piper", "joe", "paragraph"),
    ]
    assert rows[-1]["chars"] and plan(script, Choice("piper"), {}, None, None, CAST)[-1] \
        .settings["speed"] == 0.8
    # Without a cast, nothing changes for a script without directions.
    plain = "Hello there. Pooh: hi."
    assert describe(plan(plain, Choice("piper"))) == describe(
        plan(plain, Choice("piper"), {}, None, None, CAST))


def test_cast_files_and_settings_keep_the_cast(tmp_path):
    toml = tmp_path / "cast.toml"
    toml.write_text('[Pooh]\nvoice = "espeak:en-gb"\nspeed = 0.9\n\n[Piglet]\n'
                    'voice = "espeak:en-us"\n', encoding="utf-8")
    cast = read_cast(toml)
    assert cast["Pooh"] == CastMember(voice="espeak:en-gb", speed=0.9)
    settings = JobSettings(cast=cast)
    assert JobSettings.model_validate_json(settings.model_dump_json()) == settings
    # A cast given replaces the whole cast (a preset's characters do not linger).
    assert list(settings.merged({"cast": {"Owl": {"voice": "espeak:en-us"}}}).cast) == ["Owl"]
    bad = tmp_path / "cast.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="a cast is a table of names"):
        read_cast(bad)


def test_the_cli_refuses_a_bad_direction_with_one_line_and_stores_nothing(tmp_path, data_dir):
    script = tmp_path / "s.txt"
    script.write_text("Fine.\n\nStill fine. [pasue: 2s] Not fine.\n", encoding="utf-8")
    result = cli("narrate", str(script), "-o", str(tmp_path / "o.wav"), "--data-dir",
                 str(data_dir), "--check", "off")
    assert result.returncode == 2
    assert one_error_line(result).endswith("line 3, column 13: unknown direction 'pasue' "
                                           "(directions: voice, pause, speed, emotion; write "
                                           "\\[ for a literal bracket)")
    cast = tmp_path / "cast.json"
    cast.write_text(json.dumps({"Pooh": {"voice": "espeak:zz"}}), encoding="utf-8")
    script.write_text("Pooh: hi.\n", encoding="utf-8")
    result = cli("narrate", str(script), "-o", str(tmp_path / "o.wav"), "--data-dir",
                 str(data_dir), "--check", "off", "--cast", str(cast))
    assert result.returncode == 2 and "cast 'Pooh': unknown voice 'espeak:zz'" in \
        one_error_line(result)
    assert not (tmp_path / "o.wav").exists()
    assert_no_jobs(data_dir)


DIALOGUE = """# The meeting

The narrator begins the story. [pause: 2s] Then two friends meet in the wood.

Pooh: Hello, Piglet! How are you today?
Piglet: Oh, hello, Pooh. I am very well, thank you.

The narrator reads this sentence at the usual speed.
[speed: 0.7]
The narrator reads this sentence at the usual speed.
"""


def test_a_dialogue_on_three_voices_is_narrated_as_planned(tmp_path, data_dir):
    from indextts_yt.engines import registry
    from indextts_yt.jobs.store import Store

    script, cast, out = tmp_path / "s.md", tmp_path / "cast.json", tmp_path / "o.wav"
    script.write_text(DIALOGUE, encoding="utf-8")
    cast.write_text(json.dumps({"Pooh": {"voice": "espeak:en-gb"},
                                "Piglet": {"voice": "espeak:en-us"}}), encoding="utf-8")
    preview = cli("segments", str(script), "--engine", "piper", "--cast", str(cast), "--json")
    assert preview.returncode == 0, preview.stderr.decode()
    speakers = [(r["speaker"], r["engine"], r["voice"])
                for r in json.loads(preview.stdout)["segments"]]
    assert speakers == [(None, "piper", "joe")] * 3 + [("Pooh", "espeak", "en-gb"),
                                                       ("Piglet", "espeak", "en-us")] \
        + [(None, "piper", "joe")] * 2
    # The cast chose eSpeak NG for those lines: no note that piper "does not speak" English.
    assert not any("does not speak" in n for n in json.loads(preview.stdout)["notes"])
    result = cli("narrate", str(script), "-o", str(out), "--engine", "piper", "--cast",
                 str(cast), "--check", "off", "--batch", "--data-dir", str(data_dir),
                 "--srt", str(tmp_path / "o.srt"), *DETERMINISTIC_FLAGS)
    assert result.returncode == 0, result.stderr.decode()

    store = Store(data_dir)
    (job,) = store.list_jobs()
    assert job.settings.cast["Pooh"].voice == "espeak:en-gb"  # stored with the job
    rows = store.segments(job.id)
    assert [(r.engine, r.voice) for r in rows] == [s[1:] for s in speakers]
    assert [r.speaker for r in rows] == [s[0] for s in speakers]  # who speaks it, stored
    # Each line's audio is its voice's: the segment file is what that voice says.
    for row in rows:
        engine = registry.get_engine(row.engine)
        made = np.concatenate(list(engine.synthesize(row.text, engine.prepare_voice(row.voice),
                                                     row.settings, row.language)))
        audio, rate = sf.read(row.audio_path, dtype="float32")
        assert rate == engine.sample_rate and abs(len(audio) - len(made)) <= 0.02 * rate, row
    # ... and sounds like that voice (resemblyzer): every narrator line nearer the narrator
    # than either character, every character line nearer its eSpeak NG voice than the
    # narrator. (en-gb and en-us are one eSpeak NG speaker told apart by accent only: the
    # comparison above tells those two apart, a speaker embedding cannot.)
    similar = speaker_similarity(rows, {"joe": "piper", "en-gb": "espeak", "en-us": "espeak"})
    for row, scores in zip(rows, similar):
        own, others = scores[row.voice], [v for k, v in scores.items() if k != row.voice]
        if row.engine == "piper":
            assert own > max(others) + 0.15, (row.text, scores)
        else:
            assert own > scores["joe"] + 0.15, (row.text, scores)
    # [speed: 0.7]: the same sentence takes longer.
    usual, slow = rows[-2], rows[-1]
    assert usual.text == slow.text and slow.settings["speed"] == 0.7
    assert slow.audio_seconds > 1.25 * usual.audio_seconds
    # [pause: 2s]: exactly two seconds of silence after the first sentence (the longest).
    audio, rate = sf.read(out, dtype="float32")
    assert longest_silence(audio) / rate == pytest.approx(2.0, abs=0.03)
    # Loudness stays even across the three voices (mastering works per segment).
    levels = [segment_level(audio, rate, cue) for cue in cues(job, store)]
    assert max(levels) - min(levels) < 4.0, levels


REFERENCE = ("This is how my voice sounds when I read a longer passage aloud, slowly and "
             "clearly, for everyone to hear.")


def speaker_similarity(rows, voices: dict[str, str]) -> list[dict[str, float]]:
    """Each segment's speaker similarity (cosine of resemblyzer embeddings) to a reference
    sentence said by each voice of ``voices`` (voice id -> engine)."""
    from resemblyzer import VoiceEncoder, preprocess_wav

    from indextts_yt.engines import registry

    encoder = VoiceEncoder("cpu", verbose=False)

    def embed(audio: np.ndarray, rate: int) -> np.ndarray:
        return encoder.embed_utterance(preprocess_wav(audio, source_sr=rate))

    references = {}
    for voice, name in voices.items():
        engine = registry.get_engine(name)
        said = np.concatenate(list(engine.synthesize(REFERENCE, engine.prepare_voice(voice),
                                                     {}, "en")))
        references[voice] = embed(said, engine.sample_rate)
    return [{voice: float(embed(*sf.read(row.audio_path, dtype="float32")) @ reference)
             for voice, reference in references.items()} for row in rows]


def longest_silence(audio: np.ndarray) -> int:
    silent = np.concatenate([[0], (np.abs(audio) < 1e-4).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(silent))
    return int(max(edges[1::2] - edges[::2]))


def cues(job, store) -> list[tuple[float, float]]:
    import srt

    path = job.srt_path
    return [(c.start.total_seconds(), c.end.total_seconds())
            for c in srt.parse(open(path, encoding="utf-8").read())]


def segment_level(audio: np.ndarray, rate: int, cue: tuple[float, float]) -> float:
    part = audio[int(cue[0] * rate):int(cue[1] * rate)]
    return float(20 * np.log10(np.sqrt(np.mean(part ** 2)) + 1e-9))


def test_segments_keep_their_speaker_in_the_store_review_and_an_older_data_dir(data_dir,
                                                                               capsys):
    import sqlite3

    from conftest import as_made
    from indextts_yt.jobs import store as st
    from indextts_yt.jobs.review import review_json

    store = st.Store(data_dir)
    job = store.create_job(
        title="t", fingerprint="fp", settings=as_made(JobSettings(engine="piper")),
        output_path=None, srt_path=None, streaming=True,
        segments=[st.NewSegment(text=text, chapter=None, pause_after="sentence",
                                language="en", engine="espeak", voice="en-gb", settings={},
                                key=f"k{i}", speaker=speaker)
                  for i, (text, speaker) in enumerate([("Once.", None), ("Hi!", "Pooh")])])
    assert [s.speaker for s in store.segments(job.id)] == [None, "Pooh"]
    review = review_json(store, job.id)
    assert [r["speaker"] for r in review["segments"]] == [None, "Pooh"]
    from indextts_yt.cli.review import _listing

    _listing(review, show_all=True)  # `indextts-yt review --all`: the speaker after the take
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#")]
    assert lines[0].endswith("no audio yet") and lines[1].endswith("no audio yet  (Pooh)")
    store.close()
    # A data dir made before segments had a speaker gets the column; its segments: narrator.
    db = sqlite3.connect(data_dir / st.DB_NAME)
    db.execute("ALTER TABLE segments DROP COLUMN speaker")
    db.commit()
    db.close()
    store = st.Store(data_dir)
    assert [s.speaker for s in store.segments(job.id)] == [None, None]
