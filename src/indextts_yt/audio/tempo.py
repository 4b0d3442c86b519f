"""Block-by-block time stretching that keeps the pitch: FFmpeg's ``atempo`` filter, through
PyAV's filter graph (already a dependency for the encoders), so speech can be made faster or
slower than an engine can render it.

``atempo`` takes 0.5 to 100 per instance; a factor below 0.5 is split over two instances
(each the square root), as FFmpeg's documentation recommends, rather than one instance
skipping samples.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TempoStretcher"]

_EMPTY = np.zeros(0, dtype=np.float32)
_ATEMPO_MIN = 0.5


class TempoStretcher:
    """Push float32 mono blocks at ``sample_rate``; get them back ``tempo`` times as fast
    (2.0: half the duration, same pitch). A pass-through at tempo 1. Call :meth:`finish` once
    at the end of the stream; the filter holds back a little audio until then."""

    def __init__(self, sample_rate: int, tempo: float) -> None:
        if not 0.25 <= tempo <= 100:
            raise ValueError(f"tempo must be 0.25 to 100, got {tempo}")
        self.sample_rate = sample_rate
        self._graph = None
        self._pts = 0
        if tempo == 1.0:
            return
        import av  # imported here: the common case (tempo 1) needs no FFmpeg

        self._av = av
        factors = [tempo] if tempo >= _ATEMPO_MIN else [math.sqrt(tempo)] * 2
        graph = av.filter.Graph()
        nodes = [graph.add_abuffer(sample_rate=sample_rate, format="flt", layout="mono",
                                   time_base=f"1/{sample_rate}")]
        nodes += [graph.add("atempo", f"{f:.6f}") for f in factors]
        nodes.append(graph.add("abuffersink"))
        graph.link_nodes(*nodes).configure()
        self._graph = graph

    def push(self, block: np.ndarray) -> np.ndarray:
        if self._graph is None or not len(block):
            return block
        frame = self._av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, dtype=np.float32)[None, :], format="flt", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        self._pts += len(block)
        self._graph.push(frame)
        return self._pull()

    def finish(self) -> np.ndarray:
        if self._graph is None:
            return _EMPTY
        self._graph.push(None)  # end of stream: the filter gives back what it held
        out = self._pull()
        self._graph = None
        return out

    def _pull(self) -> np.ndarray:
        out = []
        while True:
            try:
                frame = self._graph.pull()
            except (BlockingIOError, EOFError):  # needs more input / no more output
                break
            out.append(frame.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        return np.concatenate(out) if out else _EMPTY
