"""Where a run's takes are rendered: here, one at a time (``LocalFarm``), or by engine
actors on Ray (``jobs.cluster``). The runner hands out orders while its farm has room and
takes the outcomes back as they come, in any order; it alone stores them, so the store
and the data folder keep one owner however many renderers there are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..audio import write_segment
from ..clips import ClipStore
from ..engines.base import SettingValue
from .proofread import CheckOutcome
from .render import rendering
from .store import SegmentRow


class AudioTap(Protocol):
    """Sees a segment's audio while it is being made, chunk by chunk, before the segment file
    exists: the server streams it from here, so a listener hears the first sentence of a
    long first segment without waiting for the whole segment."""

    def segment_started(self, job_id: str, idx: int, key: str, sample_rate: int) -> None: ...

    def chunk(self, job_id: str, idx: int, chunk: np.ndarray) -> None: ...

    def segment_ended(self, job_id: str, idx: int, ok: bool) -> None: ...


@dataclass(frozen=True)
class FarmInfo:
    """Where a farm renders, for people: ``workers`` engine actors on a local Ray instance
    (``address`` None) or on the cluster at ``address``, each with one GPU (``gpu``) or
    ``threads`` CPU threads."""

    workers: int
    address: str | None
    gpu: bool
    threads: int


@dataclass(frozen=True)
class Order:
    """One take to render: the segment (at ``position`` in the run's list), which take,
    settings for this render only (a retake's seed), and where its file goes."""

    position: int
    segment: SegmentRow
    take: int
    overrides: Mapping[str, SettingValue] | None
    path: Path
    live: bool = False  # its chunks go to the run's tap as they are made


@dataclass(frozen=True)
class Rendered:
    """A take written to ``order.path`` (atomically)."""

    order: Order
    sample_rate: int
    audio_s: float
    compute_s: float  # synthesis alone: the voice was prepared before the clock started
    warnings: tuple[str, ...]
    check: CheckOutcome | None = None  # where the renderer proofread it too


@dataclass(frozen=True)
class Failed:
    """A take the engine could not make, and why (one line)."""

    order: Order
    why: str


Outcome = Rendered | Failed


class Farm(Protocol):
    def room(self) -> int:
        """How many more orders can be handed out now."""
        ...

    def submit(self, order: Order) -> None: ...

    def outcomes(self) -> Iterable[Outcome]:
        """The outcomes of orders handed out, waiting until there is at least one."""
        ...

    def close(self) -> None:
        """Stop: orders still out are dropped (their segments are rendered again later)."""
        ...


def _tapped(chunks: Iterable[np.ndarray], tap: AudioTap, job_id: str, idx: int,
            ) -> Iterator[np.ndarray]:
    for chunk in chunks:
        tap.chunk(job_id, idx, chunk)
        yield chunk


class LocalFarm:
    """Renders in this process and thread, one order at a time, when its outcome is asked
    for (so the runner's "started" event comes first)."""

    def __init__(self, clips: ClipStore, tap: AudioTap | None = None) -> None:
        self.clips, self.tap = clips, tap
        self._order: Order | None = None

    def room(self) -> int:
        return 0 if self._order else 1

    def submit(self, order: Order) -> None:
        self._order = order

    def outcomes(self) -> Iterator[Outcome]:
        order, self._order = self._order, None
        if order is not None:
            yield self._render(order)

    def _render(self, order: Order) -> Outcome:
        seg = order.segment
        live = self.tap if order.live else None
        try:
            # One render at a time per engine, shared with the server's speech endpoint.
            with rendering(seg, self.clips, overrides=order.overrides) as render:
                # The voice is prepared (and the model loaded) before the block, once per
                # process: t0 leaves it out, so RTF and ETA describe synthesis.
                t0 = time.monotonic()
                chunks: Iterator[np.ndarray] = render.chunks()
                if live is not None:
                    live.segment_started(seg.job_id, seg.idx, seg.key, render.sample_rate)
                    chunks = _tapped(chunks, live, seg.job_id, seg.idx)
                audio_s = write_segment(order.path, chunks, render.sample_rate)
            return Rendered(order, render.sample_rate, audio_s, time.monotonic() - t0,
                            tuple(render.warnings))
        except Exception as exc:  # the engine failed: the runner keeps the rest and says why
            if live is not None:
                live.segment_ended(seg.job_id, seg.idx, False)
            return Failed(order, str(exc) or type(exc).__name__)
        except BaseException:
            if live is not None:
                live.segment_ended(seg.job_id, seg.idx, False)
            raise

    def close(self) -> None:
        self._order = None
