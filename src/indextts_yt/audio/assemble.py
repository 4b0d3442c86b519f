"""Assembly: segment files in order, pauses between them, one output WAV, flat memory.

Audio flows one block at a time from each segment file (resampled if its rate differs),
through the :class:`Timeline` (pauses and edge fades, shared with the live HTTP stream so the
two never differ), into a :class:`GrowingWav`; nothing is ever held beyond a block,
so a ten-hour narration assembles in the same memory as a ten-second one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..text.model import PauseClass
from ..atomic import atomic_file
from .segment_file import BLOCK_FRAMES, iter_segment_blocks
from .timeline import Cue, PauseSettings, Timeline, silence_blocks
from .wav_writer import GrowingWav

__all__ = ["Assembler", "Cue", "PauseSettings", "assemble"]


class Assembler:
    """Appends segments to one output WAV; use as a context manager.

    Given a path, writes it in place: the file is a valid WAV after every :meth:`add`, so it
    can be played or streamed while the narration is still being made (for an all-or-nothing
    file use :func:`assemble`). Given a seekable binary file object, writes into it and
    leaves it open.

    A segment's pause is written only when the next segment arrives, so the output never
    ends in a pause. Positions are counted in frames, so cue times are exact to the sample.
    """

    def __init__(
        self,
        out: Path | BinaryIO,
        sample_rate: int,
        pauses: PauseSettings | None = None,
        *,
        blocksize: int = BLOCK_FRAMES,
        transform: Callable[[np.ndarray, int], np.ndarray] | None = None,
        meter: Any = None,
    ) -> None:
        """``transform(audio, rate)``: applied to each whole segment (mastering), which is
        then read into memory at once (one segment); without it segments stream by blocks.
        ``meter``: anything with ``push(block)``, fed every sample written (loudness)."""
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self.pauses = pauses or PauseSettings()
        self._blocksize = blocksize
        self._transform = transform
        self._meter = meter
        self._timeline = Timeline(sample_rate, self.pauses)
        self._owns_file = isinstance(out, (str, os.PathLike))
        self._file: BinaryIO = open(out, "w+b") if self._owns_file else out  # type: ignore[arg-type,assignment]
        try:
            self._wav = GrowingWav(self._file, sample_rate)
        except BaseException:
            if self._owns_file:
                self._file.close()
            raise
        self._closed = False

    @property
    def frames(self) -> int:
        return self._wav.frames

    @property
    def duration_s(self) -> float:
        return self._wav.frames / self.sample_rate

    def add(self, segment_path: Path, pause_after: PauseClass = "sentence") -> Cue:
        """Append one segment file and note its pause; return its place on the timeline."""
        if self._closed:
            raise ValueError("assembler is closed")
        silence = self._timeline.begin(pause_after)
        self._wav.write_silence(silence)
        if self._meter is not None:
            for block in silence_blocks(silence):
                self._meter.push(block)
        blocks = iter_segment_blocks(Path(segment_path), self.sample_rate, self._blocksize)
        if self._transform is not None:
            whole = np.concatenate([np.zeros(0, np.float32), *blocks])
            blocks = iter([self._transform(whole, self.sample_rate)])
        for block in blocks:
            self._write(self._timeline.push(block))
        tail, cue = self._timeline.end()
        self._write(tail)
        self._wav.flush()
        return cue

    def _write(self, block: np.ndarray) -> None:
        self._wav.write(block)
        if self._meter is not None and len(block):
            self._meter.push(block)

    def close(self) -> None:
        """Finish the header; the last segment's pause is dropped. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._wav.close()
        if self._owns_file:
            os.fsync(self._file.fileno())
            self._file.close()

    def __enter__(self) -> Assembler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def assemble(
    out_path: Path,
    items: Iterable[tuple[Path, PauseClass]],
    sample_rate: int,
    pauses: PauseSettings | None = None,
    *,
    transform: Callable[[np.ndarray, int], np.ndarray] | None = None,
    meter: Any = None,
) -> list[Cue]:
    """Batch mode: assemble ``items`` into ``out_path``, which appears only when complete.

    ``items`` may be a generator; only one segment is open at a time. If anything fails,
    ``out_path`` is left as it was and the error propagates.
    """
    cues: list[Cue] = []
    with atomic_file(Path(out_path)) as f:
        with Assembler(f, sample_rate, pauses, transform=transform, meter=meter) as asm:
            for segment_path, pause in items:
                cues.append(asm.add(segment_path, pause))
    return cues
