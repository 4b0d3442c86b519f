"""The in-process event hub: what the worker thread does, handed to asyncio listeners.

The worker runs jobs in a plain thread; HTTP handlers (SSE, the live audio stream) are
coroutines on the server's event loop. The hub is the one crossing point: the worker calls
``publish``/``notify`` and the AudioTap methods from its thread, and each subscriber gets the
items on its own loop through ``loop.call_soon_threadsafe`` — never touching asyncio objects
from the wrong thread. It also remembers the latest event per job (for late joiners) and the
audio of the segment being made right now (for the live stream). It knows nothing of HTTP.

Memory is bounded: a subscriber that falls behind loses its oldest items and is flagged
``lagged`` (it should re-read the job), and live audio is kept for one segment per job.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .runner import ProgressEvent

__all__ = ["AUDIO", "EventHub", "LiveSegment", "PROGRESS", "SNAPSHOT", "Subscription"]

# Item kinds a subscriber receives, as (kind, payload):
PROGRESS = "progress"  # payload: the runner's ProgressEvent
SNAPSHOT = "snapshot"  # payload: None; the job changed outside a runner step: re-read it
AUDIO = "audio"  # payload: None; live audio of the job grew (or its segment ended)

_MAX_BACKLOG = 512


@dataclass
class LiveSegment:
    """The audio of the segment being rendered right now, chunk by chunk, at the engine's
    rate. ``state``: 'running', then 'done' (its file is on disk and recorded) or
    'aborted' (failed, stopped, or edited meanwhile: the audio is not the segment's)."""

    job_id: str
    idx: int
    key: str
    sample_rate: int
    chunks: list[np.ndarray] = field(default_factory=list)
    state: str = "running"


class Subscription:
    """One listener's queue of (kind, payload) items for one job, read on its own loop."""

    def __init__(self, hub: EventHub, job_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self._hub = hub
        self.job_id = job_id
        self._loop = loop
        self._items: deque[tuple[str, object]] = deque()
        self._ready = asyncio.Event()
        self.lagged = False  # items were dropped: re-read the job's state

    # called on the subscriber's loop only
    def _deliver(self, item: tuple[str, object]) -> None:
        if len(self._items) >= _MAX_BACKLOG:
            self._items.popleft()
            self.lagged = True
        self._items.append(item)
        self._ready.set()

    def _post(self, item: tuple[str, object]) -> None:
        """From any thread."""
        try:
            self._loop.call_soon_threadsafe(self._deliver, item)
        except RuntimeError:  # the loop is closed: the listener is gone
            self._hub._unsubscribe(self)

    async def get(self, timeout: float | None = None) -> tuple[str, object] | None:
        """The next item, or None after ``timeout`` seconds without one."""
        while not self._items:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None
        return self._items.popleft()

    def drain(self) -> list[tuple[str, object]]:
        items = list(self._items)
        self._items.clear()
        return items

    def close(self) -> None:
        self._hub._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    """Thread-safe fan-out of job activity; also the runner's AudioTap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self._latest: dict[str, ProgressEvent] = {}
        self._live: dict[str, LiveSegment] = {}

    # -- listeners (on an event loop) -------------------------------------------------------

    def subscribe(self, job_id: str) -> Subscription:
        """Call from a coroutine; items arrive on the running loop."""
        sub = Subscription(self, job_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(job_id, set()).add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.job_id]

    def latest(self, job_id: str) -> ProgressEvent | None:
        return self._latest.get(job_id)

    def live(self, job_id: str) -> LiveSegment | None:
        return self._live.get(job_id)

    # -- producers (any thread) -------------------------------------------------------------

    def _send(self, job_id: str, item: tuple[str, object]) -> None:
        with self._lock:
            subs = list(self._subs.get(job_id, ()))
        for sub in subs:
            sub._post(item)

    def publish(self, event: ProgressEvent) -> None:
        """A runner step."""
        self._latest[event.job_id] = event
        self._send(event.job_id, (PROGRESS, event))

    def notify(self, job_id: str) -> None:
        """The job changed outside a runner step (paused, resumed, edited, deleted...)."""
        self._send(job_id, (SNAPSHOT, None))

    def forget(self, job_id: str) -> None:
        """The job is gone: drop what we remember of it, after telling its listeners."""
        self.notify(job_id)
        self._latest.pop(job_id, None)
        self._live.pop(job_id, None)

    # -- AudioTap (called by the runner in the worker thread) -------------------------------

    def segment_started(self, job_id: str, idx: int, key: str, sample_rate: int) -> None:
        self._live[job_id] = LiveSegment(job_id, idx, key, sample_rate)
        self._send(job_id, (AUDIO, None))

    def chunk(self, job_id: str, idx: int, chunk: np.ndarray) -> None:
        live = self._live.get(job_id)
        if live is not None and live.idx == idx:
            # A copy: the array is ours to keep, whatever the engine does with its buffer.
            live.chunks.append(np.array(chunk, dtype=np.float32).reshape(-1))
            self._send(job_id, (AUDIO, None))

    def segment_ended(self, job_id: str, idx: int, ok: bool) -> None:
        live = self._live.get(job_id)
        if live is not None and live.idx == idx:
            live.state = "done" if ok else "aborted"
            # Its file is on disk now (or it failed): listeners read the file from here on,
            # so the chunks need not be kept. A listener mid-way keeps its own reference.
            del self._live[job_id]
            self._send(job_id, (AUDIO, None))
