"""Reference clips are untrusted: bounded decoding, clear refusals, one stored copy by content,
normalised (mono, 24 kHz, silence cut, one loudness) so the same recording gets one id.

The clips are real audio made by the default engine and encoded by PyAV into each format a
user may bring; the broken ones are real files damaged the ways files get damaged.
"""

from __future__ import annotations

import io
import json
import struct

import av
import numpy as np
import pytest
import soundfile as sf

from indextts_yt.clips import (CLIP_LUFS, CLIP_RATE, MAX_CLIP_BYTES, ClipStore, decode_clip,
                               prepare_clip)
from indextts_yt.errors import ClipNotFound, InputError, PayloadTooLarge

from conftest import DETERMINISTIC, cli


def speech(seconds: float = 3.0, rate: int = 22_050) -> np.ndarray:
    """Real speech from the default engine, cut or repeated to ``seconds``."""
    from indextts_yt.engines import registry

    engine = registry.get_engine("piper")
    audio = np.concatenate(list(engine.synthesize(
        "This is the voice I would like the narration to be read in, slowly and clearly.",
        engine.prepare_voice("joe"), DETERMINISTIC)))  # levels and trims not drawn at random
    if rate != engine.sample_rate:
        import soxr

        audio = soxr.resample(audio, engine.sample_rate, rate).astype(np.float32)
    reps = int(np.ceil(seconds * rate / len(audio)))
    return np.tile(audio, reps)[: int(seconds * rate)]


def wav_bytes(audio: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def encoded(audio: np.ndarray, rate: int, container: str, codec: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1).astype(np.float32),
                                           format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return speech(3.0, 22_050)


@pytest.mark.parametrize("container, codec, rate", [
    ("flac", "flac", 22_050), ("mp3", "libmp3lame", 44_100), ("ogg", "libopus", 48_000),
    ("ipod", "aac", 44_100), ("wav", "pcm_s24le", 16_000),
])
def test_every_common_format_decodes_to_the_same_voice(voice, container, codec, rate):
    import soxr

    source = soxr.resample(voice, 22_050, rate).astype(np.float32)
    samples, got_rate = decode_clip(encoded(source, rate, container, codec), f"v.{container}")
    assert got_rate == CLIP_RATE
    assert abs(len(samples) / got_rate - 3.0) < 0.1  # encoder padding at most
    # Lossy codecs change the waveform, not its loudness.
    rms = lambda x: float(np.sqrt(np.mean(x ** 2)))  # noqa: E731
    assert rms(samples) == pytest.approx(rms(source), rel=0.15)


def test_stereo_high_rate_becomes_mono_at_the_clip_rate(voice):
    import soxr

    hi = soxr.resample(voice, 22_050, 96_000).astype(np.float32)
    stereo = np.stack([hi, hi * 0.5], axis=1)
    samples, rate = decode_clip(wav_bytes(stereo, 96_000, "FLOAT"), "stereo.wav")
    assert rate == CLIP_RATE and samples.ndim == 1
    assert abs(len(samples) / rate - 3.0) < 0.02


@pytest.mark.parametrize("make, message", [
    (lambda v: b"", "empty"),
    (lambda v: b"this is not audio at all, just text with a .wav name" * 20, "not a readable audio"),
    (lambda v: bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8)),
     "not a readable audio"),
    (lambda v: wav_bytes(v, 22_050)[:30], "not a readable audio"),  # header cut short
    (lambda v: wav_bytes(v[:22_050 // 2], 22_050), "at least 1 s"),  # 0.5 s
    (lambda v: wav_bytes(np.tile(v, 6), 22_050), r"has 1[78]\.\d s of speech, longer than 15 s"),
    (lambda v: wav_bytes(np.tile(v, 14), 22_050), "longer than 30 s"),  # 42 s
    (lambda v: wav_bytes(np.zeros(22_050 * 3, np.float32), 22_050), "silent"),
    # Half a second of speech in 4 s of file: the length is checked on the speech.
    (lambda v: wav_bytes(np.concatenate([np.zeros(22_050 * 2, np.float32), v[:22_050 // 2],
                                         np.zeros(22_050 * 2, np.float32)]), 22_050),
     r"has 0\.[4-6]\d s of speech; a voice needs at least 1 s"),
])
def test_bad_clips_are_refused_with_a_reason(voice, make, message):
    with pytest.raises(InputError, match=message):
        prepare_clip(make(voice), "bad.wav")


def test_a_header_that_lies_about_its_size_is_bounded(voice):
    """A RIFF/data size claiming gigabytes: decoding stops at what is really there (or at
    the length limit), it never allocates what the header claims."""
    data = bytearray(wav_bytes(voice, 22_050))
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)
    at = data.index(b"data")
    data[at + 4:at + 8] = struct.pack("<I", 0xFFFFFFF0)
    samples, rate = decode_clip(bytes(data), "liar.wav")
    assert abs(len(samples) / rate - 3.0) < 0.05


def test_truncated_file_keeps_what_is_there_or_is_refused(voice):
    data = wav_bytes(voice, 22_050)
    samples, rate = decode_clip(data[: len(data) // 2], "half.wav")  # 1.5 s of real audio
    assert abs(len(samples) / rate - 1.5) < 0.05


def test_too_big_is_refused_before_decoding():
    with pytest.raises(PayloadTooLarge, match="MB"):
        decode_clip(b"\0" * (MAX_CLIP_BYTES + 1), "huge.wav")


def test_store_keeps_one_copy_by_content(tmp_path, voice):
    store = ClipStore(tmp_path)
    first = store.add(wav_bytes(voice, 22_050), "me.wav")
    again = store.add(wav_bytes(voice, 22_050), "me-again.wav")
    assert first.id == again.id and first.id.startswith("clip-")
    assert first.name == "me" and 2.5 < first.seconds <= 3.0
    other = store.add(wav_bytes(voice[::-1].copy(), 22_050), "other.wav")
    assert other.id != first.id
    assert [c.id for c in store.list()] == sorted([first.id, other.id])
    stored, rate = sf.read(first.path)
    assert rate == CLIP_RATE and stored.ndim == 1 and sf.info(first.path).subtype == "PCM_16"
    assert not list(store.dir.glob("*.tmp-*"))
    with pytest.raises(ClipNotFound):
        store.get("clip-0000000000000000")
    with pytest.raises(InputError, match="clip id"):
        store.get("../../etc/passwd")


def test_stored_clip_is_trimmed_at_one_loudness_and_stable(tmp_path, voice):
    """Silence padded around the speech is cut, the level is the target whatever it was, and
    the stored file given again is the same clip (so an exported voice keeps its id)."""
    import pyloudnorm

    from indextts_yt.audio.loudness import measure

    store = ClipStore(tmp_path)
    quiet = np.concatenate([np.zeros(22_050, np.float32), voice * 0.05,
                            np.zeros(int(22_050 * 1.5), np.float32)])
    clip = store.add(wav_bytes(quiet, 22_050), "quiet.wav")
    loud = store.add(wav_bytes(voice * 0.9, 22_050), "loud.wav")
    for stored_clip in (clip, loud):
        audio, rate = sf.read(stored_clip.path, dtype="float32")
        assert 2.5 < len(audio) / rate <= 3.05  # the 2.5 s of padding is gone
        lufs = pyloudnorm.Meter(rate).integrated_loudness(audio.astype(np.float64))
        peak = measure(audio, rate).true_peak_dbtp
        assert peak <= -0.95
        # At the target, unless the ceiling held it lower (a rare render with a high peak).
        assert lufs == pytest.approx(CLIP_LUFS, abs=0.3) or (lufs < CLIP_LUFS and peak > -1.2)
        assert store.add(stored_clip.path.read_bytes(), "again.wav").id == stored_clip.id
    # Float input at many levels: each stored clip is a fixed point of the pipeline.
    for level in (0.013, 0.07, 0.21, 0.48, 0.77, 0.99):
        stored_clip = store.add(wav_bytes(voice * level, 22_050, "FLOAT"), f"{level}.wav")
        assert store.add(stored_clip.path.read_bytes(), "again.wav").id == stored_clip.id


def test_a_clip_whose_peak_would_pass_the_ceiling_stays_under_it(tmp_path, voice):
    """Gain only: a click 30 dB over quiet speech holds the clip under the target, with its
    true peak at the ceiling; stored again, it is the same clip."""
    from indextts_yt.audio.loudness import measure

    clicky = voice * 0.1
    clicky[40_000:40_010] = 0.99
    clip = ClipStore(tmp_path).add(wav_bytes(clicky, 22_050), "clicky.wav")
    audio, rate = sf.read(clip.path, dtype="float32")
    loudness = measure(audio, rate)
    assert -1.1 < loudness.true_peak_dbtp <= -1.0
    assert loudness.integrated_lufs < CLIP_LUFS - 10
    assert ClipStore(tmp_path).add(clip.path.read_bytes(), "again.wav").id == clip.id


def test_a_bad_clip_stores_nothing(tmp_path):
    store = ClipStore(tmp_path)
    with pytest.raises(InputError):
        store.add(b"RIFF....WAVEfmt garbage", "bad.wav")
    assert store.list() == []


def test_cloning_engine_without_its_extra_or_weights_says_what_to_do(tmp_path, short_script,
                                                                     data_dir):
    """Choosing a cloning engine that cannot start fails at once, in one line, with the
    command that fixes it; no job is stored."""
    out = tmp_path / "o.wav"
    clip = tmp_path / "me.wav"
    clip.write_bytes(wav_bytes(speech(3.0), 22_050))
    result = cli("narrate", str(short_script), "-o", str(out), "-e", "indextts2.5",
                 "--voice", str(clip), "--checkpoints", str(tmp_path / "nowhere"),
                 "--data-dir", str(data_dir))
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "hf download IndexTeam/IndexTTS-2.5" in lines[0]
    assert not out.exists()
    jobs = json.loads(cli("jobs", "--json", "--data-dir", str(data_dir)).stdout)
    assert jobs == []


# -- a clip must hold speech ------------------------------------------------------------------
# Each non-speech signal is fixed (seeded), 3 s at 22.05 kHz, at an ordinary level.

RATE = 22_050
_T = np.arange(3 * RATE) / RATE


def _scaled(x: np.ndarray) -> np.ndarray:
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def _coloured_noise(power: float) -> np.ndarray:
    """Noise whose spectrum falls as 1/f**power (1: pink, 2: brown)."""
    spectrum = np.fft.rfft(np.random.default_rng(7).normal(0, 1, len(_T)))
    freqs = np.fft.rfftfreq(len(_T), 1 / RATE)
    freqs[0] = freqs[1]
    return _scaled(np.fft.irfft(spectrum / freqs ** (power / 2), len(_T)))


NOT_SPEECH = {
    "white noise": lambda: np.random.default_rng(3).normal(0, 0.3, len(_T)).astype(np.float32),
    "pink noise": lambda: _coloured_noise(1),
    "brown noise": lambda: _coloured_noise(2),
    "hiss": lambda: np.random.default_rng(4).normal(0, 0.003, len(_T)).astype(np.float32),
    "tone 220 Hz": lambda: _scaled(np.sin(2 * np.pi * 220 * _T)),
    "tone 1 kHz": lambda: _scaled(np.sin(2 * np.pi * 1000 * _T)),
    "chords": lambda: _scaled(sum(np.sin(2 * np.pi * f * _T) for f in (261.6, 329.6, 392.0))
                              * (_T < 1.5) + sum(np.sin(2 * np.pi * f * _T)
                                                 for f in (220.0, 277.2, 329.6)) * (_T >= 1.5)),
    # Notes with harmonics, each struck and decaying: a piano-like tune.
    "melody": lambda: _scaled(sum(
        (_T >= i * 0.25) * np.exp(-4 * np.clip(_T - i * 0.25, 0, None))
        * sum(np.sin(2 * np.pi * k * f * _T) / k ** 1.5 for k in range(1, 8))
        for i, f in enumerate([261.6, 329.6, 392.0, 523.3, 392.0, 329.6, 261.6, 196.0,
                               220.0, 246.9, 261.6, 293.7]))),
}


@pytest.mark.parametrize("kind", NOT_SPEECH)
def test_a_clip_without_speech_is_refused(kind):
    with pytest.raises(InputError, match="no speech found in the clip"):
        prepare_clip(wav_bytes(NOT_SPEECH[kind](), RATE), f"{kind}.wav")


def test_noise_under_a_header_claiming_gigabytes_is_refused():
    data = bytearray(wav_bytes(NOT_SPEECH["white noise"](), RATE))
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)
    at = data.index(b"data")
    data[at + 4:at + 8] = struct.pack("<I", 0xFFFFFFF0)
    with pytest.raises(InputError, match="no speech found in the clip"):
        prepare_clip(bytes(data), "liar.wav")


def _espeak(text: str, voice: str) -> tuple[np.ndarray, int]:
    from indextts_yt.engines import registry

    engine = registry.get_engine("espeak")
    return np.concatenate(list(engine.synthesize(text, engine.prepare_voice(voice), {}))), \
        engine.sample_rate


def test_real_speech_is_accepted(voice):
    """Speech by both engines, in two languages, with pauses, and with noise behind it."""
    pause = np.zeros(RATE * 4 // 5, np.float32)
    loudness = float(np.sqrt(np.mean(voice ** 2)))
    noisy = voice + np.random.default_rng(5).normal(0, loudness / 10, len(voice)).astype(np.float32)
    clips = {"piper.wav": wav_bytes(voice, RATE),
             "pauses.wav": wav_bytes(np.concatenate([voice[:RATE], pause, voice[RATE:2 * RATE],
                                                     pause, voice[2 * RATE:]]), RATE),
             "noisy.wav": wav_bytes(noisy, RATE)}  # 20 dB under the speech
    for name, (text, lang) in {"en": ("Oh no! I cannot believe this is happening again!", "en-us"),
                               "zh": ("你好，今天天气很好，我们去公园散步吧。", "cmn")}.items():
        clips[f"espeak-{name}.wav"] = wav_bytes(*_espeak(text, lang))
    for name, data in clips.items():
        assert prepare_clip(data, name).seconds > 1.0, name


def test_cli_refuses_a_clip_without_speech_in_one_line(tmp_path, short_script, data_dir):
    noise = tmp_path / "noise.wav"
    noise.write_bytes(wav_bytes(NOT_SPEECH["pink noise"](), RATE))
    for args in (["voices", "add", str(noise)],
                 # (a cloning engine loads before its --voice is read: test_indextts25.py)
                 ["narrate", str(short_script), "-o", str(tmp_path / "o.wav"),
                  "--emotion-clip", str(noise)]):
        result = cli(*args, "--data-dir", str(data_dir))
        lines = result.stderr.decode().strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1, result.stderr
        assert "noise.wav: no speech found in the clip" in lines[0]
    assert not (data_dir / "clips").exists() or not list((data_dir / "clips").iterdir())
    assert not (tmp_path / "o.wav").exists()


def test_api_refuses_a_clip_without_speech(tmp_path):
    from server_util import assert_error, serve

    with serve(tmp_path / "data", start_worker=False) as s:
        for kind in ("white noise", "tone 1 kHz", "hiss"):
            files = {"file": (f"{kind}.wav", wav_bytes(NOT_SPEECH[kind](), RATE), "audio/wav")}
            assert "no speech found" in assert_error(s.http.post("/api/clips", files=files), 400)
            assert "no speech found" in assert_error(
                s.http.post("/api/voices", files=files, data={"name": kind}), 400)
        assert s.http.get("/api/clips").json() == []
