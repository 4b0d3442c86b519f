"""The narration's timeline: exactly which samples the output holds, segment by segment.

One place decides the layout of a narration — the previous segment's pause before each
segment, an edge fade in and out of every segment, no pause after the last one — so that the
assembled file (``assemble.py``) and the live HTTP stream (``server/audio_stream.py``) can
never disagree by a sample. It is push-based (the caller feeds blocks as it gets them) so it
works the same for blocks read from a segment file and for chunks arriving from an engine.
Memory is one block plus the fade, whatever the narration's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..text.model import PauseClass
from .fades import EdgeFader

__all__ = ["Cue", "PauseSettings", "Timeline", "silence_blocks"]

SILENCE_BLOCK = 65536


@dataclass(frozen=True)
class PauseSettings:
    """Seconds of silence after a segment, by the pause class the text splitter gave it."""

    clause: float = 0.12  # a long sentence cut at a comma or wrapped: a breath, not a stop
    sentence: float = 0.35
    paragraph: float = 0.9
    heading: float = 1.2
    fade_ms: float = 8.0  # edge fade of every segment, in and out

    def __post_init__(self) -> None:
        for name in ("clause", "sentence", "paragraph", "heading", "fade_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                # `not value >= 0` also rejects NaN
                raise InputError(f"pause setting {name!r} must be 0 or more, got {value!r}")

    def seconds(self, pause: PauseClass | str) -> float:
        """A class's seconds; an exact pause (a script's [pause: 1.5s], planned as
        ``"1.5s"``) is itself."""
        if pause not in ("clause", "sentence", "paragraph", "heading"):
            exact = exact_pause(pause)
            if exact is None:
                raise ValueError(f"unknown pause class {pause!r}")
            return exact
        return float(getattr(self, pause))


def exact_pause(pause: str) -> float | None:
    """``"1.5s"`` (an exact pause a direction asked for) as seconds; None for anything else."""
    if not isinstance(pause, str) or not pause.endswith("s") or pause.startswith("-"):
        return None
    try:
        seconds = float(pause[:-1])
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


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


class Timeline:
    """Lays segments end to end. Per segment: :meth:`begin` (returns the frames of silence to
    emit first), :meth:`push` each block (returns the faded samples now final), :meth:`end`
    (returns the held-back faded tail and the segment's cue). Frames are counted exactly, so
    cue times are exact to the sample.
    """

    def __init__(self, sample_rate: int, pauses: PauseSettings | None = None) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        self.sample_rate = sample_rate
        self.pauses = pauses or PauseSettings()
        self._fade_frames = round(self.pauses.fade_ms / 1000 * sample_rate)
        self.frames = 0  # frames of output laid down so far
        # A segment's pause is emitted only when the next segment begins, so the narration
        # never ends in silence, however many segments it turns out to have.
        self._pending_pause = 0
        self._fader: EdgeFader | None = None
        self._start = 0
        self._pause_after = 0

    def begin(self, pause_after: PauseClass = "sentence") -> int:
        """Start a segment; return how many frames of silence must come before it."""
        if self._fader is not None:
            raise ValueError("the previous segment was not ended")
        pause_frames = round(self.pauses.seconds(pause_after) * self.sample_rate)  # checks the class
        silence, self._pending_pause = self._pending_pause, 0
        self.frames += silence
        self._start = self.frames
        self._pause_after = pause_frames
        self._fader = EdgeFader(self._fade_frames)
        return silence

    def push(self, block: np.ndarray) -> np.ndarray:
        """Feed the segment's next float32 mono block; return the samples now final."""
        if self._fader is None:
            raise ValueError("push() outside a segment; call begin() first")
        out = self._fader.push(block)
        self.frames += len(out)
        return out

    def end(self) -> tuple[np.ndarray, Cue]:
        """Finish the segment: its faded tail, and where the segment sits on the timeline."""
        if self._fader is None:
            raise ValueError("end() outside a segment; call begin() first")
        tail = self._fader.finish()
        self._fader = None
        self.frames += len(tail)
        self._pending_pause = self._pause_after
        return tail, Cue(self._start / self.sample_rate, self.frames / self.sample_rate)

    def segment(self, blocks: Iterable[np.ndarray], pause_after: PauseClass = "sentence",
                ) -> Iterator[np.ndarray]:
        """Convenience for a whole segment at hand: yield its pause then its faded blocks.

        Silence comes out as zero blocks of at most ``SILENCE_BLOCK`` frames. The cue is in
        :attr:`last_cue` once the generator is exhausted.
        """
        yield from silence_blocks(self.begin(pause_after))
        for block in blocks:
            out = self.push(block)
            if len(out):
                yield out
        tail, self.last_cue = self.end()
        if len(tail):
            yield tail


def silence_blocks(frames: int, block: int = SILENCE_BLOCK) -> Iterator[np.ndarray]:
    """``frames`` of float32 silence in bounded blocks (a long pause costs no more memory)."""
    left = frames
    while left > 0:
        n = min(left, block)
        yield np.zeros(n, dtype=np.float32)
        left -= n
