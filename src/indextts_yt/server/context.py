"""The studio a request works on: the data dir, a Store per thread, the hub and the worker.

SQLite connections must not be shared between threads, and FastAPI runs plain ``def``
endpoints on a thread pool, so each pool thread lazily opens its own Store (cheap: one
connection in WAL mode, where readers never block the worker's writes).
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..jobs.events import EventHub
from ..jobs.store import Store
from ..jobs.worker import Worker


class Studio:
    def __init__(self, data_dir: Path, *, start_worker: bool = True) -> None:
        self.data_dir = Path(data_dir)
        Store(self.data_dir).close()  # create the folder and schema now, in one thread
        self.hub = EventHub()
        self.worker = Worker(self.data_dir, self.hub)
        self.start_worker = start_worker
        self._local = threading.local()
        self._all: list[Store] = []
        self._all_lock = threading.Lock()
        self._speech = 0  # OpenAI speech generations in progress
        self._speech_lock = threading.Lock()

    def store(self) -> Store:
        """This thread's own Store."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.data_dir)
            self._local.store = store
            with self._all_lock:
                self._all.append(store)
        return store

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

    def close(self) -> None:
        with self._all_lock:
            stores, self._all = self._all, []
        for store in stores:
            try:
                store.close()
            except Exception:  # noqa: BLE001 - closing at shutdown; nothing to save
                pass
