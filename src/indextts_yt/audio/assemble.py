"""Assembly: segment files in order, pauses between them, one output WAV, flat memory.

Audio flows one block at a time from each segment file (resampled if its rate differs),
through the :class:`Timeline` (pauses and edge fades, shared with the live HTTP stream so the
two never differ), into a :class:`GrowingWav`; nothing is ever held beyond a block,
so a ten-hour narration assembles in the same memory as a ten-second one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..text.model import PauseClass
from .atomic import atomic_file
from .segment_file import BLOCK_FRAMES, iter_segment_blocks
from .timeline import Cue, PauseSettings, Timeline
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
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self.pauses = pauses or PauseSettings()
        self._blocksize = blocksize
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
        self._wav.write_silence(self._timeline.begin(pause_after))
        for block in iter_segment_blocks(Path(segment_path), self.sample_rate, self._blocksize):
            self._wav.write(self._timeline.push(block))
        tail, cue = self._timeline.end()
        self._wav.write(tail)
        self._wav.flush()
        return cue

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
) -> list[Cue]:
    """Batch mode: assemble ``items`` into ``out_path``, which appears only when complete.

    ``items`` may be a generator; only one segment is open at a time. If anything fails,
    ``out_path`` is left as it was and the error propagates.
    """
    cues: list[Cue] = []
    with atomic_file(Path(out_path)) as f:
        with Assembler(f, sample_rate, pauses) as asm:
            for segment_path, pause in items:
                cues.append(asm.add(segment_path, pause))
    return cues
