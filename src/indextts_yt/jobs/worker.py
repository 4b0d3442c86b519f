"""The background worker: one thread per engine device that drains the job queue in order.

The job, not an HTTP request, owns the work: requests only change rows in the store and wake
the worker; the worker runs queued jobs (oldest first) with the same runner as the CLI and
publishes every progress event to the hub. It owns its own Store connection (a SQLite
connection is not shared between threads).

Start-up: jobs left 'running' by a dead process are swept to 'interrupted' (runner.sweep_stale)
and the server's interrupted jobs go back to 'queued', so a restart resumes them, redoing at
most the segment that was in flight. Stop: the run is closed between events, which marks the
job 'interrupted' — the next start-up resumes it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from ..engines import registry
from ..engines.base import settings_for
from ..errors import JobBusy, StudioError
from .events import EventHub
from .render import RenderInput, render_all
from .runner import FarmFactory, run_job, sweep_stale
from .service import requeue_interrupted
from .state import Event, JobState, fire
from .store import Store

log = logging.getLogger("indextts_yt.worker")

__all__ = ["Worker"]


class Worker:
    def __init__(self, data_dir: Path, hub: EventHub, *, warm: tuple[str, ...] = ("piper",),
                 idle_poll_s: float = 1.0, farm: FarmFactory | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.hub = hub
        self.farm = farm  # where takes are rendered: None, here (runner.run_job)
        self._warm_engines = warm
        # Polling as well as waking: a job queued by another process (a CLI resume into the
        # same data dir) is found within this time.
        self._idle_poll_s = idle_poll_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self.current_job_id: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="indextts-yt-worker", daemon=True)
        self._thread.start()

    def wait_started(self, timeout: float | None = None) -> bool:
        """True once start-up (sweep, requeue, engine warm-up) is over."""
        return self._started.wait(timeout)

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the segment in flight; the running job becomes 'interrupted'."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the thread -------------------------------------------------------------------------

    def _main(self) -> None:
        store = Store(self.data_dir)
        try:
            for job_id in sweep_stale(store):
                self.hub.notify(job_id)
            for job_id in requeue_interrupted(store):
                log.info("resuming job %s", job_id)
                self.hub.notify(job_id)
            self._warm()
            self._started.set()
            while not self._stopping.is_set():
                self._wake.clear()
                job = store.next_queued()
                if job is None:
                    self._wake.wait(self._idle_poll_s)
                    continue
                self._run(store, job.id)
        except Exception:  # a bug, not a user error: log it, the server stays up
            log.exception("worker stopped by an unexpected error")
        finally:
            self._started.set()
            store.close()

    def _warm(self) -> None:
        """Load the default engine and run it once, so the first job's first audio comes
        without the model load (about a second) in front of it."""
        for name in self._warm_engines:
            if self._stopping.is_set():
                return
            try:
                engine = registry.get_engine(name)
                # The path every job takes: the voice prepared here is the one jobs reuse.
                render_all(RenderInput(engine=name, voice=engine.voices()[0].id,
                                       settings=settings_for(engine, {}), text="Ready."))
            except Exception as exc:  # noqa: BLE001 - warm-up is an optimisation only
                log.warning("could not warm up engine %s: %s", name, exc)

    def _run(self, store: Store, job_id: str) -> None:
        self.current_job_id = job_id
        runner = run_job(store, job_id, from_states=(JobState.QUEUED,), tap=self.hub,
                         farm=self.farm)
        try:
            for event in runner:
                self.hub.publish(event)
                if self._stopping.is_set():
                    runner.close()  # -> 'interrupted'; resumed at the next start-up
                    break
        except JobBusy:
            # Another process (a CLI `resume`) is running it; it will move on from 'queued'.
            time.sleep(self._idle_poll_s)
        except StudioError as exc:  # e.g. its engine cannot start: the job fails, not us
            log.warning("job %s: %s", job_id, exc)
            self._fail(store, job_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - one job's bug must not stop the queue
            log.exception("job %s failed unexpectedly", job_id)
            self._fail(store, job_id, f"internal error: {exc}")
        finally:
            self.current_job_id = None
            self.hub.notify(job_id)

    @staticmethod
    def _fail(store: Store, job_id: str, message: str) -> None:
        store.reset_running_segments(job_id)
        fire(store, job_id, Event.ABORT, error=message)
