"""One file per finished segment: written atomically, read whole or in blocks.

Segments are stored as 32-bit float WAV so nothing is lost to quantisation before loudness
work at assembly; the 16-bit conversion happens once, at the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from ..atomic import atomic_file, sweep_temp_files
from .resample import BlockResampler

__all__ = ["iter_segment_blocks", "read_segment", "sweep_temp_files", "write_segment"]

BLOCK_FRAMES = 65536


def _as_mono_float32(chunk: np.ndarray) -> np.ndarray:
    a = np.asarray(chunk, dtype=np.float32)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"expected a mono chunk (1-D), got shape {a.shape}")
    return a


def write_segment(path: Path, chunks: Iterable[np.ndarray], sample_rate: int) -> float:
    """Write float32 mono ``chunks`` to ``path`` as each arrives; return the duration in s.

    The file appears at ``path`` only once complete and on disk (temp, fsync, rename, fsync
    of the directory), so a database row marked done afterwards never points at missing
    audio. If ``chunks`` raises, no file appears and the error propagates.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    path = Path(path)
    frames = 0
    with atomic_file(path) as f:
        # A file object rather than a name, so atomic_file can fsync the very descriptor.
        with sf.SoundFile(
            f, mode="w", samplerate=sample_rate, channels=1, format="WAV", subtype="FLOAT"
        ) as out:
            for chunk in chunks:
                a = _as_mono_float32(chunk)
                out.write(a)
                frames += len(a)
    return frames / sample_rate


def read_segment(path: Path) -> tuple[np.ndarray, int]:
    """The whole segment as float32 mono (channels averaged) and its sample rate."""
    data, sr = sf.read(path, dtype="float32", always_2d=True)
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(mono), sr


def iter_segment_blocks(
    path: Path, sample_rate: int, blocksize: int = BLOCK_FRAMES
) -> Iterator[np.ndarray]:
    """Yield the segment as float32 mono blocks at ``sample_rate``, resampling if needed.

    Memory is bounded by ``blocksize`` whatever the segment's length: soundfile reads a
    block at a time and soxr's stream resampler carries its filter state between blocks.
    """
    with sf.SoundFile(path) as f:
        resampler = BlockResampler(f.samplerate, sample_rate)
        for block in f.blocks(blocksize=blocksize, dtype="float32", always_2d=True):
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            out = resampler.push(mono)
            if len(out):
                yield out
        tail = resampler.finish()
        if len(tail):
            yield tail
