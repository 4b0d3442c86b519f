"""Publishable files from the assembled narration WAV: WAV, FLAC, MP3, Opus and AAC (M4A).

:func:`output_format` turns a path (and optionally a format name, a bit rate, ...) into an
:class:`OutputFormat`, refusing anything unusable with an :class:`InputError` before any
work. :func:`encode_wav` then reads the 16-bit WAV one block at a time (soundfile), encodes
with PyAV (the FFmpeg inside its wheel; no system ffmpeg is used) and writes a temp file
beside the destination that is fsynced and renamed over it (``atomic.atomic_file``): memory
stays flat however long the narration, and the destination holds either its previous content
or the complete new file, never a partial one.

A narration still being made is encoded as it comes instead (jobs/publish.py): an
:class:`Encoder` planned by :func:`plan_encoding` takes the samples in order, into a file without
chapters (their times are known only at the end), and :func:`place_encoded` then puts it
at its destination with its chapters, copying its packets into a new container (a remux:
nothing is encoded again, a 30-minute MP3 takes well under a second). Both paths quantise
to 16 bits first, as the narration WAV holds its samples, so they write the same file.

Formats (``FORMATS``), all mono:

======  ==============  ============  ================  ===============================
name    extensions      codec         setting           chapters
======  ==============  ============  ================  ===============================
wav     .wav            PCM           16-bit | 24-bit   no (FFmpeg's WAV muxer has none)
flac    .flac           FLAC          level 0-12 (5)    yes, Vorbis comment CHAPTERnnn
mp3     .mp3            LAME, CBR     8k-320k (96k)     yes, ID3v2.3 CHAP frames
opus    .ogg, .opus     libopus, VBR  6k-256k (48k)     yes, Vorbis comment CHAPTERnnn
aac     .m4a            FFmpeg AAC    16k-320k (96k)    yes, Nero chpl + QuickTime track
======  ==============  ============  ================  ===============================

Default bit rates, for mono speech at 22.05-48 kHz. These files are published, and usually
uploaded somewhere that encodes them again (YouTube re-encodes every upload), so each default
leaves a margin above "just transparent" to survive that second generation:

- MP3 96 kbit/s CBR: 64 kbit/s is the classic spoken-word podcast rate and already clean for
  a voice; 96 kbit/s (0.72 MB a minute) removes LAME's remaining smearing of sibilants and is
  legal at every MP3 sample rate (MPEG-1 at 32-48 kHz and MPEG-2 at 16-24 kHz both have it).
- AAC 96 kbit/s: FFmpeg's built-in AAC encoder is weaker than Apple's or FDK's at low rates,
  so it gets the same margin as MP3; at 22.05 kHz it tops out near 94 kbit/s anyway.
- Opus 48 kbit/s VBR: Opus is fullband and transparent for speech from about 32 kbit/s.
- FLAC level 5 (FFmpeg's and libFLAC's default): levels above 8 save well under 1 % on
  speech, cost more time, and use prediction orders outside FLAC's streamable subset.

Opus is always encoded at 48 kHz (the WAV is resampled with soxr); the others keep the WAV's
rate (MP3/AAC resample only a rate their codec lacks, to the next one up). MP3 priming and
padding are recorded in the LAME header, AAC's in the MP4 edit list and Opus's as pre-skip
and end granule, so decoders (FFmpeg, browsers) give back exactly the narration's length.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import soundfile as sf

from ..errors import InputError
from ..atomic import atomic_file, replace_durably
from .chapters import Chapter, check_chapters
from .resample import BlockResampler
from .segment_file import BLOCK_FRAMES
from .wav_writer import to_pcm16

__all__ = [
    "FLAC_LEVELS",
    "FORMATS",
    "WAV_SAMPLE_FORMATS",
    "Chapter",
    "FormatInfo",
    "OutputFormat",
    "Encoder",
    "EncodingPlan",
    "encode_wav",
    "plan_encoding",
    "output_format",
    "parse_bitrate",
    "place_encoded",
]


@dataclass(frozen=True)
class FormatInfo:
    """What the studio writes for one output format (the table in the module docstring)."""

    name: str
    extensions: tuple[str, ...]  # the first is the one to suggest
    container: str  # FFmpeg muxer
    codec: str  # FFmpeg encoder (WAV: the 16-bit one; see WAV_SAMPLE_FORMATS)
    media_type: str
    lossless: bool
    chapters: bool  # whether the container carries chapters (FFmpeg writes them)
    default_bitrate: int | None = None  # bit/s; lossy formats only
    min_bitrate: int | None = None
    max_bitrate: int | None = None
    sample_rates: tuple[int, ...] | None = None  # what the codec takes; None: any

    @property
    def fixed_rate(self) -> int | None:
        """The one sample rate this codec always runs at (Opus: 48 kHz), else None."""
        rates = self.sample_rates
        return rates[0] if rates is not None and len(rates) == 1 else None


_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_AAC_RATES = (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000,
              88200, 96000)
# CBR bit rates an MP3 frame can declare: MPEG-1 Layer III (32-48 kHz) and MPEG-2/2.5 Layer
# III (8-24 kHz). LAME silently rounds anything else to the nearest legal one.
_MP3_MPEG1_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_MPEG2_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_MP3_KBPS = tuple(sorted(set(_MP3_MPEG1_KBPS) | set(_MP3_MPEG2_KBPS)))
# An AAC frame (1024 samples) holds at most 6144 bits per channel: 6 bits a sample.
_AAC_BITS_PER_SAMPLE = 6

#: Output formats by name; the encoders are those of the FFmpeg inside PyAV's wheel.
FORMATS: dict[str, FormatInfo] = {
    "wav": FormatInfo("wav", (".wav",), "wav", "pcm_s16le", "audio/wav",
                      lossless=True, chapters=False),
    "flac": FormatInfo("flac", (".flac",), "flac", "flac", "audio/flac",
                       lossless=True, chapters=True),
    "mp3": FormatInfo("mp3", (".mp3",), "mp3", "libmp3lame", "audio/mpeg",
                      lossless=False, chapters=True, default_bitrate=96_000,
                      min_bitrate=8_000, max_bitrate=320_000, sample_rates=_MP3_RATES),
    "opus": FormatInfo("opus", (".ogg", ".opus"), "ogg", "libopus", "audio/ogg",
                       lossless=False, chapters=True, default_bitrate=48_000,
                       min_bitrate=6_000, max_bitrate=256_000, sample_rates=(48000,)),
    "aac": FormatInfo("aac", (".m4a",), "ipod", "aac", "audio/mp4",
                      lossless=False, chapters=True, default_bitrate=96_000,
                      min_bitrate=16_000, max_bitrate=320_000, sample_rates=_AAC_RATES),
}

# Other names people use for a format.
_ALIASES = {"m4a": "aac", "ogg": "opus", "wave": "wav"}
# Extensions people try that the studio does not write, and what to use instead.
_EXTENSION_HINTS = {
    ".aac": "for AAC name it .m4a (raw .aac carries no tags or chapters)",
    ".mp4": "for AAC audio name it .m4a",
    ".oga": "for Opus name it .ogg or .opus",
}

#: WAV sample formats: name -> (FFmpeg encoder, bits).
WAV_SAMPLE_FORMATS = {"s16": ("pcm_s16le", 16), "s24": ("pcm_s24le", 24)}
_SAMPLE_FORMAT_ALIASES = {"16": "s16", "16bit": "s16", "pcm16": "s16", "pcms16le": "s16",
                          "24": "s24", "24bit": "s24", "pcm24": "s24", "pcms24le": "s24"}

#: FLAC compression levels FFmpeg accepts, and the default.
FLAC_LEVELS = range(0, 13)
FLAC_DEFAULT_LEVEL = 5

# Muxer options: ID3v2.3 rather than FFmpeg's default 2.4, because Windows and many car and
# podcast players read only 2.3 (which has CHAP too); the MP4 index first so a player can
# start before it has the whole file.
_CONTAINER_OPTIONS = {"mp3": {"id3v2_version": "3"}, "ipod": {"movflags": "+faststart"}}

_CHAPTER_KEY = re.compile(r"^chapter\d+", re.I)
_TAG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class OutputFormat:
    """A checked choice of output: what :func:`encode_wav` writes. Make it with
    :func:`output_format`."""

    name: str  # a key of FORMATS
    codec: str  # FFmpeg encoder
    container: str  # FFmpeg muxer
    extension: str  # e.g. ".m4a"
    media_type: str
    bitrate: int | None = None  # bit/s for lossy formats, None for lossless ones
    compression_level: int | None = None  # FLAC only
    sample_format: str | None = None  # WAV only: "s16" or "s24"
    lossless: bool = False
    chapters: bool = False  # whether this format carries chapters
    # False when ``bitrate`` is the format's default: a sample rate too low for it (AAC below
    # 16 kHz) then lowers it quietly, where a bit rate the user chose is refused instead.
    bitrate_given: bool = False

    @property
    def summary(self) -> str:
        """One line for people: ``mp3, 96 kbit/s``, ``flac, level 5``, ``wav, 16-bit``."""
        if self.bitrate is not None:
            return f"{self.name}, {self.bitrate / 1000:g} kbit/s"
        if self.compression_level is not None:
            return f"{self.name}, level {self.compression_level}"
        return f"{self.name}, {WAV_SAMPLE_FORMATS[self.sample_format or 's16'][1]}-bit"


def _kbps(bits: int) -> str:
    return f"{bits / 1000:g}k"


def _extensions_text() -> str:
    return ", ".join(ext for info in FORMATS.values() for ext in info.extensions)


def _format_named(fmt: str) -> FormatInfo:
    key = str(fmt).strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise InputError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    return FORMATS[key]


def _format_of_extension(ext: str) -> FormatInfo | None:
    for info in FORMATS.values():
        if ext in info.extensions:
            return info
    return None


def _check_extension(path: Path, info: FormatInfo) -> str:
    """The extension to write; raise if ``path``'s disagrees with the format."""
    ext = path.suffix.lower()
    if not ext:
        return info.extensions[0]
    if ext not in info.extensions:
        other = _format_of_extension(ext)
        that = f" (that is {other.name})" if other else ""
        raise InputError(
            f"{path.name}: the extension {ext}{that} does not match the format {info.name}; "
            f"name the file *{info.extensions[0]} or leave the format out"
        )
    return ext


def parse_bitrate(value: str | int) -> int:
    """``"96k"``, ``"96 kbps"``, ``"128000"`` or ``128000`` -> bit/s. Raises InputError."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"bit rate must be like 96k or 96000, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise InputError(f"bit rate must be a whole number of bit/s, got {value!r}")
        value = int(value)
    if isinstance(value, int):
        bits = value
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(k|kb|kbps|kbit/s|kb/s|bps|b/s)?\s*",
                         value, re.I)
        if not m:
            raise InputError(f"bit rate must be like 96k or 96000, got {value!r}")
        number = float(m.group(1))
        if m.group(2) and m.group(2).lower().startswith("k"):
            number *= 1000
        if not number.is_integer():
            raise InputError(f"bit rate must be a whole number of bit/s, got {value!r}")
        bits = int(number)
    if bits <= 0:
        raise InputError(f"bit rate must be positive, got {value!r}")
    return bits


def _check_bitrate_range(info: FormatInfo, bits: int, given: str | int) -> None:
    assert info.min_bitrate is not None and info.max_bitrate is not None
    if info.min_bitrate <= bits <= info.max_bitrate:
        if info.name == "mp3" and (bits % 1000 or bits // 1000 not in _MP3_KBPS):
            raise InputError(f"mp3 bit rate {given!s} is not one MP3 can use; use one of "
                             f"{', '.join(f'{k}k' for k in _MP3_KBPS)}")
        return
    hint = ""
    if bits < 1000 and info.min_bitrate <= bits * 1000 <= info.max_bitrate:
        hint = f" (did you mean {bits}k?)"
    raise InputError(f"{info.name} bit rate {given!s} is out of range: it takes "
                     f"{_kbps(info.min_bitrate)} to {_kbps(info.max_bitrate)}{hint}")


def _sample_format(value: str | int) -> str:
    key = re.sub(r"[\s_-]", "", str(value).lower())
    key = _SAMPLE_FORMAT_ALIASES.get(key, key)
    if key not in WAV_SAMPLE_FORMATS or isinstance(value, bool):
        raise InputError(f"WAV sample format must be 16-bit (s16) or 24-bit (s24), got {value!r}")
    return key


def output_format(
    path: Path,
    fmt: str | None = None,
    bitrate: str | int | None = None,
    *,
    compression_level: int | None = None,
    sample_format: str | int | None = None,
) -> OutputFormat:
    """The output for ``path``: its format from the extension, or ``fmt`` if given.

    ``fmt`` (wav, flac, mp3, opus, aac; m4a and ogg also work) must agree with the
    extension when the path has one. ``bitrate`` ("96k", "128000", 128000) is for the lossy
    formats only, ``compression_level`` (0-12) for FLAC only, ``sample_format`` (16 or 24
    bits, "s16"/"s24") for WAV only. Anything unusable raises :class:`InputError` with one
    line saying what to change; nothing is touched on disk.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if fmt is not None:
        info = _format_named(fmt)
        ext = _check_extension(path, info)
    elif not ext:
        raise InputError(f"{path.name}: no extension to tell the format by; name it "
                         f"*.mp3 (or {_extensions_text()}) or give a format")
    else:
        found = _format_of_extension(ext)
        if found is None:
            hint = _EXTENSION_HINTS.get(ext, f"use one of {_extensions_text()}")
            raise InputError(f"{path.name}: unknown audio extension {ext}; {hint}")
        info = found

    bits = None
    if bitrate is not None:
        if info.lossless:
            instead = (" (it takes a compression level, 0-12)" if info.name == "flac"
                       else " (it takes a sample format, 16- or 24-bit)")
            raise InputError(f"{info.name} is lossless and takes no bit rate{instead}; "
                             "leave the bit rate out or choose mp3, opus or aac")
        bits = parse_bitrate(bitrate)
        _check_bitrate_range(info, bits, bitrate)
    elif not info.lossless:
        bits = info.default_bitrate

    level = None
    if compression_level is not None and info.name != "flac":
        raise InputError(f"{info.name} takes no compression level (only flac does)")
    if info.name == "flac":
        level = FLAC_DEFAULT_LEVEL if compression_level is None else compression_level
        if isinstance(level, bool) or not isinstance(level, int):
            try:
                level = int(str(level).strip())
            except ValueError:
                raise InputError(f"flac compression level must be a whole number 0-12, "
                                 f"got {compression_level!r}") from None
        if level not in FLAC_LEVELS:
            raise InputError(f"flac compression level must be 0-12, got {compression_level!r}")

    sfmt = None
    codec = info.codec
    if sample_format is not None and info.name != "wav":
        raise InputError(f"{info.name} takes no sample format (only wav does: 16- or 24-bit)")
    if info.name == "wav":
        sfmt = "s16" if sample_format is None else _sample_format(sample_format)
        codec = WAV_SAMPLE_FORMATS[sfmt][0]

    return OutputFormat(
        name=info.name, codec=codec, container=info.container, extension=ext,
        media_type=info.media_type, bitrate=bits, compression_level=level,
        sample_format=sfmt, lossless=info.lossless, chapters=info.chapters,
        bitrate_given=bitrate is not None,
    )


# ---------------------------------------------------------------------------------------
# Encoding


@dataclass(frozen=True)
class EncodingPlan:
    """Everything checked and decided before the first byte is written (an
    :class:`Encoder`'s settings)."""

    src: Path | None  # the WAV encode_wav reads; None for an Encoder fed as audio is made
    out: Path
    spec: OutputFormat
    in_rate: int
    out_rate: int
    bitrate: int | None
    frame_format: str  # PyAV sample format of the frames we hand the encoder
    codec_format: str | None  # sample format to force on the encoder (lossless)
    tags: dict[str, str]
    chapters: list[Chapter]


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InputError(f"metadata must be a mapping of tag names to text, got "
                         f"{type(metadata).__name__}")
    tags: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not _TAG_KEY.match(key):
            raise InputError(f"metadata tag name {key!r} must be letters, digits and _ "
                             "(like title, artist, album, comment, date, genre)")
        if _CHAPTER_KEY.match(key):
            raise InputError(f"metadata tag {key!r} is reserved for chapters; pass chapters "
                             "as chapters")
        if not isinstance(value, str):
            raise InputError(f"metadata tag {key!r} must be text, got {type(value).__name__}")
        if "\x00" in value:
            raise InputError(f"metadata tag {key!r} contains a NUL character")
        tags[key] = value
    return tags


def _check_destination(out: Path) -> None:
    parent = out.parent
    if out.is_dir():
        raise InputError(f"cannot write {out}: it is a folder")
    if not parent.is_dir():
        raise InputError(f"cannot write {out}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {out}: the folder {parent} is not writable")
    try:  # os.access says yes to root and knows nothing of read-only mounts; try it for real
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise InputError(f"cannot write {out}: no new file can be made in {parent} "
                         f"({exc.strerror or exc})") from None


def _output_rate(info: FormatInfo, in_rate: int) -> int:
    rates = info.sample_rates
    if rates is None or in_rate in rates:
        return in_rate
    higher = [r for r in rates if r > in_rate]
    return min(higher) if higher else max(rates)


def _rate_bitrate(spec: OutputFormat, rate: int) -> int | None:
    """The bit rate to use at ``rate``: the spec's, or a refusal if the codec cannot."""
    bits = spec.bitrate
    if bits is None:
        return None
    if spec.name == "mp3":
        table = _MP3_MPEG1_KBPS if rate >= 32000 else _MP3_MPEG2_KBPS
        if bits // 1000 in table and not bits % 1000:
            return bits
        if spec.bitrate_given:
            layer = "MPEG-1" if rate >= 32000 else "MPEG-2"
            raise InputError(f"mp3 at {rate} Hz ({layer}) takes {table[0]}k to {table[-1]}k, "
                             f"not {_kbps(bits)}; use one of "
                             f"{', '.join(f'{k}k' for k in table)}")
        return min(table, key=lambda k: abs(k * 1000 - bits)) * 1000
    if spec.name == "aac":
        most = _AAC_BITS_PER_SAMPLE * rate
        if bits <= most:
            return bits
        if spec.bitrate_given:
            raise InputError(f"aac at {rate} Hz takes at most {_kbps(most // 1000 * 1000)} "
                             f"for one channel, not {_kbps(bits)}")
        return most // 1000 * 1000
    return bits


def _source_info(src: Path) -> Any:
    if not src.is_file():
        raise InputError(f"{src}: no such file")
    try:
        info = sf.info(str(src))
    except (sf.LibsndfileError, RuntimeError) as exc:
        reason = getattr(exc, "error_string", None) or str(exc).splitlines()[0]
        raise InputError(f"{src}: not a readable WAV ({reason})") from None
    if info.channels != 1:
        raise InputError(f"{src}: expected a mono narration WAV, it has {info.channels} "
                         "channels")
    if info.frames <= 0:
        raise InputError(f"{src}: the WAV has no audio")
    return info


_INT_SUBTYPES = {"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ULAW", "ALAW"}
_WIDE_SUBTYPES = {"PCM_24", "PCM_32", "FLOAT", "DOUBLE"}


def _plan(src: Path, out: Path, spec: OutputFormat, chapters: Sequence[Chapter],
          metadata: Mapping[str, str] | None) -> EncodingPlan:
    if not isinstance(spec, OutputFormat):
        raise TypeError(f"spec must be an OutputFormat (see output_format), got {spec!r}")
    _check_extension(out, FORMATS[spec.name])
    tags = _check_metadata(metadata)
    source = _source_info(src)
    in_rate = int(source.samplerate)
    checked = _check_chapters(spec, chapters, source.frames / in_rate)
    return _make_plan(src, out, spec, in_rate, source.subtype, tags, checked)


def _check_chapters(spec: OutputFormat, chapters: Sequence[Chapter], duration_s: float
                    ) -> list[Chapter]:
    chapters = list(chapters or ())
    if chapters and not spec.chapters:
        raise InputError(f"{spec.name} files cannot carry chapters; write m4a, mp3, opus or "
                         "flac, or leave the chapters out")
    return check_chapters(chapters, duration_s)


def _make_plan(src: Path | None, out: Path, spec: OutputFormat, in_rate: int, subtype: str,
               tags: dict[str, str], chapters: list[Chapter]) -> EncodingPlan:
    info = FORMATS[spec.name]
    out_rate = _output_rate(info, in_rate)
    bitrate = _rate_bitrate(spec, out_rate)
    _check_destination(out)

    codec_format = None
    if spec.name == "wav":
        frame_format = codec_format = "s16" if spec.sample_format == "s16" else "s32"
    elif spec.name == "flac":
        frame_format = codec_format = "s32" if subtype in _WIDE_SUBTYPES else "s16"
    else:
        frame_format = "flt"
    return EncodingPlan(src=src, out=out, spec=spec, in_rate=in_rate, out_rate=out_rate,
                 bitrate=bitrate, frame_format=frame_format, codec_format=codec_format,
                 tags=tags, chapters=chapters)


def _pcm16_frames(x: np.ndarray, frame_format: str) -> np.ndarray:
    """16-bit samples (as a narration WAV holds them) as frames of ``frame_format``: exactly
    what soundfile reads from that WAV (x / 32768 as float; x << 16 as 32 bits)."""
    if frame_format == "flt":
        return x.astype(np.float32) / np.float32(32768)
    if frame_format == "s16":
        return np.ascontiguousarray(x, dtype=np.int16)
    return x.astype(np.int32) << 16  # s32 frames for a 24-bit encoder


def _read_blocks(src: Path, frame_format: str) -> Iterator[np.ndarray]:
    """The WAV as 1-D blocks of ``frame_format`` samples: flt, s16, or s32 holding 24 bits.

    Integer WAVs reach integer outputs without passing through float, so WAV and FLAC from
    a 16-bit WAV are bit-exact.
    """
    with sf.SoundFile(str(src)) as f:
        if f.subtype == "PCM_16":  # the studio's own WAVs: the path an Encoder also takes
            for block in f.blocks(blocksize=BLOCK_FRAMES, dtype="int16", always_2d=True):
                yield _pcm16_frames(block[:, 0], frame_format)
            return
        integer = f.subtype in _INT_SUBTYPES
        if frame_format == "flt" or not integer:
            dtype = "float32"
        else:
            dtype = "int16" if frame_format == "s16" else "int32"
        for block in f.blocks(blocksize=BLOCK_FRAMES, dtype=dtype, always_2d=True):
            x = block[:, 0]
            if frame_format == "flt":
                yield np.ascontiguousarray(x, dtype=np.float32)
            elif frame_format == "s16":
                yield (np.ascontiguousarray(x) if integer
                       else np.frombuffer(to_pcm16(x), dtype=np.int16))
            elif integer:  # s32 frames for a 24-bit encoder: keep the top 24 bits
                yield np.ascontiguousarray(x) & np.int32(-256)
            else:
                q = np.rint(np.clip(np.nan_to_num(x), -1.0, 1.0) * 8388607.0)
                yield q.astype(np.int32) << 8


def _av_chapters(chapters: list[Chapter]) -> list[dict[str, Any]]:
    ms = Fraction(1, 1000)
    return [{"id": i, "start": round(c.start_s * 1000), "end": round(c.end_s * 1000),
             "time_base": ms, "metadata": {"title": c.title}}
            for i, c in enumerate(chapters, start=1)]


# Containers whose tags are Vorbis comments; chapters go in as CHAPTERnnn tags.
_VORBIS_COMMENT_CONTAINERS = {"flac", "ogg"}


def _vorbis_chapter_tags(chapters: list[Chapter]) -> dict[str, str]:
    """Chapters as Vorbis comments (xiph.org's Chapter Extension), for FLAC and Ogg.

    Written as tags by us rather than from the container's chapter list by FFmpeg: its FLAC
    muxer ignores that list, and its Ogg muxer rounds each start to the nearest whole second
    *before* adding the milliseconds (10.5 s is written as 00:00:11.500). Both muxers write
    every tag, and FFmpeg's FLAC and Ogg demuxers read ``CHAPTERnnn``/``CHAPTERnnnNAME``
    back as chapters, as do foobar2000, VLC and other players.
    """
    tags = {}
    for i, c in enumerate(chapters, start=1):
        ms = round(c.start_s * 1000)
        h, rest = divmod(ms, 3_600_000)
        m, rest = divmod(rest, 60_000)
        s, rest = divmod(rest, 1000)
        tags[f"CHAPTER{i:03d}"] = f"{h:02d}:{m:02d}:{s:02d}.{rest:03d}"
        tags[f"CHAPTER{i:03d}NAME"] = c.title
    return tags


def _open_container(fileobj: BinaryIO, spec: OutputFormat) -> Any:
    import av  # here, so that importing the studio does not load FFmpeg

    return av.open(fileobj, mode="w", format=spec.container,
                   container_options=_CONTAINER_OPTIONS.get(spec.container, {}))


def _label(container: Any, spec: OutputFormat, tags: dict[str, str],
           chapters: list[Chapter]) -> None:
    """The container's tags and chapters, before its header is written."""
    container.metadata.update(tags)
    if chapters:
        if spec.container in _VORBIS_COMMENT_CONTAINERS:
            container.metadata.update(_vorbis_chapter_tags(chapters))
        else:
            container.set_chapters(_av_chapters(chapters))


def _close_quietly(container: Any) -> None:
    try:
        container.close()
    except Exception:  # noqa: BLE001 - the first error is the one to report
        pass


class Encoder:
    """Encodes mono audio into an open file as it comes: :meth:`push` float blocks (or
    :meth:`push_frames` samples already in ``frame_format``), in order, then :meth:`close`,
    which drains the encoder and writes the trailer. Memory is one block.

    :func:`encode_wav` makes one to encode a WAV; a narration still being made is
    encoded by one planned by :func:`plan_encoding`. ``frames``: samples taken so far, at
    the input rate."""

    def __init__(self, plan: EncodingPlan, fileobj: BinaryIO) -> None:
        import av

        self._av = av
        self.plan = plan
        spec = plan.spec
        self.frame_format = plan.frame_format
        self.frames = 0
        self._container = _open_container(fileobj, spec)
        try:
            options = ({"compression_level": str(spec.compression_level)}
                       if spec.compression_level is not None else {})
            self._stream = self._container.add_stream(spec.codec, rate=plan.out_rate,
                                                      options=options, layout="mono")
            if plan.codec_format:
                self._stream.codec_context.format = plan.codec_format
            if plan.bitrate:
                self._stream.codec_context.bit_rate = plan.bitrate
            _label(self._container, spec, plan.tags, plan.chapters)
        except BaseException:
            _close_quietly(self._container)
            raise
        self._resampler = (BlockResampler(plan.in_rate, plan.out_rate)
                           if plan.out_rate != plan.in_rate else None)
        self._time_base = Fraction(1, plan.out_rate)
        self._pts = 0
        self._closed = False

    def push(self, block: np.ndarray) -> None:
        """Float samples, quantised to 16 bits as a narration WAV holds them."""
        if len(block):
            pcm = np.frombuffer(to_pcm16(block), dtype=np.int16)
            self.push_frames(_pcm16_frames(pcm, self.frame_format))

    def push_frames(self, samples: np.ndarray) -> None:
        """Samples in ``frame_format`` at the input rate."""
        self.frames += len(samples)
        self._encode(self._resampler.push(samples) if self._resampler else samples)

    def _encode(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        try:
            frame = self._av.AudioFrame.from_ndarray(samples.reshape(1, -1),
                                                     format=self.frame_format, layout="mono")
            frame.sample_rate = self.plan.out_rate
            frame.time_base = self._time_base
            frame.pts = self._pts
            self._pts += len(samples)
            self._container.mux(self._stream.encode(frame))
        except BaseException:
            self.abort()
            raise

    def close(self) -> None:
        """Drain the resampler and the encoder's look-ahead; write the trailer (MP4 index,
        FLAC STREAMINFO, LAME/Xing header)."""
        if self._closed:
            return
        try:
            if self._resampler:
                self._encode(self._resampler.finish())
            self._container.mux(self._stream.encode(None))
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._container.close()

    def abort(self) -> None:
        """Stop, leaving the file as it is (its writer removes it). Idempotent."""
        if not self._closed:
            self._closed = True
            _close_quietly(self._container)


def encode_wav(
    src: Path,
    out: Path,
    spec: OutputFormat,
    chapters: Sequence[Chapter] = (),
    metadata: dict[str, str] | None = None,
) -> None:
    """Encode the mono WAV ``src`` into ``out`` as ``spec`` says (see :func:`output_format`).

    ``metadata`` (title, artist, album, album_artist, comment, date, genre, track, composer,
    copyright, ...) goes into the container's tags: ID3v2.3 frames in MP3, Vorbis comments
    in FLAC and Ogg, iTunes atoms in M4A, RIFF INFO in WAV. M4A and WAV keep only the tags
    they have a field for (the ones listed); the others keep any name.

    ``chapters`` are embedded in FLAC, MP3, Opus and M4A (read back by FFmpeg, so by PyAV's
    ``container.chapters()``); WAV cannot carry them (FFmpeg's WAV muxer writes no cue
    points), and asking for them there is an InputError.

    Every check (source, format against sample rate, chapters, metadata, a writable folder)
    runs before anything is written and raises :class:`InputError`. The file is written
    beside ``out``, fsynced and renamed over it; on any failure ``out`` is left as it was.
    Memory is a few blocks of 64 Ki samples whatever the length.
    """
    plan = _plan(Path(src), Path(out), spec, chapters, metadata)
    with atomic_file(plan.out) as f:
        _encode(plan, f)


def _encode(plan: EncodingPlan, fileobj: BinaryIO) -> None:
    assert plan.src is not None
    encoder = Encoder(plan, fileobj)
    try:
        for block in _read_blocks(plan.src, plan.frame_format):
            encoder.push_frames(block)
        encoder.close()
    except BaseException:
        encoder.abort()
        raise


def plan_encoding(out: Path, spec: OutputFormat, sample_rate: int,
                  metadata: Mapping[str, str] | None = None) -> EncodingPlan:
    """How to encode a narration still being made, bound for ``out``: for an
    :class:`Encoder` writing a temp file without chapters (:func:`place_encoded` then
    finishes it). The checks of :func:`encode_wav` that need no audio (the format against
    the extension and the rate, the tags, a writable folder) raise :class:`InputError`."""
    if not isinstance(spec, OutputFormat):
        raise TypeError(f"spec must be an OutputFormat (see output_format), got {spec!r}")
    out = Path(out)
    _check_extension(out, FORMATS[spec.name])
    return _make_plan(None, out, spec, int(sample_rate), "PCM_16", _check_metadata(metadata),
                      [])


def place_encoded(body: Path, out: Path, spec: OutputFormat, chapters: Sequence[Chapter],
                  metadata: Mapping[str, str] | None, duration_s: float) -> int:
    """Put ``body`` (written by an :class:`Encoder` as :func:`plan_encoding` planned it for
    ``out``, with the same ``metadata``) at ``out``, with ``chapters`` of a narration
    ``duration_s`` long.

    ``body`` must be on disk (closed and fsynced, as ``atomic.AtomicWriter`` leaves it).
    Without chapters it is already the file: it is renamed over ``out``. With them, its
    packets are copied as they are into a new container that has them (a remux, nothing
    decoded or encoded again), written beside ``out`` and renamed over it; the body is then
    removed. Chapters are checked as :func:`encode_wav` checks them (InputError), before
    anything is written. Returns the packets copied (0 for a rename)."""
    body, out = Path(body), Path(out)
    checked = _check_chapters(spec, chapters, duration_s)
    tags = _check_metadata(metadata)
    if not checked:
        replace_durably(body, out)
        return 0
    with atomic_file(out) as f:
        packets = _remux(body, f, spec, tags, checked)
    body.unlink(missing_ok=True)
    return packets


def _remux(body: Path, fileobj: BinaryIO, spec: OutputFormat, tags: dict[str, str],
           chapters: list[Chapter]) -> int:
    import av

    packets = 0
    with av.open(str(body)) as source:
        audio = source.streams.audio[0]
        container = _open_container(fileobj, spec)
        try:
            stream = container.add_stream_from_template(audio)
            # The bit rate the encoder was set to, not the one a demuxer measures: the MP4
            # muxer writes the larger as the stream's maximum (esds), as when encoding.
            bitrate = _rate_bitrate(spec, audio.sample_rate)
            if bitrate:
                stream.codec_context.bit_rate = bitrate
            _label(container, spec, tags, chapters)
            for packet in source.demux(audio):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = stream
                container.mux(packet)
                packets += 1
        except BaseException:
            _close_quietly(container)
            raise
        container.close()
    return packets
