"""Block-by-block resampling, so a segment at one rate joins an output at another.

soxr's stream resampler carries its filter state between blocks, so feeding a segment in
pieces gives the same samples (to float precision) as resampling it whole, in memory bounded
by a block.
"""

from __future__ import annotations

import numpy as np
import soxr

__all__ = ["BlockResampler"]

_EMPTY = np.zeros(0, dtype=np.float32)


class BlockResampler:
    """Push float32 mono blocks at ``from_rate``; get blocks at ``to_rate`` (a pass-through
    when the rates are equal). Call :meth:`finish` once at the end of the stream."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self._stream = (None if from_rate == to_rate
                        else soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32"))

    def push(self, block: np.ndarray) -> np.ndarray:
        if self._stream is None:
            return block
        return self._stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32),
                                           last=False)

    def finish(self) -> np.ndarray:
        if self._stream is None:
            return _EMPTY
        # The filter holds back a few ms; last=True drains it so the duration is kept.
        return self._stream.resample_chunk(_EMPTY, last=True)
