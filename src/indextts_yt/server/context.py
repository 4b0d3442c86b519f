"""The studio a request works on, and the objects a request owns, as FastAPI dependencies.

The database objects (Store, PresetLibrary, VoiceLibrary) are opened for one request and
closed after it, so no connection outlives its request. Opening a Store only connects: the
schema is made once, when the Studio starts. A connection is entered, used and closed on
different pool threads, but by one request at a time (db.connect allows that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Request

from ..clips import ClipStore
from ..jobs.events import EventHub
from ..jobs.store import Store
from ..jobs.farm import FarmInfo
from ..jobs.runner import FarmFactory
from ..jobs.worker import Worker
from ..presets import PresetLibrary
from ..voices import VoiceLibrary


class Studio:
    def __init__(self, data_dir: Path | str, *, start_worker: bool = True,
                 farm: FarmFactory | None = None) -> None:
        self.data_dir = Path(data_dir)
        Store(self.data_dir).close()  # create the folder, schema and migrations now, once
        self.hub = EventHub()
        self.worker = Worker(self.data_dir, self.hub, farm=farm)
        # Where takes are rendered, for the queue view: a worker pool says (jobs.cluster);
        # None: in this process.
        self.farm_info: FarmInfo | None = getattr(farm, "info", None)
        self.start_worker = start_worker
        self._speech = 0  # OpenAI speech generations in progress
        self._speech_lock = threading.Lock()

    def open_store(self) -> Store:
        """A new connection to the studio's jobs; the caller closes it."""
        return Store(self.data_dir, create=False)

    def changed(self, job_id: str) -> None:
        """A request changed a job: tell listeners, and let the worker look at the queue."""
        self.hub.notify(job_id)
        self.worker.wake()

    @property
    def speech_active(self) -> int:
        return self._speech

    def speech_started(self) -> None:
        with self._speech_lock:
            self._speech += 1

    def speech_ended(self) -> None:  # called from the speech thread
        with self._speech_lock:
            self._speech -= 1


async def get_studio(request: Request) -> Studio:  # async: no thread for a lookup
    return request.app.state.studio


StudioDep = Annotated[Studio, Depends(get_studio)]


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


def _per_request(open_: Callable[[Studio], C]) -> Callable[[Studio], Iterator[C]]:
    """A dependency that opens the object for the request and closes it afterwards."""
    def dependency(studio: StudioDep) -> Iterator[C]:
        opened = open_(studio)
        try:
            yield opened
        finally:
            opened.close()
    return dependency


get_store = _per_request(Studio.open_store)
get_presets = _per_request(lambda studio: PresetLibrary(studio.data_dir))
get_voices = _per_request(lambda studio: VoiceLibrary(studio.data_dir))


async def get_clips(studio: StudioDep) -> ClipStore:
    return ClipStore(studio.data_dir)  # files only: nothing to close


# scope="function": closed as soon as the endpoint has returned, before the answer is sent.
StoreDep = Annotated[Store, Depends(get_store, scope="function")]
PresetsDep = Annotated[PresetLibrary, Depends(get_presets, scope="function")]
VoicesDep = Annotated[VoiceLibrary, Depends(get_voices, scope="function")]
ClipsDep = Annotated[ClipStore, Depends(get_clips)]
#: For a streamed answer (events, live audio): open until the stream ends.
StreamStoreDep = Annotated[Store, Depends(get_store, scope="request")]
