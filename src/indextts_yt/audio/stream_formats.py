"""Encoding a narration as it is made: float blocks in, bytes to send out, no seeking back.

A file written to disk can have its header patched at the end; a stream on the wire cannot.
So the streamed WAV declares an unknown (maximal) length, and the compressed formats are
muxed by PyAV (FFmpeg) into a write-only sink that never seeks, which every player accepts:
MP3 and ADTS AAC are self-framing, Ogg pages carry their own positions, and a FLAC
STREAMINFO with "total samples unknown" is allowed by the FLAC spec.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .encode import FORMATS
from .wav_writer import to_pcm16

__all__ = ["MEDIA_TYPES", "StreamEncoder", "streaming_wav_header"]

#: Response formats and their media types (the OpenAI speech API's names).
MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
}

# format -> (FFmpeg muxer, bit rate) for a stream; the encoder, and the one rate it may need
# (Opus runs at 48 kHz; PyAV resamples to it), are those of the file formats in encode.py.
# Bit rates for mono speech: LAME's default for 22.05 kHz mono is 32 kbit/s, audibly dull;
# 64 kbit/s MP3/AAC and 48 kbit/s Opus are transparent enough for a voice heard live (files
# for publishing get more headroom, see encode.py).
_STREAM_MUXERS = {
    "mp3": ("mp3", 64000),
    "flac": ("flac", None),
    "opus": ("ogg", 48000),
    "aac": ("adts", 64000),  # self-framing ADTS: an MP4 needs its index, written at the end
}
# format -> (FFmpeg muxer, encoder, encoder sample rate or None to keep ours, bit rate).
_CODECS = {
    fmt: (muxer, FORMATS[fmt].codec, FORMATS[fmt].fixed_rate, bit_rate)
    for fmt, (muxer, bit_rate) in _STREAM_MUXERS.items()
}

_UNKNOWN = 0xFFFFFFFF


def streaming_wav_header(sample_rate: int) -> bytes:
    """A 16-bit mono WAV header whose RIFF and data lengths say "as long as it gets".

    Readers (browsers, libsndfile, FFmpeg) then play or decode up to wherever the bytes end,
    which is what a narration streamed while it is being made needs.
    """
    byte_rate = sample_rate * 2
    return (b"RIFF" + struct.pack("<I", _UNKNOWN) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, byte_rate, 2, 16)
            + b"data" + struct.pack("<I", _UNKNOWN))


def _le16(block: np.ndarray) -> bytes:
    data = to_pcm16(block)
    if np.little_endian:
        return data
    return np.frombuffer(data, dtype=np.int16).byteswap().tobytes()


class _Sink:
    """A write-only, non-seekable file for PyAV: the muxer's output, taken as it comes."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def write(self, data: Any) -> int:
        self._buf += bytes(data)
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data


class StreamEncoder:
    """Encodes float32 mono blocks at ``sample_rate`` into ``fmt`` (a key of MEDIA_TYPES).

    ``header()`` first, then ``encode()`` per block, then ``finish()``; each returns the bytes
    that are ready to send (possibly empty). Memory: one block plus the codec's small buffer.
    """

    def __init__(self, fmt: str, sample_rate: int) -> None:
        if fmt not in MEDIA_TYPES:
            raise ValueError(f"unknown format {fmt!r}; one of {', '.join(MEDIA_TYPES)}")
        self.format = fmt
        self.media_type = MEDIA_TYPES[fmt]
        self.sample_rate = sample_rate
        self._container = self._stream = None
        self._uses_av = fmt in _CODECS
        if self._uses_av:
            import av  # imported here: WAV and PCM, the common case, need no FFmpeg

            muxer, codec, rate, bit_rate = _CODECS[fmt]
            self._sink = _Sink()
            self._container = av.open(self._sink, mode="w", format=muxer)
            self._stream = self._container.add_stream(codec, rate=rate or sample_rate,
                                                      layout="mono")
            if bit_rate:
                self._stream.bit_rate = bit_rate
            self._av = av

    def header(self) -> bytes:
        return streaming_wav_header(self.sample_rate) if self.format == "wav" else b""

    def encode(self, block: np.ndarray) -> bytes:
        if not len(block):
            return b""
        if not self._uses_av:
            return _le16(block)
        if self._container is None:
            raise ValueError("encoder already finished")
        frame = self._av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, dtype=np.float32)[None, :], format="flt", layout="mono")
        frame.sample_rate = self.sample_rate
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        return self._sink.take()

    def finish(self) -> bytes:
        if not self._uses_av or self._container is None:
            return b""
        for packet in self._stream.encode(None):  # flush the encoder's delay
            self._container.mux(packet)
        self._container.close()
        self._container = None
        return self._sink.take()

    def close(self) -> None:
        """Release FFmpeg's state without finishing (the client went away)."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - nothing to save; we only free it
                pass
            self._container = None
