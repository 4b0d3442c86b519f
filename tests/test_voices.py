"""The voice library: real recordings (piper speech encoded by PyAV into each format a user
may bring), real SQLite, the real command line in a subprocess and the real HTTP server.

What is measured, not assumed: the stored clip's channels, rate and sample format, how much
silence is left at its edges, and its loudness by an independent meter (pyloudnorm).
"""

from __future__ import annotations

import io
import json
import sqlite3
import struct
import zipfile
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from conftest import as_made, cli
from indextts_yt.audio.loudness import measure
from indextts_yt.audio.trim import trimmed_bounds
from indextts_yt.clips import CLIP_LUFS, CLIP_RATE, MAX_CLIP_BYTES, ClipStore, prepare_clip
from indextts_yt.engine_setup import clip_option
from indextts_yt.errors import InputError, VoiceConflict, VoiceNotFound
from indextts_yt.jobs import store as st
from indextts_yt.settings import JobSettings
from indextts_yt.voices import VoiceLibrary
from indextts_yt.voices.archive import MAX_ARCHIVE_BYTES
from server_util import assert_error, serve
from test_clips import encoded, speech, wav_bytes

RATE = 22_050


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    """About 4 s of real speech (piper), at 22.05 kHz."""
    return speech(4.0, RATE)


@pytest.fixture(scope="module")
def other_voice(voice) -> np.ndarray:
    """Different audio of the same length and level: the speech backwards."""
    return voice[::-1].copy()


@pytest.fixture
def library(tmp_path):
    with VoiceLibrary(tmp_path / "data") as lib:
        yield lib


def padded(audio: np.ndarray, rate: int, before: float = 1.0, after: float = 1.5) -> np.ndarray:
    return np.concatenate([np.zeros(int(before * rate), np.float32), audio,
                           np.zeros(int(after * rate), np.float32)])


def stored(library: VoiceLibrary) -> tuple[list[str], list[str]]:
    """(the clip files on disk, the voice rows): what a refused add must not have changed."""
    files = sorted(p.name for p in library.clips.dir.glob("*")) if library.clips.dir.exists() else []
    rows = [r[0] for r in sqlite3.connect(library.data_dir / "studio.sqlite3").execute(
        "SELECT id FROM voices")]
    return files, rows


def voice_zip(meta: dict, wav: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("voice.json", json.dumps(meta))
        z.writestr("clip.wav", wav)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with ``member``'s uncompressed size replaced by ``size`` in both its local
    header and its central directory entry (the CRC is left: the data is what it was)."""
    out = bytearray(data)
    name = member.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = out.find(signature)
        while at >= 0:
            name_len = struct.unpack_from("<H", out, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            if out[at + name_at:at + name_at + name_len] == name:
                struct.pack_into("<I", out, at + size_at, size)
            at = out.find(signature, at + 4)
    return bytes(out)


# -- adding: every format, normalised -------------------------------------------------------

FORMATS = {
    "wav": lambda a, r: wav_bytes(np.stack([a, a * 0.5], axis=1), r, "FLOAT"),  # stereo float
    "flac": lambda a, r: encoded(a, r, "flac", "flac"),
    "mp3": lambda a, r: encoded(a, r, "mp3", "libmp3lame"),
    "ogg": lambda a, r: encoded(a, r, "ogg", "libopus"),
    "m4a": lambda a, r: encoded(a, r, "ipod", "aac"),
}


@pytest.mark.parametrize("fmt, rate, level", [
    ("wav", 44_100, 0.9), ("flac", 22_050, 0.05), ("mp3", 44_100, 0.3), ("ogg", 48_000, 1.0),
    ("m4a", 44_100, 0.2),
])
def test_add_any_format_stores_mono_24k_trimmed_at_the_target_loudness(library, voice, fmt, rate,
                                                                        level):
    import soxr

    source = padded(soxr.resample(voice, RATE, rate).astype(np.float32) * level, rate)
    v = library.add(FORMATS[fmt](source, rate), f"me.{fmt}", name=f"Me {fmt}", language="en",
                    tags=["calm"])
    assert v.id.startswith("clip-") and v.voice == v.id and not v.read_only
    path = library.audio_path(v.id)
    info = sf.info(str(path))
    assert (info.channels, info.samplerate, info.subtype) == (1, CLIP_RATE, "PCM_16")
    audio, _ = sf.read(path, dtype="float32")
    # The 2.5 s of padding is gone: at most the trimmer's 40 ms margin (plus one 10 ms
    # window and a codec's ramp) is left at either edge, and the speech itself is all there.
    start, end = trimmed_bounds(audio, CLIP_RATE, keep_ms=0)
    assert start / CLIP_RATE < 0.08 and (len(audio) - end) / CLIP_RATE < 0.08
    assert 3.6 < len(audio) / CLIP_RATE < 4.2
    assert v.seconds == pytest.approx(len(audio) / CLIP_RATE, abs=0.001)
    lufs = pyloudnorm.Meter(CLIP_RATE).integrated_loudness(audio.astype(np.float64))
    peak = measure(audio, CLIP_RATE).true_peak_dbtp
    assert peak <= -0.95
    # At the target, unless the ceiling held it lower (a rare render with a high peak).
    assert lufs == pytest.approx(CLIP_LUFS, abs=0.3) or (lufs < CLIP_LUFS and peak > -1.2), lufs
    assert 20 * np.log10(np.max(np.abs(audio))) <= -1.0


def test_same_recording_twice_is_refused_naming_the_voice(library, voice):
    first = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator")
    with pytest.raises(VoiceConflict, match=rf"already the voice 'Narrator' \({first.id}\)"):
        library.add(wav_bytes(voice, RATE), "b.wav", name="Someone else")
    # The stored file itself normalises to itself: the same clip, refused the same way.
    with pytest.raises(VoiceConflict, match="already the voice 'Narrator'"):
        library.add(library.audio_path(first.id).read_bytes(), "c.wav", name="Third")
    assert [v.id for v in library.list(kind="library")] == [first.id]


def test_duplicate_name_in_any_case_is_refused_and_nothing_stored(library, voice, other_voice):
    first = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator")
    before = stored(library)
    with pytest.raises(VoiceConflict, match=rf"already a voice named 'Narrator' \({first.id}\)"):
        library.add(wav_bytes(other_voice, RATE), "b.wav", name="  NARRATOR ")
    assert stored(library) == before
    assert not (library.clips.dir / f"{prepare_clip(wav_bytes(other_voice, RATE)).id}.wav").exists()


def test_a_failed_insert_leaves_no_file_but_keeps_a_clip_that_was_there(library, voice,
                                                                      other_voice):
    """The row cannot be written (here a trigger stands in for a full disk or a racing
    writer): the clip file written for it goes again; one the clip store already had stays."""
    library._db.execute("CREATE TRIGGER refuse BEFORE INSERT ON voices"
                        " BEGIN SELECT RAISE(ABORT, 'no room'); END")
    with pytest.raises(sqlite3.DatabaseError, match="no room"):
        library.add(wav_bytes(voice, RATE), "a.wav", name="A")
    assert stored(library) == ([], [])
    clip = ClipStore(library.data_dir).add(wav_bytes(other_voice, RATE), "used.wav")
    with pytest.raises(sqlite3.DatabaseError, match="no room"):
        library.add(wav_bytes(other_voice, RATE), "b.wav", name="B")
    assert stored(library) == (sorted([f"{clip.id}.json", f"{clip.id}.wav"]), [])


@pytest.mark.parametrize("make, message", [
    (lambda v: wav_bytes(np.zeros(RATE * 3, np.float32), RATE), "silent"),
    (lambda v: wav_bytes(v[:RATE // 2], RATE), "at least 1 s"),
    (lambda v: wav_bytes(padded(v[:RATE // 2], RATE, 2, 2), RATE), r"0\.[4-6]\d s of speech"),
    (lambda v: wav_bytes(np.tile(v, 8)[:RATE * 30], RATE), r"has (29\.\d|30\.0) s of speech, longer than 15 s"),
    (lambda v: bytes(np.random.default_rng(7).integers(0, 256, 60_000, dtype=np.uint8)),
     "not a readable audio file"),
    # A header claiming 4 GB over half a second of audio: bounded by what is there.
    (lambda v: _liar(wav_bytes(v[:RATE // 2], RATE)), "at least 1 s"),
    (lambda v: b"\0" * (MAX_CLIP_BYTES + 1), "limited to 20 MB"),
    (lambda v: b"", "empty"),
])
def test_bad_recordings_are_refused_and_leave_nothing(library, voice, make, message):
    with pytest.raises(InputError, match=message):
        library.add(make(voice), "bad.wav", name="Bad")
    assert stored(library) == ([], [])


def _liar(data: bytes) -> bytes:
    out = bytearray(data)
    out[4:8] = struct.pack("<I", 0xFFFFFFF0)
    at = out.index(b"data")
    out[at + 4:at + 8] = struct.pack("<I", 0xFFFFFFF0)
    return bytes(out)


@pytest.mark.parametrize("fields, message", [
    ({"name": "   "}, "needs a name"),
    ({"name": "x" * 81}, "limited to 80"),
    ({"name": "clip-0123456789abcdef"}, "looks like a voice id"),
    ({"name": "ok", "language": "english!"}, "language must be a short language tag"),
    ({"name": "ok", "tags": ["a" * 40]}, "longer than 32"),
    ({"name": "ok", "tags": [f"t{i}" for i in range(17)]}, "at most 16 tags"),
    ({"name": "ok", "notes": "n" * 2001}, "limited to 2000"),
])
def test_bad_metadata_is_refused_before_any_work(library, voice, fields, message):
    with pytest.raises(InputError, match=message):
        library.add(wav_bytes(voice, RATE), "a.wav", **fields)
    assert stored(library) == ([], [])


# -- editing, deleting ----------------------------------------------------------------------

def test_rename_retag_and_edit(library, voice, other_voice):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator", language="EN_us",
                    tags=["calm", "Calm", " male "], notes="first take")
    assert (v.language, v.tags) == ("en-us", ("calm", "male"))
    other = library.add(wav_bytes(other_voice, RATE), "b.wav", name="Other")
    renamed = library.edit(v.id, name="Storyteller", tags=["warm", "slow"], language="",
                           notes="second\ntake")
    assert (renamed.id, renamed.name, renamed.tags, renamed.language, renamed.notes) == (
        v.id, "Storyteller", ("warm", "slow"), None, "second\ntake")
    assert renamed.updated_at > v.updated_at and renamed.created_at == v.created_at
    assert library.edit(v.id, name="STORYTELLER").name == "STORYTELLER"  # its own name, new case
    with pytest.raises(VoiceConflict, match="already a voice named 'Other'"):
        library.edit(v.id, name="other")
    with pytest.raises(InputError, match="nothing to change"):
        library.edit(v.id)
    assert library.resolve("storyteller").id == v.id == library.resolve(v.id).id
    assert [x.name for x in library.list(tag="WARM")] == ["STORYTELLER"]
    assert [x.name for x in library.list(query="second")] == ["STORYTELLER"]
    assert {x.id for x in library.list(kind="library")} == {v.id, other.id}


def _job_using(data_dir: Path, clip_id: str, state: str, *, as_emotion: bool = False) -> str:
    store = st.Store(data_dir)
    try:
        voice, settings = ("other-clip", {"emotion_clip": clip_id}) if as_emotion else (clip_id, {})
        job = store.create_job(
            title="Chapter 1", fingerprint=f"fp-{state}-{as_emotion}",
            settings=as_made(JobSettings(engine="indextts2.5", voice=voice)), output_path=None, srt_path=None, streaming=True,
            segments=[st.NewSegment(text="Hello.", chapter=None, pause_after="sentence",
                                    language="en", engine="indextts2.5", voice=voice,
                                    settings=settings, key=f"k-{state}")])
        store.transition(job.id, state, from_states=st.JobState)  # test set-up: any state
        return job.id
    finally:
        store.close()


def _set_state(data_dir: Path, job_id: str, state: str) -> None:
    store = st.Store(data_dir)
    store.transition(job_id, state, from_states=st.JobState)  # test set-up: any state
    store.close()


@pytest.mark.parametrize("state", ["queued", "running", "paused", "interrupted", "failed"])
def test_delete_is_refused_while_an_unfinished_job_uses_the_voice(library, voice, state):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator")
    job_id = _job_using(library.data_dir, v.id, state)
    with pytest.raises(VoiceConflict, match=rf"used by the unfinished job {job_id} .*{state}"):
        library.delete(v.id)
    assert library.audio_path(v.id).exists()
    _set_state(library.data_dir, job_id, "done")
    assert library.delete(v.id).id == v.id
    assert stored(library) == ([], [])
    with pytest.raises(VoiceNotFound):
        library.get(v.id)


def test_delete_is_refused_while_a_job_takes_the_voice_as_its_emotion(library, voice):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Angry")
    job_id = _job_using(library.data_dir, v.id, "paused", as_emotion=True)
    with pytest.raises(VoiceConflict, match=job_id):
        library.delete(v.id)
    _set_state(library.data_dir, job_id, "cancelled")
    library.delete(v.id)
    assert not library.clips.dir.joinpath(f"{v.id}.wav").exists()


def test_bundled_voices_are_listed_read_only(library, voice):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Mine")
    bundled = {b.id: b for b in library.list(kind="bundled")}
    joe, cmn = bundled["piper:joe"], bundled["espeak:cmn"]
    assert (joe.engine, joe.voice, joe.language, joe.read_only) == ("piper", "joe", "en", True)
    assert (cmn.engine, cmn.language) == ("espeak", "zh")
    assert [x.id for x in library.list(engine="piper")] == ["piper:joe"]
    assert [x.id for x in library.list(engine="indextts2.5")] == [v.id]  # cloning: the library's
    assert library.list()[0].id == v.id  # the user's own voices first
    for action in (lambda: library.edit("piper:joe", name="Joe"), lambda: library.delete("piper:joe"),
                   lambda: library.export("espeak:cmn"), lambda: library.audio_path("piper:joe")):
        with pytest.raises(VoiceConflict, match="bundled voice of the .* engine .* read-only"):
            action()
    assert library.resolve("joe").id == "piper:joe"
    with pytest.raises(VoiceNotFound):
        library.get("piper:nobody")
    with pytest.raises(InputError, match="voice id must look like"):
        library.get("../../etc/passwd")


def test_narrate_voice_takes_a_library_name(library, voice):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator")
    assert clip_option(library.clips, "narrator", "--voice") == v.id
    with pytest.raises(InputError, match="no such audio file, clip id or library voice: 'Nobody'"):
        clip_option(library.clips, "Nobody", "--voice")


# -- export and import ----------------------------------------------------------------------

def test_export_import_round_trip_into_a_fresh_studio(library, voice, tmp_path):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator 叙述", language="zh",
                    tags=["calm", "中文"], notes="Recorded at home.")
    file_name, data = library.export(v.id)
    assert file_name == "Narrator-叙述.voice.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["clip.wav", "voice.json"]
        meta = json.loads(z.read("voice.json"))
    assert meta == {"schema": "indextts-yt.voice", "version": 1, "name": "Narrator 叙述",
                    "language": "zh", "tags": ["calm", "中文"], "notes": "Recorded at home.",
                    "clip": v.id}
    with VoiceLibrary(tmp_path / "fresh") as fresh:
        got = fresh.import_file(data)
        assert (got.id, got.name, got.language, got.tags, got.notes) == (
            v.id, v.name, v.language, v.tags, v.notes)
        assert fresh.audio_path(got.id).read_bytes() == library.audio_path(v.id).read_bytes()
        with pytest.raises(VoiceConflict, match="already a voice named 'Narrator 叙述'.*--name"):
            fresh.import_file(data)
        with pytest.raises(VoiceConflict, match="already the voice 'Narrator 叙述'"):
            fresh.import_file(data, name="Another")


def test_import_under_another_name_when_the_name_is_taken(library, voice, other_voice, tmp_path):
    v = library.add(wav_bytes(voice, RATE), "a.wav", name="Narrator")
    _, data = library.export(v.id)
    with VoiceLibrary(tmp_path / "other") as other:
        mine = other.add(wav_bytes(other_voice, RATE), "b.wav", name="narrator")
        with pytest.raises(VoiceConflict, match="already a voice named 'narrator'"):
            other.import_file(data)
        assert other.import_file(data, name="Narrator (shared)").id == v.id
        assert {x.name for x in other.list(kind="library")} == {mine.name, "Narrator (shared)"}


@pytest.fixture(scope="module")
def good_export(voice, tmp_path_factory) -> tuple[dict, bytes]:
    with VoiceLibrary(tmp_path_factory.mktemp("export")) as lib:
        v = lib.add(wav_bytes(voice, RATE), "a.wav", name="Narrator", tags=["calm"])
        _, data = lib.export(v.id)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return json.loads(z.read("voice.json")), z.read("clip.wav")


def _bomb(meta: dict, declared: int | None) -> bytes:
    """A voice file whose clip.wav inflates to 200 MB of zeros (about 200 KB in the zip);
    ``declared``: the size its headers claim instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("voice.json", json.dumps(meta))
        with z.open("clip.wav", "w", force_zip64=False) as member:
            block = b"\0" * (1 << 20)
            for _ in range(200):
                member.write(block)
    data = buffer.getvalue()
    return data if declared is None else lie_about_size(data, "clip.wav", declared)


@pytest.mark.parametrize("tamper, message", [
    (lambda m, w: voice_zip({**m, "tags": "calm"}, w), r"field 'tags' .* wrong type \(str\)"),
    (lambda m, w: voice_zip({**m, "version": "1"}, w), r"field 'version' .* wrong type"),
    (lambda m, w: voice_zip({**m, "version": True}, w), r"field 'version' .* wrong type \(bool\)"),
    (lambda m, w: voice_zip({**m, "version": 2}, w), "version 2 is not supported"),
    (lambda m, w: voice_zip({**m, "owner": "me"}, w), "unknown field 'owner'"),
    (lambda m, w: voice_zip({**m, "schema": "other"}, w), "'schema' must be"),
    (lambda m, w: voice_zip({**m, "clip": "../../x"}, w), "'clip' must be a clip id"),
    (lambda m, w: voice_zip({**m, "name": "x" * 100}, w), r"field 'name' in voice.json is limited"),
    (lambda m, w: voice_zip({k: v for k, v in m.items() if k != "name"}, w), "has no 'name'"),
    (lambda m, w: voice_zip(m, w, {"../evil.sh": b"rm -rf /"}), "unexpected member '../evil.sh'"),
    (lambda m, w: voice_zip(m, b"not audio at all" * 100), "not a readable audio file"),
    (lambda m, w: b"PK\x03\x04" + b"\0" * 200, "not a voice file"),
    (lambda m, w: w, "not a voice file"),  # a bare WAV
    (lambda m, w: _bomb(m, None), r"clip.wav declares 209\.7 MB"),
    # The headers say 1 KB, the data inflates to 200 MB: stopped at the declared size, then
    # the CRC (of 200 MB of zeros) does not match what was read.
    (lambda m, w: _bomb(m, 1000), "clip.wav is damaged"),
    # A member whose real size is larger than its declared one, under the limit.
    (lambda m, w: lie_about_size(voice_zip(m, w), "clip.wav", len(w) // 2), "clip.wav is damaged"),
    (lambda m, w: b"\0" * (MAX_ARCHIVE_BYTES + 1), "limited to"),
])
def test_a_tampered_voice_file_is_refused_and_stores_nothing(library, good_export, tamper,
                                                             message):
    meta, wav = good_export
    with pytest.raises(InputError, match=message):
        library.import_file(tamper(meta, wav))
    assert stored(library) == ([], [])


def test_the_good_export_itself_imports(library, good_export):
    meta, wav = good_export
    assert library.import_file(voice_zip(meta, wav)).id == meta["clip"]


# -- the command line -----------------------------------------------------------------------

def one_error(result) -> str:
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, result.stderr)
    assert lines[0].startswith("indextts-yt: error: ")
    return lines[0]


def test_cli_add_list_edit_export_import_rm(tmp_path, voice):
    data, fresh = tmp_path / "data", tmp_path / "fresh"
    wav = tmp_path / "me.flac"
    wav.write_bytes(encoded(padded(voice, RATE), RATE, "flac", "flac"))
    r = cli("voices", "add", str(wav), "--name", "Narrator", "-l", "en", "-t", "calm", "-t", "male",
            "--notes", "home", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("added Narrator (clip-")
    rows = json.loads(cli("voices", "list", "--tag", "calm", "--json", "--data-dir", str(data)).stdout)
    [row] = rows
    assert (row["name"], row["tags"], row["language"], row["kind"]) == ("Narrator", ["calm", "male"],
                                                                       "en", "library")
    clip_id = row["id"]
    # Plain `voices` with its old options still lists every engine's voices, and the library's.
    plain = json.loads(cli("voices", "--json", "--data-dir", str(data)).stdout)
    assert {"piper", "espeak"} <= {r["engine"] for r in plain}
    assert any(r["id"] == clip_id for r in plain)
    assert cli("voices", "-e", "piper", "--data-dir", str(data)).stdout.decode().split()[:2] == ["piper", "joe"]

    r = cli("voices", "edit", "narrator", "--name", "Storyteller", "--tags", "warm, slow",
            "--data-dir", str(data))
    assert r.returncode == 0 and "updated Storyteller" in r.stdout.decode(), r.stderr
    out = tmp_path / "story.voice.zip"
    r = cli("voices", "export", "Storyteller", "-o", str(out), "--data-dir", str(data))
    assert r.returncode == 0 and out.exists(), r.stderr
    r = cli("voices", "import", str(out), "--data-dir", str(fresh))
    assert r.returncode == 0 and f"imported Storyteller ({clip_id};" in r.stdout.decode(), r.stderr

    assert "already a voice named 'Storyteller'" in one_error(
        cli("voices", "import", str(out), "--data-dir", str(fresh)))
    assert "read-only" in one_error(cli("voices", "edit", "joe", "--name", "x", "--data-dir", str(data)))
    assert "no voice 'nobody'" in one_error(cli("voices", "rm", "nobody", "--data-dir", str(data)))
    silent = tmp_path / "silent.wav"
    silent.write_bytes(wav_bytes(np.zeros(RATE * 2, np.float32), RATE))
    assert "silent" in one_error(cli("voices", "add", str(silent), "--data-dir", str(data)))
    not_zip = tmp_path / "x.voice.zip"
    not_zip.write_bytes(b"hello")
    assert "not a voice file" in one_error(cli("voices", "import", str(not_zip), "--data-dir", str(data)))

    r = cli("voices", "rm", "storyteller", "--data-dir", str(data))
    assert r.returncode == 0 and r.stdout.decode().strip() == f"deleted Storyteller ({clip_id})"
    assert json.loads(cli("voices", "list", "-e", "indextts2.5", "--json", "--data-dir", str(data)).stdout) == []
    assert not list((data / "clips").glob("*.wav"))


# -- the HTTP API ---------------------------------------------------------------------------

def test_api_voices(tmp_path, voice, other_voice):
    with serve(tmp_path / "data", start_worker=False) as s, \
            serve(tmp_path / "fresh", start_worker=False) as s2:
        http = s.http
        files = {"file": ("me.mp3", encoded(padded(voice, RATE), RATE, "mp3", "libmp3lame"),
                          "audio/mpeg")}
        r = http.post("/api/voices", files=files,
                      data={"name": "Narrator", "language": "en", "tags": "calm, male", "notes": "hi"})
        assert r.status_code == 201, r.text
        v = r.json()
        assert (v["name"], v["tags"], v["kind"], v["read_only"]) == ("Narrator", ["calm", "male"],
                                                                   "library", False)
        vid = v["id"]
        listed = http.get("/api/voices").json()
        assert listed[0]["id"] == vid and any(x["id"] == "piper:joe" and x["read_only"] for x in listed)
        assert [x["id"] for x in http.get("/api/voices", params={"tag": "male"}).json()] == [vid]
        assert [x["id"] for x in http.get("/api/voices", params={"engine": "piper"}).json()] == ["piper:joe"]
        assert http.get(f"/api/voices/{vid}").json() == v

        r = http.patch(f"/api/voices/{vid}", json={"name": "Storyteller", "tags": ["warm"]})
        assert r.status_code == 200 and r.json()["name"] == "Storyteller", r.text
        audio = http.get(f"/api/voices/{vid}/audio")
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        samples, rate = sf.read(io.BytesIO(audio.content))
        assert rate == CLIP_RATE and samples.ndim == 1
        export = http.get(f"/api/voices/{vid}/export")
        assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
        assert 'filename="Storyteller.voice.zip"' in export.headers["content-disposition"]

        r = s2.http.post("/api/voices/import", files={"file": ("s.voice.zip", export.content)})
        assert r.status_code == 201 and r.json()["id"] == vid and r.json()["name"] == "Storyteller"
        assert "'name' field" in assert_error(
            s2.http.post("/api/voices/import", files={"file": ("s.voice.zip", export.content)}), 409)
        assert "already the voice" in assert_error(s2.http.post(
            "/api/voices/import", files={"file": ("s.voice.zip", export.content)},
            data={"name": "Copy"}), 409)

        # Bad input: a status and one JSON line, nothing stored.
        wav = wav_bytes(other_voice, RATE)
        assert "'name'" in assert_error(http.post("/api/voices", files={"file": ("a.wav", wav)}), 400)
        assert "already a voice named" in assert_error(
            http.post("/api/voices", files={"file": ("a.wav", wav)}, data={"name": "storyteller"}), 409)
        assert "already the voice 'Storyteller'" in assert_error(
            http.post("/api/voices", files=files, data={"name": "Again"}), 409)
        assert "silent" in assert_error(http.post(
            "/api/voices", files={"file": ("s.wav", wav_bytes(np.zeros(RATE * 2, np.float32), RATE))},
            data={"name": "Quiet"}), 400)
        assert "unknown form field 'owner'" in assert_error(
            http.post("/api/voices", files={"file": ("a.wav", wav)}, data={"name": "X", "owner": "me"}), 400)
        assert "language" in assert_error(
            http.post("/api/voices", files={"file": ("a.wav", wav)}, data={"name": "X", "language": "??"}), 400)
        assert_error(http.post("/api/voices", json={"name": "x"}), 415)
        assert "limited to 20 MB" in assert_error(http.post(
            "/api/voices", files={"file": ("big.wav", b"\0" * (MAX_CLIP_BYTES + 200_000))},
            data={"name": "Big"}), 413)
        assert "not a voice file" in assert_error(
            s2.http.post("/api/voices/import", files={"file": ("x.zip", b"nope")}), 400)
        assert "read-only" in assert_error(http.patch("/api/voices/piper:joe", json={"name": "J"}), 409)
        assert "read-only" in assert_error(http.delete("/api/voices/espeak:cmn"), 409)
        assert "read-only" in assert_error(http.get("/api/voices/piper:joe/export"), 409)
        assert_error(http.patch(f"/api/voices/{vid}", json={"owner": "me"}), 422)
        assert_error(http.get("/api/voices/clip-0000000000000000"), 404)
        assert "voice id must look like" in assert_error(http.get("/api/voices/etc-passwd"), 400)
        assert "kind must be" in assert_error(http.get("/api/voices", params={"kind": "x"}), 400)
        assert [x["id"] for x in http.get("/api/voices", params={"kind": "library"}).json()] == [vid]

        job_id = _job_using(s.studio.data_dir, vid, "queued")
        assert job_id in assert_error(http.delete(f"/api/voices/{vid}"), 409)
        _set_state(s.studio.data_dir, job_id, "cancelled")
        assert http.delete(f"/api/voices/{vid}").status_code == 204
        assert_error(http.get(f"/api/voices/{vid}"), 404)
        assert_error(http.get(f"/api/voices/{vid}/audio"), 404)
        assert http.get("/api/voices", params={"kind": "library"}).json() == []
