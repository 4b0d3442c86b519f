"""Settings presets: the library on real SQLite, the versioned file, the CLI and the API."""

from __future__ import annotations

import json
import sqlite3

import pytest
import soundfile as sf

from conftest import DETERMINISTIC_FLAGS, cli
from server_util import assert_error, serve
from test_cli import one_error_line

from indextts_yt.errors import EngineUnavailable, InputError, PresetNotFound
from indextts_yt.presets import PresetLibrary, parse_preset_file

PODCAST = {"engine": "piper", "options": {"speed": 1.25},
           "pauses": {"sentence": 0.3, "paragraph": 1.2},
           "output": {"format": "mp3", "bitrate": "64k", "loudness": "youtube", "trim": True,
                      "subtitles": {"max_line_chars": 30, "max_lines": 1}}}


def _file(**fields) -> bytes:
    return json.dumps({"schema": "indextts-yt/preset", "version": 2, "name": "P",
                       "settings": PODCAST, **fields}).encode()


def _rows(data_dir) -> list[tuple]:
    with sqlite3.connect(data_dir / "studio.sqlite3") as db:
        return db.execute("SELECT name, settings FROM presets ORDER BY name").fetchall()


def test_save_get_list_delete_and_names_are_case_insensitive(data_dir):
    library = PresetLibrary(data_dir)
    saved = library.save("Podcast voice", PODCAST, description="weekly show")
    assert saved.settings.options == {"speed": 1.25}
    assert library.get("PODCAST VOICE").settings == saved.settings
    with pytest.raises(InputError, match="'Podcast voice' already exists"):
        library.save("podcast voice", {"engine": "espeak"})
    assert library.get("Podcast voice").settings.engine == "piper"  # untouched
    replaced = library.save("podcast voice", {"engine": "espeak"}, replace=True)
    assert replaced.settings.engine == "espeak" and len(library.list()) == 1
    library.delete("Podcast Voice")
    assert library.list() == []
    with pytest.raises(PresetNotFound):
        library.get("Podcast voice")
    for bad in ("", "   ", "x" * 81, "tab\tbell\x07"):
        with pytest.raises(InputError):
            library.save(bad, PODCAST)
    assert _rows(data_dir) == []


@pytest.mark.parametrize("raw, message", [
    (_file(settings={**PODCAST, "spead": 1.1}), "unknown field 'settings.spead'"),
    (_file(settings={**PODCAST, "pauses": {"sentence": "slow"}}),
     "field 'settings.pauses.sentence': input should be a valid number, got \"slow\""),
    (_file(settings={**PODCAST, "options": {"speed": True}}), "'settings.options.speed'"),
    (_file(settings={**PODCAST, "output": {"trim": "yes"}}), "'settings.output.trim'"),
    (_file(settings={**PODCAST, "max_chars": 5}), "'settings.max_chars'"),
    (_file(colour="blue"), "unknown field 'colour'"),
    (_file(version="2"), "field 'version' must be a whole number"),
    (_file(version=7), "newer Index-TTS-YT (preset version 7)"),
    (_file(schema="other/thing"), "field 'schema' must be"),
    (_file(name=""), "'name'"),
    (b"[1, 2]", "a preset file is a JSON object"),
    (b"\xff\xfe", "not a JSON preset file"),
    (b" " * 70_000, "at most 64 KB"),
])
def test_a_bad_file_is_refused_naming_the_field(data_dir, raw, message):
    with pytest.raises(InputError) as err:
        PresetLibrary(data_dir).import_file(raw)
    assert message in str(err.value)
    assert _rows(data_dir) == []


def test_version_1_is_migrated():
    old = {"schema": "indextts-yt/preset", "version": 1, "name": "Old", "engine": "piper",
           "voice": "en_US-lessac-medium", "options": {"speed": 0.9}, "format": "flac",
           "loudness": -18, "trim": False}
    parsed = parse_preset_file(json.dumps(old).encode())
    assert parsed.version == 2
    s = parsed.settings
    assert (s.engine, s.voice, s.options) == ("piper", "en_US-lessac-medium", {"speed": 0.9})
    assert (s.output.format, s.output.loudness, s.output.trim) == ("flac", -18, False)
    with pytest.raises(InputError, match="unknown field 'output'"):  # v1 fields are flat
        parse_preset_file(json.dumps({**old, "output": {}}).encode())


@pytest.mark.parametrize("settings, message", [
    ({"engine": "indextts2", "voice": "clip-0123456789abcdef"}, "cannot run here"),
    ({"engine": "no-such-engine"}, "no-such-engine"),
    ({"engine": "piper", "voice": "no-such-voice"}, "no-such-voice"),
    ({"engine": "piper", "options": {"bogus": 1}}, "unknown engine option 'bogus'"),
    ({"engine": "piper", "options": {"speed": 40}}, "speed"),
    ({"engine": "piper", "pauses": {"sentense": 1}}, "unknown pause 'sentense'"),
    ({"output": {"format": "mp3", "bitrate": "9000k"}}, "9000k"),
    ({"output": {"format": "wma"}}, "wma"),
    ({"output": {"loudness": "+3"}}, "loudness"),
])
def test_a_preset_that_cannot_run_here_is_refused_and_nothing_is_stored(data_dir, settings,
                                                                         message):
    with pytest.raises((InputError, EngineUnavailable)) as err:
        PresetLibrary(data_dir).save("Broken", settings)
    assert message in str(err.value) and "'Broken'" in str(err.value)
    assert _rows(data_dir) == []


def test_export_then_import_elsewhere_round_trips(tmp_path):
    first = PresetLibrary(tmp_path / "a")
    exported = first.save("Calm", PODCAST, description="slow and warm").to_file().to_json()
    assert json.loads(exported)["version"] == 2
    again = PresetLibrary(tmp_path / "b").import_file(exported.encode())
    assert again.settings == first.get("Calm").settings
    assert again.description == "slow and warm"
    renamed = PresetLibrary(tmp_path / "b").import_file(exported.encode(), name="Calm 2")
    assert renamed.name == "Calm 2"


def test_cli_save_apply_override_export_import(tmp_path, data_dir):
    script = tmp_path / "s.txt"
    script.write_text("The preset decides how this sounds. It is applied to every job.")
    # The reference length is not drawn at random (the preset's own options are checked
    # below, so its render keeps piper's noise).
    base = cli("narrate", str(script), "-o", str(tmp_path / "base.wav"), "-e", "piper",
               *DETERMINISTIC_FLAGS, "--data-dir", str(data_dir))
    assert base.returncode == 0, base.stderr.decode()
    saved = cli("narrate", str(script), "-o", str(tmp_path / "fast.mp3"), "-e", "piper",
                "--speed", "1.5", "--sentence-pause", "0.2", "--loudness", "youtube",
                "--save-preset", "Fast", "--data-dir", str(data_dir))
    assert saved.returncode == 0, saved.stderr.decode()
    # The preset applied to another output: its speed makes the speech really faster, and a
    # flag typed on the command line wins over the preset's.
    used = cli("narrate", str(script), "-o", str(tmp_path / "used.wav"), "--preset", "fast",
               "--loudness", "podcast", "--data-dir", str(data_dir))
    assert used.returncode == 0, used.stderr.decode()
    ratio = sf.info(tmp_path / "used.wav").duration / sf.info(tmp_path / "base.wav").duration
    # 1.5x speed: 0.69-0.79x as long over 40 renders of each (piper's durations are random);
    # the same speed twice gives 0.94-1.07x
    assert 0.55 < ratio < 0.88, ratio

    jobs = json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout)
    shown = json.loads(cli("presets", "show", "Fast", "--data-dir", str(data_dir)).stdout)
    assert shown["settings"]["options"] == {"speed": 1.5}
    assert shown["settings"]["output"]["format"] == "mp3"  # from the output's name
    assert shown["settings"]["output"]["loudness"] == "youtube"
    with sqlite3.connect(data_dir / "studio.sqlite3") as db:
        settings = json.loads(db.execute("SELECT settings FROM jobs WHERE id = ?",
                                         (jobs[0]["id"],)).fetchone()[0])
    assert settings["options"] == {"speed": 1.5} and settings["pauses"] == {"sentence": 0.2}
    assert settings["output"]["loudness"] == -16 and settings["output"]["format"] == "wav"

    # Saved from a stored job; exported; imported into another studio.
    assert cli("presets", "save", "From job", "--from-job", jobs[0]["id"], "--data-dir",
               str(data_dir)).returncode == 0
    exported = tmp_path / "fast.json"
    assert cli("presets", "export", "Fast", "-o", str(exported), "--data-dir",
               str(data_dir)).returncode == 0
    other = tmp_path / "other"
    imported = cli("presets", "import", str(exported), "--data-dir", str(other))
    assert imported.returncode == 0, imported.stderr.decode()
    listed = json.loads(cli("presets", "list", "--json", "--data-dir", str(other)).stdout)
    assert [p["name"] for p in listed] == ["Fast"]

    # Bad input: one line, non-zero, nothing stored.
    assert "already exists" in one_error_line(
        cli("presets", "import", str(exported), "--data-dir", str(other)))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 2, "name": "B", "settings": {"engin": "piper"}}))
    assert "unknown field 'settings.engin'" in one_error_line(
        cli("presets", "import", str(bad), "--data-dir", str(other)))
    gpu = tmp_path / "gpu.json"
    gpu.write_text(json.dumps({"version": 2, "name": "G", "settings": {
        "engine": "indextts2.5", "voice": "clip-0123456789abcdef"}}))
    assert "cannot run here" in one_error_line(
        cli("presets", "import", str(gpu), "--data-dir", str(other)))
    assert "no preset named 'nope'" in one_error_line(
        cli("narrate", str(script), "-o", str(tmp_path / "n.wav"), "--preset", "nope",
            "--data-dir", str(data_dir)))
    assert [p["name"] for p in json.loads(
        cli("presets", "list", "--json", "--data-dir", str(other)).stdout)] == ["Fast"]


def test_api_presets_and_a_job_from_a_preset(data_dir):
    with serve(data_dir, start_worker=False) as s:
        http = s.http
        r = http.post("/api/presets", json={"name": "Show", "settings": PODCAST})
        assert r.status_code == 201, r.text
        assert "already exists" in assert_error(
            http.post("/api/presets", json={"name": "SHOW", "settings": {}}), 409)
        assert "settings.spead" in assert_error(
            http.post("/api/presets", json={"name": "X", "settings": {"spead": 1}}), 422)
        assert "cannot run here" in assert_error(http.post("/api/presets", json={
            "name": "G", "settings": {"engine": "indextts2"}}), 400)
        assert_error(http.get("/api/presets/nope"), 404)

        exported = http.get("/api/presets/Show/export")
        assert exported.status_code == 200
        assert "Show.preset.json" in exported.headers["content-disposition"]
        assert exported.json()["settings"]["output"]["bitrate"] == "64k"
        old = {"version": 1, "name": "Old", "engine": "piper", "format": "flac"}
        r = http.post("/api/presets/import", json=old)
        assert r.status_code == 201 and r.json()["settings"]["output"]["format"] == "flac"
        r = http.post("/api/presets/import", files={"file": ("s.json", exported.content)},
                      params={"name": "Show copy"})
        assert r.status_code == 201, r.text
        assert "unknown field 'settings.x'" in assert_error(http.post(
            "/api/presets/import", json={"version": 2, "name": "Y", "settings": {"x": 1}}), 400)
        assert [p["name"] for p in http.get("/api/presets").json()] == ["Old", "Show",
                                                                        "Show copy"]

        job = s.create("A job from a preset.", preset="show", options={"noise_scale": 0.5},
                       pauses={"sentence": 0.5})
        assert job["engine"] == "piper"
        assert job["settings"]["options"] == {"speed": 1.25, "noise_scale": 0.5}
        assert job["settings"]["pauses"] == {"sentence": 0.5, "paragraph": 1.2}
        assert job["output"]["format"] == "mp3" and job["output"]["loudness"] == -14
        assert job["output"]["subtitles"] == {"max_line_chars": 30, "max_lines": 1}
        assert_error(http.post("/api/jobs", json={"text": "x.", "preset": "nope"}), 404)
        assert http.delete("/api/presets/Show%20copy").status_code == 204
        assert_error(http.delete("/api/presets/Show%20copy"), 404)
