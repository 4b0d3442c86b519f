"""A lock handed out in arrival order.

An engine instance renders one thing at a time (two renders at once on a 2-core machine only
make both slow, and some runtimes are not reentrant). The job worker takes the engine for one
segment at a time and immediately asks again; with a plain Lock it would usually win that
race and an interactive request (the OpenAI speech endpoint) could starve behind a whole
narration. First come, first served makes them alternate segment by segment.
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["FairLock"]


class FairLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._waiters: deque[object] = deque()

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for the lock (at most ``timeout`` seconds if given); True if acquired."""
        with self._cond:
            if not self._held and not self._waiters:
                self._held = True
                return True
            me = object()
            self._waiters.append(me)
            ok = self._cond.wait_for(lambda: not self._held and self._waiters[0] is me, timeout)
            if ok:
                self._waiters.popleft()
                self._held = True
                return True
            self._waiters.remove(me)
            self._cond.notify_all()  # we may have been first in line: let the next one look
            return False

    def release(self) -> None:
        with self._cond:
            if not self._held:
                raise RuntimeError("release of an unheld FairLock")
            self._held = False
            self._cond.notify_all()

    def locked(self) -> bool:
        return self._held

    def waiting(self) -> int:
        """How many threads are queued for the lock."""
        with self._cond:
            return len(self._waiters)

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
