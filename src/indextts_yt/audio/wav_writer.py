"""A 16-bit PCM mono WAV that is a valid, playable file at every moment while it grows.

The stdlib ``wave`` writer re-patches the RIFF and data lengths after every
``writeframes()`` (data first, then header), so a reader opening the file mid-narration
sees a complete WAV of everything written so far. That is the streamed output of a long
job. WAV lengths are 32-bit: about 27 hours of mono 16-bit audio at 22.05 kHz.
"""

from __future__ import annotations

import wave
from typing import BinaryIO

import numpy as np

_SILENCE_BLOCK = 65536


def to_pcm16(block: np.ndarray) -> bytes:
    """Float samples to native-endian int16 bytes (``wave`` swaps on big-endian hosts)."""
    x = np.clip(np.asarray(block, dtype=np.float32), -1.0, 1.0)
    np.nan_to_num(x, copy=False, nan=0.0)  # a NaN from an engine becomes silence, not a click
    return np.rint(x * 32767.0).astype(np.int16).tobytes()


class GrowingWav:
    """Writes float blocks to ``fileobj`` (seekable, binary) as 16-bit PCM mono."""

    def __init__(self, fileobj: BinaryIO, sample_rate: int) -> None:
        self._file = fileobj
        self._wav = wave.open(fileobj, "wb")  # a file object: wave leaves it open on close
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self.sample_rate = sample_rate
        self.frames = 0
        # Header now, so even before the first segment the file is a valid (empty) WAV.
        self._wav.writeframes(b"")
        self._file.flush()

    def write(self, block: np.ndarray) -> None:
        if len(block):
            self._wav.writeframes(to_pcm16(block))
            self.frames += len(block)

    def write_silence(self, frames: int) -> None:
        # In bounded blocks, so a long pause costs no more memory than a short one.
        zeros = bytes(2 * min(frames, _SILENCE_BLOCK))
        left = frames
        while left > 0:
            n = min(left, _SILENCE_BLOCK)
            self._wav.writeframes(zeros[: 2 * n])
            self.frames += n
            left -= n

    def flush(self) -> None:
        """Hand everything written so far to the OS, so other processes can read it."""
        self._file.flush()

    def close(self) -> None:
        self._wav.close()  # final header patch and flush; the file object stays open
