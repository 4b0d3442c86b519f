"""Short raised-cosine fades at a segment's edges, applied to a stream of blocks.

A segment rarely starts or ends at a zero crossing; butted against silence or the next
segment, that step is an audible click. Ramping a few ms in and out removes it.
"""

from __future__ import annotations

import numpy as np


def raised_cosine(n: int) -> np.ndarray:
    """Gains rising from exactly 0 towards 1 over ``n`` samples (a half cosine period)."""
    return (0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)).astype(np.float32)


class EdgeFader:
    """Fades in the first and out the last ``fade_frames`` samples of one segment's stream.

    The end of a stream is known only when it ends, so the last ``fade_frames`` samples are
    held back until :meth:`finish`; memory is one block plus the fade, never the segment.
    Segments shorter than two fades get both ramps multiplied, still 0 at both ends.
    """

    def __init__(self, fade_frames: int) -> None:
        self._n = max(0, int(fade_frames))
        self._ramp = raised_cosine(self._n)
        self._pos = 0
        self._held = np.zeros(0, dtype=np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Take the next block; return the samples that are now final (may be empty)."""
        out = np.array(block, dtype=np.float32)  # a copy: the caller's block is not ours
        if self._pos < self._n:
            k = min(self._n - self._pos, len(out))
            out[:k] *= self._ramp[self._pos : self._pos + k]
        self._pos += len(out)
        if self._n == 0:
            return out
        joined = np.concatenate((self._held, out)) if len(self._held) else out
        split = max(0, len(joined) - self._n)
        self._held = joined[split:].copy()
        return joined[:split]

    def finish(self) -> np.ndarray:
        """The held-back end of the segment, faded out to 0 on its last sample."""
        tail, self._held = self._held, np.zeros(0, dtype=np.float32)
        if len(tail):
            tail *= self._ramp[: len(tail)][::-1]
        return tail
