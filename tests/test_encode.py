"""Publishable files: every format encoded from a real narration WAV and decoded back.

The narration is real speech from the default engine (piper), written as the studio writes its
output: 16-bit mono at 22.05 kHz. Each encoded file is decoded again with PyAV and compared
with the WAV: length, sample rate, the samples themselves (bit-exact for WAV and FLAC, highly
correlated for the lossy codecs), and the tags and chapters read back from the file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import soxr

from conftest import DETERMINISTIC
from indextts_yt.audio import encode as encode_module
from indextts_yt.audio.chapters import (
    Chapter,
    check_chapters,
    youtube_chapter_list,
    youtube_warnings,
)
from indextts_yt.audio.encode import (
    FORMATS,
    OutputFormat,
    encode_wav,
    output_format,
    parse_bitrate,
)
from indextts_yt.engines import registry
from indextts_yt.engines.base import settings_for
from indextts_yt.errors import InputError

SR = 22050
SENTENCES = [
    "Chapter one, in which we are introduced to Winnie-the-Pooh and some bees.",
    "Here is Edward Bear, coming downstairs now, bump, bump, bump, on the back of his head.",
    "It is, as far as he knows, the only way of coming downstairs.",
    "Chapter two, in which Pooh goes visiting and gets into a tight place.",
    "Edward Bear, known to his friends as Winnie-the-Pooh, was walking through the forest.",
    "Chapter three, in which Pooh and Piglet go hunting and nearly catch a Woozle.",
    "The Piglet lived in a very grand house in the middle of a beech tree.",
]
CHAPTER_STARTS = (0, 3, 5)  # sentence indexes where a chapter begins
PAUSE_S = 0.5
METADATA = {"title": "Winnie-the-Pooh, read aloud", "artist": "Joe (piper)",
            "album": "Studio tests", "comment": "chapters: three", "date": "2026",
            "genre": "Audiobook"}


@pytest.fixture(scope="module")
def narration(tmp_path_factory) -> tuple[Path, np.ndarray, list[Chapter]]:
    """A real narration WAV (16-bit, 22.05 kHz, mono), its samples and three chapters."""
    engine = registry.get_engine("piper")
    assert engine.sample_rate == SR
    voice = engine.prepare_voice("joe")
    settings = settings_for(engine, DETERMINISTIC)  # lengths and levels not drawn at random
    pieces, starts = [], []
    at = 0
    for text in SENTENCES:
        speech = np.concatenate(list(engine.synthesize(text, voice, settings)))
        starts.append(at / SR)
        pause = np.zeros(int(PAUSE_S * SR), dtype=np.float32)
        pieces += [speech, pause]
        at += len(speech) + len(pause)
    audio = np.concatenate(pieces)
    path = tmp_path_factory.mktemp("narration") / "narration.wav"
    sf.write(path, audio, SR, subtype="PCM_16")
    samples, sr = sf.read(path, dtype="int16")
    assert sr == SR and samples.ndim == 1
    total = len(samples) / SR
    bounds = [starts[i] for i in CHAPTER_STARTS] + [total]
    chapters = [Chapter(f"Chapter {n}", bounds[n - 1], bounds[n]) for n in (1, 2, 3)]
    return path, samples, chapters


def decode(path: Path) -> tuple[np.ndarray, int, dict, list, av.AudioStream]:
    """Samples (first channel, native dtype), rate, tags (container + stream) and chapters."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
        tags = {**container.metadata, **stream.metadata}
        return (np.concatenate(frames, axis=1)[0], stream.rate, tags, container.chapters(),
                stream)


def best_alignment(reference: np.ndarray, decoded: np.ndarray, rate: int) -> tuple[int, float]:
    """Lag (decoded relative to reference, in samples, within ±200 ms) and correlation there."""
    a = reference.astype(np.float64)
    b = decoded.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    xc = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)
    max_lag = int(0.2 * rate)
    lags = np.r_[0:max_lag + 1, -max_lag:0]
    lag = int(lags[np.argmax(xc[lags])])
    if lag >= 0:
        x, y = a, b[lag:]
    else:
        x, y = a[-lag:], b
    m = min(len(x), len(y))
    return lag, float(np.corrcoef(x[:m], y[:m])[0, 1])


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


@pytest.fixture
def no_encoding(monkeypatch):
    """Fail the test if encoding starts: the refusals must come before any work."""
    def refuse(*args, **kwargs):
        raise AssertionError("encoding started before the input was refused")
    monkeypatch.setattr(encode_module, "_encode", refuse)


CASES = [  # (file name, output_format keywords)
    ("out.wav", {}),
    ("out24.wav", {"sample_format": 24}),
    ("out.flac", {}),
    ("out.mp3", {}),
    ("out.ogg", {}),
    ("out.opus", {}),
    ("out.m4a", {}),
]


@pytest.mark.parametrize("name,options", CASES, ids=[c[0] for c in CASES])
def test_each_format_decodes_back_to_the_narration(narration, tmp_path, name, options):
    src, samples, chapters = narration
    out = tmp_path / name
    spec = output_format(out, **options)
    encode_wav(src, out, spec, chapters if spec.chapters else (), METADATA)
    assert leftovers(tmp_path, {name}) == []  # no temp file left behind

    decoded, rate, tags, read_chapters, stream = decode(out)
    assert rate == (48000 if spec.name == "opus" else SR)
    seconds = len(samples) / SR
    # Gapless: LAME header, Opus pre-skip/end granule and the MP4 edit list trim the codec's
    # priming; AAC's last frame may come back whole (at most 1023 samples, 46 ms).
    assert abs(len(decoded) / rate - seconds) <= 0.060, (len(decoded) / rate, seconds)

    if spec.name == "wav" and spec.sample_format == "s24":
        assert decoded.dtype == np.int32
        assert np.array_equal(decoded >> 16, samples)  # 16 bits padded to 24: exact
        assert np.all(decoded & 0xFFFF == 0)
    elif spec.lossless:
        assert decoded.dtype == np.int16
        assert np.array_equal(decoded, samples)  # bit-exact
    else:
        reference = samples.astype(np.float32) / 32768
        if rate != SR:
            reference = soxr.resample(reference, SR, rate)
        lag, corr = best_alignment(reference, decoded, rate)
        assert corr > 0.9, (lag, corr)
        assert abs(lag) <= rate // 1000, f"encoder delay not compensated: {lag} samples"

    # Tags: WAV's RIFF INFO and M4A's atoms have fields for these; the others take any.
    for key, value in METADATA.items():
        assert tags.get(key) == value, (key, tags)

    if spec.chapters:
        assert [c["metadata"]["title"] for c in read_chapters] == [c.title for c in chapters]
        for got, want in zip(read_chapters, chapters):
            tb = got["time_base"]
            assert float(got["start"] * tb) == pytest.approx(want.start_s, abs=0.0015)
        for got, want in zip(read_chapters[:-1], chapters[:-1]):
            assert float(got["end"] * got["time_base"]) == pytest.approx(want.end_s, abs=0.0015)
    else:
        assert read_chapters == []

    if spec.name in ("mp3", "aac", "opus"):  # a bit rate near the one asked for
        kbps = out.stat().st_size * 8 / seconds / 1000
        assert 0.6 * spec.bitrate / 1000 < kbps < 1.25 * spec.bitrate / 1000, kbps
    if spec.name == "mp3":
        assert stream.bit_rate == 96000  # constant bit rate, as chosen


def test_wav_refuses_chapters_m4a_has_its_index_first_mp3_has_id3v23(narration, tmp_path):
    src, _, chapters = narration
    with pytest.raises(InputError, match="wav files cannot carry chapters"):
        encode_wav(src, tmp_path / "x.wav", output_format(tmp_path / "x.wav"), chapters)
    assert not (tmp_path / "x.wav").exists()
    out = tmp_path / "x.m4a"
    encode_wav(src, out, output_format(out), chapters)
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # the index first: plays while loading
    mp3 = tmp_path / "x.mp3"
    encode_wav(src, mp3, output_format(mp3), chapters)
    assert mp3.read_bytes()[:4] == b"ID3\x03"  # ID3v2.3, which every player reads


def test_bit_rate_and_flac_level_are_applied(narration, tmp_path):
    src, samples, _ = narration
    sizes = {}
    for bitrate in ("48k", "128000"):
        out = tmp_path / f"b{bitrate}.mp3"
        encode_wav(src, out, output_format(out, bitrate=bitrate))
        sizes[bitrate] = out.stat().st_size
        _, _, _, _, stream = decode(out)
        assert stream.bit_rate == parse_bitrate(bitrate)
    assert sizes["128000"] > 2 * sizes["48k"]

    levels = {}
    for level in (0, 8):
        out = tmp_path / f"l{level}.flac"
        encode_wav(src, out, output_format(out, compression_level=level))
        levels[level] = out.stat().st_size
        assert np.array_equal(decode(out)[0], samples)
    assert levels[8] < levels[0]


def test_rates_a_codec_lacks_are_resampled_and_24_bit_flac_is_exact(narration, tmp_path):
    src, samples, _ = narration
    speech = samples.astype(np.float32) / 32768
    odd = tmp_path / "odd.wav"  # 25 kHz: no MP3 or AAC sample rate
    sf.write(odd, soxr.resample(speech, SR, 25000), 25000, subtype="PCM_16")
    for name in ("o.mp3", "o.m4a"):
        encode_wav(odd, tmp_path / name, output_format(tmp_path / name))
        decoded, rate, *_ = decode(tmp_path / name)
        assert rate == 32000
        assert abs(len(decoded) / rate - len(samples) / SR) <= 0.060

    deep = tmp_path / "deep.wav"
    wide = samples.astype(np.int32) * 256 + 77  # real 24-bit content, low bits in use
    sf.write(deep, wide << 8, SR, subtype="PCM_24")  # soundfile wants int32 left-justified
    out = tmp_path / "deep.flac"
    encode_wav(deep, out, output_format(out))
    decoded, rate, *_ = decode(out)
    assert decoded.dtype == np.int32 and np.array_equal(decoded >> 8, wide)


def test_failure_mid_encoding_leaves_the_old_file_and_no_temp(narration, tmp_path, monkeypatch):
    src, _, _ = narration
    out = tmp_path / "out.mp3"
    out.write_bytes(b"the previous narration")
    real = encode_module._read_blocks

    def broken(path, frame_format):
        blocks = real(path, frame_format)
        yield next(blocks)
        raise OSError("disk unplugged")

    monkeypatch.setattr(encode_module, "_read_blocks", broken)
    with pytest.raises(OSError, match="disk unplugged"):
        encode_wav(src, out, output_format(out))
    assert out.read_bytes() == b"the previous narration"
    assert leftovers(tmp_path, {"out.mp3"}) == []

    monkeypatch.setattr(encode_module, "_read_blocks", real)
    encode_wav(src, out, output_format(out))  # and a good run replaces it whole
    assert out.read_bytes()[:3] == b"ID3"


# ------------------------------------------------------------------------------------------
# Refusals: one line, InputError, nothing written.

@pytest.mark.parametrize("name,kwargs,message", [
    ("a.xyz", {}, r"a\.xyz: unknown audio extension \.xyz; use one of \.wav, \.flac, \.mp3, "
                  r"\.ogg, \.opus, \.m4a"),
    ("a.aac", {}, r"a\.aac: unknown audio extension \.aac; for AAC name it \.m4a"),
    ("narration", {}, "no extension to tell the format by"),
    ("a.mp3", {"fmt": "flac"}, r"the extension \.mp3 \(that is mp3\) does not match the "
                               r"format flac; name the file \*\.flac"),
    ("a.bin", {"fmt": "mp3"}, r"the extension \.bin does not match the format mp3"),
    ("a.mp3", {"fmt": "vorbis"}, "unknown output format 'vorbis'; use one of wav, flac, mp3"),
    ("a.flac", {"bitrate": "96k"}, "flac is lossless and takes no bit rate .*compression level"),
    ("a.wav", {"bitrate": 128000}, "wav is lossless and takes no bit rate"),
    ("a.mp3", {"bitrate": "fast"}, "bit rate must be like 96k or 96000, got 'fast'"),
    ("a.mp3", {"bitrate": "96"}, r"mp3 bit rate 96 is out of range: it takes 8k to 320k "
                                 r"\(did you mean 96k\?\)"),
    ("a.mp3", {"bitrate": "1000k"}, "mp3 bit rate 1000k is out of range: it takes 8k to 320k"),
    ("a.mp3", {"bitrate": "100k"}, "mp3 bit rate 100k is not one MP3 can use; use one of 8k"),
    ("a.ogg", {"bitrate": "300k"}, "opus bit rate 300k is out of range: it takes 6k to 256k"),
    ("a.m4a", {"bitrate": "8k"}, "aac bit rate 8k is out of range: it takes 16k to 320k"),
    ("a.mp3", {"bitrate": "-5k"}, "bit rate must be like 96k"),
    ("a.mp3", {"bitrate": True}, "bit rate must be like 96k"),
    ("a.mp3", {"compression_level": 5}, "mp3 takes no compression level"),
    ("a.flac", {"compression_level": 13}, "flac compression level must be 0-12, got 13"),
    ("a.flac", {"compression_level": "best"}, "flac compression level must be a whole number"),
    ("a.wav", {"sample_format": 32}, r"WAV sample format must be 16-bit \(s16\) or 24-bit"),
    ("a.m4a", {"sample_format": 24}, "aac takes no sample format"),
])
def test_bad_formats_are_refused_in_one_line(tmp_path, name, kwargs, message):
    with pytest.raises(InputError, match=message) as info:
        output_format(tmp_path / name, **kwargs)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_formats_by_extension_name_and_alias(tmp_path):
    assert {n: f.extensions for n, f in FORMATS.items()} == {
        "wav": (".wav",), "flac": (".flac",), "mp3": (".mp3",), "opus": (".ogg", ".opus"),
        "aac": (".m4a",)}
    spec = output_format(Path("Book.MP3"))
    assert (spec.name, spec.codec, spec.bitrate, spec.extension) == ("mp3", "libmp3lame",
                                                                    96000, ".mp3")
    assert not spec.bitrate_given and spec.summary == "mp3, 96 kbit/s"
    assert output_format(Path("x.opus")).bitrate == 48000
    assert output_format(Path("x.m4a"), "m4a").container == "ipod"
    assert output_format(Path("x"), "ogg").extension == ".ogg"
    assert output_format(Path("x.ogg"), "opus", "64 kbps").bitrate == 64000
    flac = output_format(Path("x.flac"))
    assert (flac.bitrate, flac.compression_level, flac.summary) == (None, 5, "flac, level 5")
    wav = output_format(Path("x.wav"), sample_format="24-bit")
    assert (wav.codec, wav.sample_format, wav.summary) == ("pcm_s24le", "s24", "wav, 24-bit")
    assert output_format(Path("x.wav")).sample_format == "s16"
    assert isinstance(spec, OutputFormat)
    with pytest.raises(Exception):
        spec.bitrate = 1  # frozen
    assert [parse_bitrate(v) for v in ("96k", "96K", "128000", 64000, "1.5k", " 32 kb/s ")] \
        == [96000, 96000, 128000, 64000, 1500, 32000]


def test_bad_encode_inputs_are_refused_before_any_work(narration, tmp_path, no_encoding):
    src, samples, chapters = narration

    def refused(message, source=src, name="out.mp3", spec_kwargs=None, **kwargs):
        out = tmp_path / name
        spec = output_format(out, **(spec_kwargs or {}))
        with pytest.raises(InputError, match=message) as info:
            encode_wav(source, out, spec, **kwargs)
        assert "\n" not in str(info.value)
        assert not out.is_file()

    refused("no such file", source=tmp_path / "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    refused("notes.wav: not a readable WAV", source=text)
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([samples, samples], axis=1), SR, subtype="PCM_16")
    refused("expected a mono narration WAV, it has 2 channels", source=stereo)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, dtype=np.int16), SR, subtype="PCM_16")
    refused("the WAV has no audio", source=empty)

    total = len(samples) / SR
    refused("wav files cannot carry chapters", name="out.wav", chapters=chapters)
    refused(r"chapter 3 \('Chapter 3'\) ends at .* after the audio",
            chapters=[*chapters[:2], Chapter("Chapter 3", chapters[2].start_s, total + 1)])
    refused("chapter 2 .* starts at .* before chapter 1 ends",
            chapters=[Chapter("A", 0, 5), Chapter("B", 4, 8)])
    refused("chapter 1 has no title", chapters=[Chapter("  \n", 0, 5)])
    refused(r"chapter 1 \('A'\) is empty or backwards", chapters=[Chapter("A", 5, 5)])
    refused(r"metadata tag name 'bad key' must be letters", metadata={"bad key": "x"})
    refused("metadata tag 'year' must be text, got int", metadata={"year": 2026})
    refused("reserved for chapters", metadata={"CHAPTER001": "00:00:00.000"})

    # A bit rate the codec has, but not at this WAV's 22.05 kHz.
    refused(r"mp3 at 22050 Hz \(MPEG-2\) takes 8k to 160k, not 320k",
            spec_kwargs={"bitrate": "320k"})
    refused("aac at 22050 Hz takes at most 132k for one channel, not 160k", name="out.m4a",
            spec_kwargs={"bitrate": "160k"})

    # The destination: missing folder, a folder in the way, a name for another format.
    refused(r"the folder .*nowhere does not exist", name="nowhere/out.mp3")
    (tmp_path / "taken.mp3").mkdir()
    refused("taken.mp3: it is a folder", name="taken.mp3")
    assert (tmp_path / "taken.mp3").is_dir()
    with pytest.raises(InputError, match="the extension .flac .* does not match the format mp3"):
        encode_wav(src, tmp_path / "out.flac", output_format(tmp_path / "x.mp3"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unwritable_folder_is_refused_before_encoding(narration, tmp_path, no_encoding):
    src, _, _ = narration
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root writes anywhere: os.access says yes
            with pytest.raises(InputError, match="the folder .*locked is not writable"):
                encode_wav(src, locked / "out.mp3", output_format(locked / "out.mp3"))
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
    if sys.platform.startswith("linux"):
        # A folder that refuses new files even to root: the trial temp file finds out.
        with pytest.raises(InputError, match=r"cannot write /proc/out\.mp3: "):
            encode_wav(src, Path("/proc/out.mp3"), output_format(Path("/proc/out.mp3")))


# ------------------------------------------------------------------------------------------
# Chapters for YouTube

def test_youtube_chapter_list_lines():
    chapters = [Chapter("Introduction", 2.4, 42.0), Chapter("In which  Pooh\n goes visiting",
                                                                42.0, 119.99),
                Chapter("The Woozle", 119.99, 600.0)]
    # The first forced to 00:00; others rounded down, so a link lands before the first word.
    assert youtube_chapter_list(chapters, 600.0) == (
        "00:00 Introduction\n00:42 In which Pooh goes visiting\n01:59 The Woozle\n")
    assert youtube_warnings(chapters) == [
        "the first chapter ('Introduction') starts at 00:02; YouTube needs the first at 0:00, "
        "so the list puts it at 00:00"]
    long = [Chapter("One", 0, 1800), Chapter("Two", 1800, 3723.5), Chapter("Three", 3723.5, 7300)]
    assert youtube_chapter_list(long, 7300) == "0:00:00 One\n0:30:00 Two\n1:02:03 Three\n"
    assert youtube_chapter_list(long[:1], 59 * 60 + 59) == "00:00 One\n"
    assert youtube_chapter_list([Chapter("A", 0, 1800), Chapter("B", 3570, 3599)], 3599) \
        == "00:00 A\n59:30 B\n"
    assert youtube_chapter_list([Chapter("Long", 0, 3600)], 3600) == "0:00:00 Long\n"
    assert youtube_chapter_list([], 10) == ""
    with pytest.raises(InputError, match="after the audio"):
        youtube_chapter_list(long, 100)


def test_youtube_warnings_follow_its_rules():
    good = [Chapter("A", 0, 10), Chapter("B", 10, 20), Chapter("C", 20, 30)]
    assert youtube_warnings(good) == []
    assert youtube_warnings(good[:2]) == [
        "2 chapters; YouTube shows chapters only when there are at least 3"]
    assert youtube_warnings([]) == [
        "0 chapters; YouTube shows chapters only when there are at least 3"]
    short = [Chapter("A", 0, 10), Chapter("B", 10, 19.5), Chapter("C", 19.5, 29)]
    # B is listed 00:10 to 00:19, C from 00:19 to its end at 29 s.
    assert youtube_warnings(short) == [
        "chapter 2 ('B') is 9 s long; YouTube needs at least 10 s per chapter"]
    assert youtube_warnings([*good[:2], Chapter("C", 20, 29.96)]) == [
        "chapter 3 ('C') is 9.9 s long; YouTube needs at least 10 s per chapter"]


def test_check_chapters_cleans_titles_and_clamps_rounded_ends():
    checked = check_chapters([Chapter(" Intro \n part", 0, 5), Chapter("End", 5, 10.03)], 10.0)
    assert checked == [Chapter("Intro part", 0.0, 5.0), Chapter("End", 5.0, 10.0)]
    with pytest.raises(InputError, match="must be finite"):
        check_chapters([Chapter("A", 0, float("nan"))], 10)
    with pytest.raises(InputError, match="starts before the audio"):
        check_chapters([Chapter("A", -1, 5)], 10)
