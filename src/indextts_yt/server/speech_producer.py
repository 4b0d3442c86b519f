"""Synthesis owned by one HTTP request: a thread that renders, lays out and encodes, and that
stops as soon as the request goes away.

``speed``: what the engine did not render itself (each segment's settings say at which speed
it did) is made up by a pitch-preserving time stretch (audio/tempo.py), after resampling.

Unlike a job, nothing here is stored: the thread renders the planned segments in order, each
under its engine's generation lock (shared, first come first served, with the job worker),
lays them out with the same Timeline as a narration (pauses, fades), encodes them, and hands
the bytes to the request's event loop. ``cancel()`` (called when the client disconnects) is
checked between engine chunks and while waiting for the lock or for the client, so a
dropped connection frees the engine within one chunk.

Back-pressure: the thread runs at most ``AHEAD`` segments ahead of what the client has
taken, and never holds the engine lock while waiting for the client, so a slow reader
neither grows memory nor stalls the job queue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import numpy as np

from ..audio import BlockResampler, PauseSettings, StreamEncoder, Timeline, silence_blocks
from ..audio.tempo import TempoStretcher
from ..clips import ClipStore
from ..engines import registry
from ..jobs.render import rendering
from ..jobs.store import NewSegment

AHEAD = 2
_END_OF_SEGMENT = object()
_WAIT_S = 0.2


class Cancelled(Exception):
    pass


class SpeechProducer:
    def __init__(self, segments: list[NewSegment], sample_rate: int, fmt: str,
                 clips: ClipStore, pauses: PauseSettings | None = None,
                 speed: float = 1.0, on_exit: Callable[[], None] | None = None) -> None:
        self.segments = segments
        self.speed = speed
        self.clips = clips
        self.sample_rate = sample_rate
        self.encoder = StreamEncoder(fmt, sample_rate)
        self.pauses = pauses or PauseSettings()
        self.segments_done = 0
        self._cancel = threading.Event()
        self._room = threading.Semaphore(AHEAD)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._on_exit = on_exit
        self._thread = threading.Thread(target=self._main, name="indextts-yt-speech", daemon=True)

    # -- the request's side (event loop) ----------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The encoded bytes, in order; raises the thread's error if synthesis failed."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if item is _END_OF_SEGMENT:
                self._room.release()
                continue
            if isinstance(item, BaseException):
                raise item
            yield item

    # -- the thread -------------------------------------------------------------------------

    def _put(self, item: object) -> None:
        if isinstance(item, bytes) and not item:
            return
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the event loop is closed: the server is gone, so is the client
            raise Cancelled from None

    def _check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled

    def _main(self) -> None:
        try:
            self._render()
            self._put(None)
        except Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the request, which reports it
            try:
                self._put(exc)
            except Cancelled:
                pass
        finally:
            self.encoder.close()
            if self._on_exit is not None:
                self._on_exit()

    def _render(self) -> None:
        timeline = Timeline(self.sample_rate, self.pauses)
        self._put(self.encoder.header())
        for seg in self.segments:
            while not self._room.acquire(timeout=_WAIT_S):  # the client is behind: wait
                self._check()
            self._check()
            for block in silence_blocks(timeline.begin(seg.pause_after)):
                self._put(self.encoder.encode(block))
            engine = registry.get_engine(seg.engine)
            resampler = BlockResampler(engine.sample_rate, self.sample_rate)
            stretch = TempoStretcher(self.sample_rate,
                                     self.speed / float(seg.settings.get("speed", 1.0)))
            # The engine is held for this segment only: never while waiting for the client.
            with rendering(seg, self.clips, while_waiting=self._check) as render:
                for chunk in render.chunks():
                    self._check()
                    block = stretch.push(resampler.push(chunk))
                    self._put(self.encoder.encode(timeline.push(block)))
            block = np.concatenate([stretch.push(resampler.finish()), stretch.finish()])
            self._put(self.encoder.encode(timeline.push(block)))
            tail, _ = timeline.end()
            self._put(self.encoder.encode(tail))
            self.segments_done += 1
            self._put(_END_OF_SEGMENT)
        self._put(self.encoder.finish())
