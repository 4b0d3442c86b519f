"""Assembly: segment files in order, pauses between them, one output WAV, flat memory.

Audio flows one block at a time from each segment file (resampled if its rate differs),
through the edge fades, into a :class:`GrowingWav`; nothing is ever held beyond a block,
so a ten-hour narration assembles in the same memory as a ten-second one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from ..errors import InputError
from ..text.model import PauseClass
from .atomic import atomic_file
from .fades import EdgeFader
from .segment_file import BLOCK_FRAMES, iter_segment_blocks
from .wav_writer import GrowingWav

__all__ = ["Assembler", "Cue", "PauseSettings", "assemble"]


@dataclass(frozen=True)
class PauseSettings:
    """Seconds of silence after a segment, by the pause class the text splitter gave it."""

    sentence: float = 0.35
    paragraph: float = 0.9
    heading: float = 1.2
    fade_ms: float = 8.0  # edge fade of every segment, in and out

    def __post_init__(self) -> None:
        for name in ("sentence", "paragraph", "heading", "fade_ms"):
            value = getattr(self, name)
            if not value >= 0:  # also rejects NaN
                raise InputError(f"pause setting {name!r} must be 0 or more, got {value!r}")

    def seconds(self, pause: PauseClass) -> float:
        if pause not in ("sentence", "paragraph", "heading"):
            raise ValueError(f"unknown pause class {pause!r}")
        return float(getattr(self, pause))


class Cue(NamedTuple):
    """Where a segment's audio sits on the output timeline; ``end_s`` excludes its pause."""

    start_s: float
    end_s: float

    # Short aliases: the job runner reads cue.start / cue.end.
    @property
    def start(self) -> float:
        return self.start_s

    @property
    def end(self) -> float:
        return self.end_s


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
        self._fade_frames = round(self.pauses.fade_ms / 1000 * sample_rate)
        self._owns_file = isinstance(out, (str, os.PathLike))
        self._file: BinaryIO = open(out, "w+b") if self._owns_file else out  # type: ignore[arg-type,assignment]
        try:
            self._wav = GrowingWav(self._file, sample_rate)
        except BaseException:
            if self._owns_file:
                self._file.close()
            raise
        self._pending_pause = 0  # frames of the previous segment's pause, not yet written
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
        pause_frames = round(self.pauses.seconds(pause_after) * self.sample_rate)
        self._wav.write_silence(self._pending_pause)
        start = self._wav.frames
        fader = EdgeFader(self._fade_frames)
        for block in iter_segment_blocks(Path(segment_path), self.sample_rate, self._blocksize):
            self._wav.write(fader.push(block))
        self._wav.write(fader.finish())
        end = self._wav.frames
        self._pending_pause = pause_frames
        self._wav.flush()
        return Cue(start / self.sample_rate, end / self.sample_rate)

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
