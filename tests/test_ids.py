"""Ids and names that work everywhere: every id or name the studio lists for a voice is taken
by every front end that takes a voice, meaning the same voice; preset names round-trip through
URLs; and a refusal over HTTP speaks of the API, never of CLI flags or Python classes.

Real parts throughout: the real server (tests/server_util.py), the command line in a
subprocess, the real engines (piper with its random draws off where it renders).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from openai import OpenAI

from conftest import DETERMINISTIC, DETERMINISTIC_FLAGS, cli
from indextts_yt.clips import ClipStore
from indextts_yt.errors import InputError
from indextts_yt.jobs import store as st
from indextts_yt.jobs.plan import Choice, plan
from indextts_yt.voices import VoiceLibrary
from server_util import assert_error, assert_openai_error, serve
from test_clips import speech, wav_bytes

ENGLISH = "The studio reads this sentence aloud."
CHINESE = "这是一个测试。"
#: The bundled voices the tests take, each with a text it speaks and that engine's options.
BUNDLED = {"piper:joe": (ENGLISH, DETERMINISTIC), "espeak:cmn": (CHINESE, {}),
           "espeak:en-gb": (ENGLISH, {})}
LIBRARY_NAME = "Narrator Ω"
#: What an API message must not contain: a CLI command or flag, or a Python class name.
CLI_WORDS = re.compile(r"indextts-yt |`|(?<![\w'])--[a-z]")
CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b")


def add_library_voice(data_dir: Path, name: str = LIBRARY_NAME) -> str:
    with VoiceLibrary(data_dir) as library:
        return library.add(wav_bytes(speech(4.0, 22_050), 22_050), "v.wav", name=name).id


def forms(listed: list[dict], voice_id: str) -> list[str]:
    """Every way the listing shows the voice ``voice_id``: its id, its engine's id, its name."""
    [voice] = [v for v in listed if v["id"] == voice_id]
    return sorted({voice["id"], voice["voice"], voice["name"]})


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    data = tmp_path_factory.mktemp("ids") / "data"
    data.mkdir()
    clip_id = add_library_voice(data)
    with serve(data) as srv:
        yield srv, clip_id


def listed_over_http(srv) -> list[dict]:
    r = srv.http.get("/api/voices")
    assert r.status_code == 200, r.text
    return r.json()


def segments_of(srv, job: dict) -> set[tuple[str, str]]:
    srv.wait_done(job["id"])
    r = srv.http.get(f"/api/jobs/{job['id']}/segments")
    assert r.status_code == 200, r.text
    return {(s["engine"], s["voice"]) for s in r.json()}


def expected(listed: list[dict], voice_id: str) -> set[tuple[str, str]]:
    [voice] = [v for v in listed if v["id"] == voice_id]
    return {(voice["engine"], voice["voice"])}


@pytest.mark.parametrize("voice_id", sorted(BUNDLED))
def test_every_listed_form_renders_the_same_voice_over_http(studio, voice_id, monkeypatch):
    """The jobs API, a preset saved and used, and the speech endpoint (through the OpenAI
    client) take the id, the engine's own id and the name the listing shows, with engine
    'auto', as the one voice."""
    from indextts_yt.server import speech_producer

    spoken: list[tuple[str, str]] = []  # what the speech endpoint rendered, segment by segment

    def recorded(segment, *args, **kwargs):
        spoken.append((segment.engine, segment.voice))
        return real_rendering(segment, *args, **kwargs)

    real_rendering = speech_producer.rendering
    monkeypatch.setattr(speech_producer, "rendering", recorded)
    srv, _ = studio
    listed = listed_over_http(srv)
    text, options = BUNDLED[voice_id]
    want = expected(listed, voice_id)
    client = OpenAI(base_url=f"{srv.base}/v1", api_key="unused")
    for i, form in enumerate(forms(listed, voice_id)):
        job = srv.create(text, voice=form, options=options)
        assert segments_of(srv, job) == want, form
        preview = srv.http.post("/api/preview", json={"text": text, "voice": form})
        assert preview.status_code == 200, (form, preview.text)
        assert {(s["engine"], s["voice"]) for s in preview.json()["segments"]} == want, form

        name = f"{voice_id} form {i}".replace(":", " ")
        saved = srv.http.post("/api/presets", json={"name": name, "settings": {
            "voice": form, "options": options}})
        assert saved.status_code == 201, (form, saved.text)
        assert saved.json()["settings"]["voice"] == form  # kept as the user gave it
        assert segments_of(srv, srv.create(text, preset=name)) == want, form

        spoken.clear()
        audio = client.audio.speech.create(model="auto", voice=form, input=text,
                                           response_format="wav")
        assert len(audio.content) > 10_000, form
        assert spoken and set(spoken) == want, form


def test_every_listed_form_narrates_the_same_voice_on_the_command_line(tmp_path, short_script):
    """`voices --json` lists the forms; `narrate --voice FORM` takes each, as the one voice."""
    data = tmp_path / "data"
    data.mkdir()
    listed_run = cli("voices", "--json", "--data-dir", str(data))
    assert listed_run.returncode == 0, listed_run.stderr
    listed = json.loads(listed_run.stdout)
    for voice_id in ("piper:joe", "espeak:en-gb"):
        flags = DETERMINISTIC_FLAGS if voice_id.startswith("piper") else ()
        for i, form in enumerate(forms(listed, voice_id)):
            out = tmp_path / f"{voice_id.replace(':', '-')}-{i}.wav"
            run = cli("narrate", str(short_script), "-o", str(out), "--voice", form, *flags,
                      "--data-dir", str(data))
            assert run.returncode == 0, (form, run.stderr.decode())
            store = st.Store(data)
            [job] = [j for j in store.list_jobs() if j.output_path == str(out)]
            assert {(s.engine, s.voice) for s in store.segments(job.id)} \
                == expected(listed, voice_id), form


def test_a_library_voice_by_id_or_name_asks_for_a_cloning_engine_everywhere(studio, tmp_path,
                                                                             short_script):
    """A library voice is a reference clip: with 'auto' every front end says, for its id and
    its name alike, which engines can speak it (no cloning engine is installed here)."""
    srv, clip_id = studio
    listed = listed_over_http(srv)
    [voice] = [v for v in listed if v["id"] == clip_id]
    data = tmp_path / "data"
    data.mkdir()
    assert add_library_voice(data) == clip_id  # the same recording: the same id
    for form in (clip_id, voice["name"], voice["name"].upper()):
        answers = [
            assert_error(srv.http.post("/api/jobs", json={"text": ENGLISH, "voice": form}), 400),
            assert_error(srv.http.post("/api/presets", json={
                "name": "lib", "settings": {"voice": form}}), 400),
            assert_openai_error(srv.http.post("/v1/audio/speech", json={
                "input": ENGLISH, "voice": form}), 400, "voice"),
            assert_error(srv.http.post("/api/preview", json={"text": ENGLISH, "voice": form}),
                         400),
        ]
        run = cli("narrate", str(short_script), "-o", str(tmp_path / "x.wav"), "--voice", form,
                  "--data-dir", str(data))
        assert run.returncode != 0 and len(run.stderr.decode().strip().splitlines()) == 1
        answers.append(run.stderr.decode())
        for message in answers:
            assert "needs a cloning engine" in message and "indextts2.5" in message, message
        for message in answers[:4]:
            assert not CLI_WORDS.search(message), message


def test_a_name_two_voices_share_is_refused_naming_both(tmp_path):
    """A library voice called 'joe' and piper's joe: 'auto' cannot choose, so the refusal
    names both ids; an engine that speaks only one of them takes it."""
    data = tmp_path / "data"
    data.mkdir()
    clip_id = add_library_voice(data, name="joe")
    clips = ClipStore(data)
    with pytest.raises(InputError, match="ambiguous") as info:
        plan(ENGLISH, Choice("auto", "joe"), clips=clips)
    assert "piper:joe" in str(info.value) and clip_id in str(info.value)
    assert {(s.engine, s.voice) for s in plan(ENGLISH, Choice("piper", "joe"), clips=clips)} \
        == {("piper", "joe")}


def test_a_voice_of_another_engine_is_refused_naming_its_engine(studio):
    srv, _ = studio
    message = assert_error(srv.http.post("/api/jobs", json={
        "text": ENGLISH, "engine": "piper", "voice": "espeak:cmn"}), 400)
    assert "unknown voice" in message and "espeak" in message and "piper:joe" in message
    message = assert_error(srv.http.post("/api/jobs", json={"text": ENGLISH, "voice": "nobody"}),
                           400)
    assert "piper:joe" in message and "espeak:cmn" in message  # the choices
    assert not CLI_WORDS.search(message)


# -- preset names in URLs -----------------------------------------------------------------------

ROUND_TRIP_NAMES = ["名字", "two words", "a#b", "what?", "100%", "x.y", "...", "a+b&c=d"]


def test_every_accepted_preset_name_round_trips_over_http(studio):
    srv, _ = studio
    for name in ROUND_TRIP_NAMES:
        saved = srv.http.post("/api/presets", json={"name": name, "settings": {}})
        assert saved.status_code == 201, (name, saved.text)
        path = f"/api/presets/{quote(name, safe='')}"
        got = srv.http.get(path)
        assert got.status_code == 200 and got.json()["name"] == name, (name, got.text)
        exported = srv.http.get(f"{path}/export")
        assert exported.status_code == 200, (name, exported.text)
        assert json.loads(exported.content)["name"] == name
        disposition = exported.headers["content-disposition"]
        fallback = re.search(r'filename="([^"]*)"', disposition)
        assert fallback and fallback.group(1).isascii(), disposition
        full = re.search(r"filename\*=UTF-8''(\S+)", disposition)
        assert full and unquote(full.group(1)).endswith(".preset.json"), disposition
        if name == "名字":
            assert unquote(full.group(1)) == "名字.preset.json"
        assert srv.http.delete(path).status_code == 204, name
        assert_error(srv.http.get(path), 404)


@pytest.mark.parametrize("name", ["a/b", "a\\b", ".", ".."])
def test_a_preset_name_that_cannot_be_a_url_segment_is_refused(studio, name, tmp_path):
    srv, _ = studio
    message = assert_error(srv.http.post("/api/presets", json={"name": name, "settings": {}}),
                           400)
    assert "preset's name" in message
    if srv.http.get("/api/presets/plain").status_code == 404:
        assert srv.http.post("/api/presets", json={"name": "plain", "settings": {}}).status_code == 201
    preset_file = tmp_path / "plain.preset.json"
    preset_file.write_bytes(srv.http.get("/api/presets/plain/export").content)
    run = cli("presets", "import", str(preset_file), "--name", name, "--data-dir", str(tmp_path))
    assert run.returncode != 0
    assert "preset's name" in run.stderr.decode() and len(run.stderr.decode().splitlines()) == 1


# -- refusals speak of the API ------------------------------------------------------------------

def test_refusals_over_http_name_no_cli_command_flag_or_class(studio):
    srv, clip_id = studio
    http = srv.http
    messages = [
        assert_error(http.get("/api/jobs/20260101-000000-abcdef"), 404),
        assert_error(http.get("/api/presets/nothing-here"), 404),
        assert_error(http.post("/api/jobs", json={"text": ENGLISH, "voice": "nobody"}), 400),
        assert_error(http.post("/api/jobs", json={"text": ENGLISH,
                                                  "voice": "clip-0123456789abcdef"}), 400),
        assert_error(http.post("/api/jobs", json={"text": ENGLISH, "voice": clip_id}), 400),
        assert_openai_error(http.post("/v1/audio/speech", json={"input": ENGLISH,
                                                                "voice": "nobody"}), 400, "voice"),
        assert_error(http.post("/api/voices/import", files={"file": ("x.voice.zip", b"not a zip")}),
                     400),
    ]
    exported = http.get(f"/api/voices/{clip_id}/export")
    assert exported.status_code == 200
    messages.append(assert_error(http.post("/api/voices/import",
                                           files={"file": ("v.voice.zip", exported.content)}),
                                 409))
    for message in messages:
        assert not CLI_WORDS.search(message), message
        assert not CLASS_NAME.search(message), message
    assert "'name' field" in messages[-1]


def test_a_damaged_upload_is_refused_without_a_class_name(studio):
    srv, _ = studio
    damaged = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x07" * 400
    for data in (b"this is not audio at all, just text with a .wav name" * 20, damaged):
        for route, field in (("/api/clips", {}), ("/api/voices", {"name": "broken"})):
            message = assert_error(srv.http.post(route, data=field,
                                                 files={"file": ("x.wav", data)}), 400)
            assert "not a readable audio file" in message, message
            assert not CLASS_NAME.search(message), message


def test_the_command_line_keeps_its_hints(tmp_path):
    """The messages are shared; the command line adds the command that lists the choices."""
    data = ["--data-dir", str(tmp_path)]
    run = cli("pause", "20260101-000000-abcdef", *data)
    assert run.returncode != 0 and "`indextts-yt jobs` lists them" in run.stderr.decode()
    run = cli("presets", "show", "nothing-here", *data)
    assert run.returncode != 0 and "`indextts-yt presets list`" in run.stderr.decode()


def test_an_audio_file_as_the_voice_asks_for_a_cloning_engine(tmp_path, short_script):
    """`--voice FILE` is a reference clip: with 'auto' or an engine of its own voices the one
    line says which engines clone, and nothing is stored."""
    clip = tmp_path / "me.wav"
    clip.write_bytes(wav_bytes(speech(4.0, 22_050), 22_050))
    data = tmp_path / "data"
    for engine in ("auto", "piper"):
        run = cli("narrate", str(short_script), "-o", str(tmp_path / "o.wav"), "-e", engine,
                  "--voice", str(clip), "--data-dir", str(data))
        lines = run.stderr.decode().strip().splitlines()
        assert run.returncode == 2 and len(lines) == 1, lines
        assert "needs a cloning engine" in lines[0] and "--engine indextts2.5" in lines[0]
    assert not list(data.glob("clips/*"))


# -- a library voice with a cloning engine (IndexTTS-2.5 on its tiny test weights) -------------

@pytest.fixture(scope="module")
def cloning(tmp_path_factory):
    """This process's registry speaks indextts2.5 from the tiny random checkpoint of its real
    architecture (tests/fixtures), as test_indextts25 does; yields the weights folder."""
    from fixtures.tiny_indextts import build_indextts25
    from indextts_yt.engines import registry
    from indextts_yt.engines.indextts_common import LoadOptions
    from indextts_yt.paths import ENV_CACHE_DIR

    model_dir = build_indextts25(tmp_path_factory.mktemp("tiny25"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_CACHE_DIR, str(tmp_path_factory.mktemp("cache")))
        registry.configure_engine("indextts2.5", LoadOptions(checkpoints=model_dir, device="cpu"))
        yield model_dir
        registry.configure_engine("indextts2.5", LoadOptions())


def test_a_library_voice_by_id_or_name_is_one_voice_for_a_cloning_engine(cloning, tmp_path,
                                                                          short_script):
    """Its id, its name and the name in another case: the jobs API, a preset, the preview
    and `narrate --voice` all render the library voice's clip with indextts2.5."""
    from indextts_util import FAST

    data = tmp_path / "data"
    data.mkdir()
    clip_id = add_library_voice(data)
    want = {("indextts2.5", clip_id)}
    fast = [arg for name, value in FAST.items() for arg in ("-O", f"{name}={value}")]
    with serve(data) as srv:
        listed = listed_over_http(srv)
        for i, form in enumerate(forms(listed, clip_id) + [LIBRARY_NAME.upper()]):
            settings = {"engine": "indextts2.5", "voice": form, "options": FAST}
            preview = srv.http.post("/api/preview", json={
                "text": ENGLISH, "engine": "indextts2.5", "voice": form})
            assert preview.status_code == 200, (form, preview.text)
            assert {(s["engine"], s["voice"]) for s in preview.json()["segments"]} == want
            assert segments_of(srv, srv.create(ENGLISH, **settings)) == want, form
            saved = srv.http.post("/api/presets", json={"name": f"clone {i}",
                                                        "settings": settings})
            assert saved.status_code == 201, (form, saved.text)
            assert segments_of(srv, srv.create(ENGLISH, preset=f"clone {i}")) == want, form
    cli_data = tmp_path / "cli"
    assert add_library_voice(cli_data) == clip_id
    for i, form in enumerate((clip_id, LIBRARY_NAME, LIBRARY_NAME.lower())):
        out = tmp_path / f"cli-{i}.wav"
        run = cli("narrate", str(short_script), "-o", str(out), "-e", "indextts2.5",
                  "--voice", form, *fast, "--checkpoints", str(cloning), "--device", "cpu",
                  "--data-dir", str(cli_data))
        assert run.returncode == 0, (form, run.stderr.decode()[-2000:])
        store = st.Store(cli_data)
        [job] = [j for j in store.list_jobs() if j.output_path == str(out)]
        assert {(s.engine, s.voice) for s in store.segments(job.id)} == want, form


def test_an_unexpected_error_is_a_500_without_a_class_name(studio, monkeypatch):
    """A fault inside a route (here the preset list running out of memory) is answered with
    one line that names no Python class; the server log has the traceback."""
    from indextts_yt.presets import PresetLibrary

    def out_of_memory(self):
        raise MemoryError

    monkeypatch.setattr(PresetLibrary, "list", out_of_memory)
    srv, _ = studio
    message = assert_error(srv.http.get("/api/presets"), 500)
    assert "internal error" in message and not CLASS_NAME.search(message), message
    assert "MemoryError" not in message
