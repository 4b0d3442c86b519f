"""Rendering one segment: the one place that turns (engine, voice, settings, text) into audio.

The job runner, the speech endpoint and the worker's warm-up all render through
``rendering``, so they share one policy: clip ids become stored clips, the engine's
generation lock is held only while the engine generates (first come, first served between
jobs and requests), and a voice is prepared once per process (``PreparedVoices``), not once
per run or request.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..clips import ClipStore
from ..engines import registry
from ..engines.base import Engine, SettingValue, synthesis_warnings

__all__ = ["PreparedVoices", "RenderInput", "Rendering", "SegmentInput", "prepared_voices",
           "render_all", "rendering"]

#: How often a caller that can give up (the speech endpoint) is asked while it waits for
#: the engine.
WAIT_S = 0.2
#: Prepared voices kept in memory: a few MB each for a cloning engine, a string for others.
MEMORY_VOICES = 16


class SegmentInput(Protocol):
    """What rendering needs of a segment; jobs.store.NewSegment and SegmentRow have it."""

    @property
    def engine(self) -> str: ...

    @property
    def voice(self) -> str: ...

    @property
    def settings(self) -> Mapping[str, SettingValue]: ...

    @property
    def text(self) -> str: ...

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class RenderInput:
    """A segment made up by the caller, not taken from a plan (the worker's warm-up)."""

    engine: str
    voice: str
    settings: Mapping[str, SettingValue]
    text: str
    language: str = "en"


class PreparedVoices:
    """``engine.prepare_voice(voice)`` results, by (engine name, engine version, voice): a
    bounded LRU shared by every job and request of the process, so each voice is analysed
    once. The IndexTTS engines keep the analysis on disk too (indextts_common)."""

    def __init__(self, capacity: int = MEMORY_VOICES) -> None:
        self.capacity = capacity
        # The value remembers the instance that made it: an engine made again with other
        # load options (another device) has the same version but cannot use its tensors.
        self._entries: OrderedDict[tuple[str, str, str], tuple[weakref.ref[Any], Any]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, voice: str) -> Any:
        """The conditioning of ``voice`` for ``engine``, prepared now if not kept. Call it
        holding the engine's generation lock: the engine is used by one thread at a time."""
        key = (engine.name, engine.version, voice)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0]() is engine:
                self._entries.move_to_end(key)
                return entry[1]
        # Outside our lock: preparing can take seconds (a model load), and other engines'
        # voices need not wait for it.
        conditioning = engine.prepare_voice(voice)
        with self._lock:
            self._entries[key] = (weakref.ref(engine), conditioning)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return conditioning

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: The process's one cache of prepared voices.
prepared_voices = PreparedVoices()


class Rendering:
    """A segment being rendered, inside ``rendering``: the engine is held and the voice
    prepared. ``chunks()`` yields the engine's float32 chunks once; when they end,
    ``warnings`` holds what the engine reported (see engines/base.Engine.synthesize)."""

    def __init__(self, engine: Engine, text: str, conditioning: Any,
                 settings: Mapping[str, SettingValue], language: str) -> None:
        self.engine = engine
        self.sample_rate = engine.sample_rate
        self.warnings: tuple[str, ...] = ()
        self._args = (text, conditioning, settings, language)
        self._chunks: Generator[np.ndarray, None, tuple[str, ...]] | None = None

    def chunks(self) -> Generator[np.ndarray, None, tuple[str, ...]]:
        if self._chunks is not None:
            raise RuntimeError("a segment's chunks can be taken once")
        self._chunks = self._generate()
        return self._chunks

    def _generate(self) -> Generator[np.ndarray, None, tuple[str, ...]]:
        text, conditioning, settings, language = self._args
        result = yield from self.engine.synthesize(text, conditioning, settings,
                                                   language=language)
        self.warnings = synthesis_warnings(result)
        return self.warnings

    def close(self) -> None:
        """Stop the engine's generator (a caller that gave up mid-segment), so it cleans
        up while the engine is still held rather than whenever it is collected."""
        if self._chunks is not None:
            self._chunks.close()


@contextmanager
def rendering(segment: SegmentInput, clips: ClipStore | None = None, *,
              while_waiting: Callable[[], None] | None = None,
              voices: PreparedVoices | None = None,
              overrides: Mapping[str, SettingValue] | None = None,
              resolved: bool = False) -> Iterator[Rendering]:
    """Hold ``segment``'s engine and prepare its voice; the block then renders it with
    ``Rendering.chunks()``. The lock is released when the block ends, so a caller must
    leave the block before waiting on anything else (a slow client, the next segment).

    ``clips``: where clip ids (the voice and settings of kind "clip" of a cloning engine)
    are found; needed only for cloning engines. ``while_waiting`` is called every
    ``WAIT_S`` while another render holds the engine; it may raise to give up waiting.
    Preparing the voice (and the model load it may cause) happens before the block
    starts, so timing the block times synthesis alone. ``overrides``: settings that differ
    for this render only (a retake's seed), leaving the segment (and its key) as it is.
    ``resolved``: the segment's clips are file paths already (``ClipStore.resolve`` was
    done by whoever sent it: an engine actor gets copies of the driver's clips)."""
    engine = registry.get_engine(segment.engine)
    # Clip ids become the paths of the stored clips (cloning engines only); a missing clip
    # fails here, before the engine is taken from anyone else.
    if clips is not None:
        voice, settings = clips.resolve(engine, segment.voice, segment.settings)
    elif engine.capabilities.cloning and not resolved:
        raise ValueError(f"engine {segment.engine!r} clones voices: rendering needs the clips")
    else:
        voice, settings = segment.voice, dict(segment.settings)
    if overrides:
        settings = {**settings, **overrides}
    lock = registry.generation_lock(segment.engine)
    if while_waiting is None:
        lock.acquire()
    else:
        while not lock.acquire(timeout=WAIT_S):
            while_waiting()
    try:
        cache = voices if voices is not None else prepared_voices  # (an empty one is falsy)
        conditioning = cache.get(engine, voice)
        # The text as the engine reads it (the pronunciation dictionary applied), where the
        # segment has one; the script's words otherwise.
        text = getattr(segment, "engine_text", None) or segment.text
        render = Rendering(engine, text, conditioning, settings, segment.language)
        try:
            yield render
        finally:
            render.close()
    finally:
        lock.release()


def render_all(segment: SegmentInput, clips: ClipStore | None = None
               ) -> tuple[np.ndarray, tuple[str, ...]]:
    """The whole segment as one array, and its warnings (the worker's warm-up, tests)."""
    with rendering(segment, clips) as render:
        parts = list(render.chunks())
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), render.warnings
