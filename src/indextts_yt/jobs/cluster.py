"""More renderers: engine actors on Ray (the ``cluster`` extra).

``WorkerPool`` starts N actors on a local Ray instance, or on an existing Ray cluster
(``address``). Each actor makes the engines it is asked for, as this process would (the
registry's entries and load options travel with it), and asks Ray for one GPU where the
cluster has GPUs, else for its share of the CPUs, with the engines' thread count set to
match. ``RayFarm`` (one per run) hands a run's takes to the actors, at most ``PER_ACTOR``
each, and gives their outcomes back as they come.

The driver (the CLI or the server process) stays the one owner of the store and the data
folder: an actor is sent the segment and the bytes of its clips (once per run and clip,
through Ray's object store: no shared filesystem), and sends back the audio and, where
the take is to be proofread, its check; the driver writes the file. Ray places the
actors, moves the data and restarts an actor whose process dies; a take whose actor died
goes to another actor, and a take no actor can make (its engine will not load anywhere)
fails with the engine's own reason.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import write_segment
from ..clips import ClipStore
from ..engines import registry
from ..engines.piper_engine import THREADS_VAR
from ..errors import EngineUnavailable, InputError
from . import proofread
from .farm import Failed, FarmInfo, Order, Outcome, Rendered
from .render import RenderInput, rendering
from ..settings import CheckSettings
from .store import Job, SegmentRow

#: Takes out per actor: one rendering, one waiting, so no actor idles between takes.
PER_ACTOR = 2
#: A process that dies is started again by Ray this often per actor.
MAX_RESTARTS = 3
#: A take whose actor died goes to another actor; this many deaths and it fails.
MAX_ATTEMPTS = 3
#: The thread-count variables the engines' runtimes read (torch; piper's onnxruntime).
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", THREADS_VAR)
INSTALL = "pip install 'indextts-yt[cluster]'"

log = logging.getLogger("indextts_yt.workers")


class EngineActor:
    """One renderer process (a Ray actor): the engines it is asked for, loaded once."""

    def __init__(self, engines: tuple[dict[str, Any], dict[str, Any]]) -> None:
        registry.restore(*engines)
        self._clips = Path(tempfile.mkdtemp(prefix="indextts-yt-clips-"))
        self._checkers: dict[str | None, proofread.Checker] = {}
        self._rendered = 0

    def rendered(self) -> int:
        """How many takes this process rendered."""
        return self._rendered

    def pid(self) -> int:
        return os.getpid()

    def analyses(self) -> int:
        """How many voice analyses this process computed (not read from the disk cache)."""
        loaded = [registry.get_engine(name) for name in registry.loaded_engines()]
        return sum(e.conditioning.stats["computed"] for e in loaded
                   if hasattr(e, "conditioning"))

    def render(self, seg: SegmentRow, voice: str, settings: Mapping[str, Any],
               overrides: Mapping[str, Any] | None, clips: Mapping[str, Any],
               check: bool, asr_model: str | None) -> tuple:
        """("ok", audio, sample rate, compute s, warnings, check or None) | ("failed", why)
        | ("unavailable", why): the engine cannot start here."""
        import ray

        local = {path: self._copy(path, ray.get(ref)) for path, ref in clips.items()}
        segment = RenderInput(seg.engine, local.get(voice, voice),
                              {k: local.get(v, v) if isinstance(v, str) else v
                               for k, v in settings.items()},
                              seg.engine_text or seg.text, seg.language)
        try:
            with rendering(segment, overrides=overrides, resolved=True) as render:
                t0 = time.monotonic()
                parts = list(render.chunks())
            compute = time.monotonic() - t0
        except EngineUnavailable as exc:
            return ("unavailable", str(exc))
        except Exception as exc:  # noqa: BLE001 - the driver says why, in one line
            return ("failed", str(exc) or type(exc).__name__)
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        self._rendered += 1
        verdict = None
        if check:
            if asr_model not in self._checkers:
                self._checkers[asr_model] = proofread.asr_checker(asr_model,
                                                                  registry.get_engine)
            verdict = self._checkers[asr_model](audio, render.sample_rate, seg,
                                                render.warnings)
        return ("ok", audio, render.sample_rate, compute, tuple(render.warnings), verdict)

    def _copy(self, name: str, data: bytes) -> str:
        """A local file of a clip the driver sent (by content: the engines' analysis
        caches key clips by their bytes too)."""
        path = self._clips / (hashlib.sha256(data).hexdigest()[:32] + Path(name).suffix)
        if not path.exists():
            temp = path.with_name(path.name + ".tmp")
            temp.write_bytes(data)
            temp.replace(path)
        return str(path)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineUnavailable(f"workers run on Ray, which is not installed: {INSTALL}") \
            from None
    return ray


class WorkerPool:
    """``workers`` engine actors on Ray: a local instance started here, or the cluster
    at ``address`` (host:port of its head, or "auto")."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        if workers < 1:
            raise InputError(f"--workers must be at least 1 (got {workers})")
        ray = _ray()
        self._started = not ray.is_initialized()
        if self._started:
            try:
                _connect(ray, address)
            except Exception as exc:  # noqa: BLE001 - Ray's reasons, in one line
                where = f"the Ray cluster at {address!r}" if address else "a local Ray instance"
                raise EngineUnavailable(f"cannot start workers on {where}: "
                                        f"{_first_line(exc)}") from None
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), float(resources.get("CPU", 1))
        if gpus and workers > gpus:
            raise InputError(f"--workers {workers}: the Ray cluster has {gpus} GPU"
                             f"{'s' if gpus > 1 else ''}, one per worker")
        threads = max(1, int(cpus // workers))
        env = {var: str(threads) for var in THREAD_VARS}
        if address is None:  # a local instance: the actors import what this process can
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        needs = {"num_gpus": 1} if gpus else {"num_cpus": min(float(threads), cpus / workers)}
        actor = ray.remote(EngineActor).options(
            max_restarts=MAX_RESTARTS, max_task_retries=0, runtime_env={"env_vars": env},
            **needs)
        self.actors = [actor.remote(registry.snapshot()) for _ in range(workers)]
        self.info = FarmInfo(workers=workers, address=address, gpu=bool(gpus), threads=threads)

    def pids(self) -> list[int]:
        """The actors' process ids (for tests that kill one)."""
        ray = _ray()
        return ray.get([a.pid.remote() for a in self.actors])

    def farm(self, clips: ClipStore, job: Job) -> RayFarm:
        """Where ``job``'s takes go (``jobs.runner.run_job``'s ``farm``)."""
        return RayFarm(self, clips, job.settings.checks)

    __call__ = farm  # the pool is a FarmFactory, and carries its ``info``

    def close(self) -> None:
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._started:
            ray.shutdown()


def _connect(ray: Any, address: str | None) -> None:
    quiet = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if address is None:
        ray.init(**quiet)
        return
    if address != "auto":  # fail fast on a host:port nobody answers
        import socket

        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError("give the head's host:port (e.g. 10.0.0.5:6379), or auto")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as exc:
            raise ConnectionError(f"nothing answers there ({exc})") from None
    ray.init(address=address, log_to_driver=False, configure_logging=False)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class RayFarm:
    """A run's takes on the pool's actors (see the module's docstring)."""

    def __init__(self, pool: WorkerPool, clips: ClipStore, checks: CheckSettings) -> None:
        self.pool, self.clips, self.checks = pool, clips, checks
        self._out: dict[Any, tuple[Order, int, int]] = {}  # ref -> (order, actor, attempts)
        self._sent: dict[str, Any] = {}  # clip path -> its bytes in the object store
        self._cannot: dict[str, dict[int, str]] = {}  # engine -> actors that cannot, and why
        self.reassigned = 0  # takes handed to another actor because theirs died
        # A cloned voice is analysed by its first take's actor (into the disk cache the
        # actors of a machine share); its other takes wait for that one.
        self._voices: dict[tuple[str, str], int | None] = {}  # -> position of the first take
        self._held: list[Order] = []

    def room(self) -> int:
        return PER_ACTOR * len(self.pool.actors) - len(self._out) - len(self._held)

    def submit(self, order: Order, attempts: int = 0, avoid: int | None = None) -> None:
        """Hand ``order`` to the least busy actor that can start its engine (other than
        ``avoid``, where there is another)."""
        seg = order.segment
        engine = registry.get_engine(seg.engine)
        if engine.capabilities.cloning:
            voice = (seg.engine, seg.voice)
            first = self._voices.setdefault(voice, order.position)
            if first is not None and first != order.position:
                self._held.append(order)  # until the voice's analysis is on disk
                return
        cannot = self._cannot.get(seg.engine, {})
        busy = {k: 0 for k in range(len(self.pool.actors)) if k not in cannot}
        for _, k, _ in self._out.values():
            if k in busy:
                busy[k] += 1
        k = min(busy, key=lambda k: (k == avoid, busy[k]))
        voice, settings = self.clips.resolve(engine, seg.voice, seg.settings)
        # Clip ids became paths here: their bytes go along.
        clips = [voice] if voice != seg.voice else []
        clips += [v for name, v in settings.items() if v != seg.settings.get(name)]
        ref = self.pool.actors[k].render.remote(
            seg, voice, settings, order.overrides, {path: self._send(path) for path in clips},
            proofread.policy(self.checks, engine).checks, self.checks.asr_model)
        self._out[ref] = (order, k, attempts)

    def _send(self, path: str) -> Any:
        if path not in self._sent:
            self._sent[path] = _ray().put(Path(path).read_bytes())
        return self._sent[path]

    def outcomes(self) -> Iterator[Outcome]:
        ray = _ray()
        if not self._out:
            return
        ray.wait(list(self._out), num_returns=1)  # at least one, then all that are back
        ready, _ = ray.wait(list(self._out), num_returns=len(self._out), timeout=0)
        for ref in ready:
            outcome = self._outcome(ref, *self._out.pop(ref))
            if outcome is not None:
                self._analysed(outcome.order)
                yield outcome

    def _outcome(self, ref: Any, order: Order, k: int, attempts: int) -> Outcome | None:
        """What came back for ``order`` from actor ``k``; None: it went to another actor."""
        ray = _ray()
        try:
            result = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            if attempts + 1 >= MAX_ATTEMPTS:
                return Failed(order, f"its worker died {attempts + 1} times "
                                     f"({_first_line(exc)})")
            self.reassigned += 1  # the actor died with it: another one takes it
            self.submit(order, attempts + 1, avoid=k)
            return None
        except ray.exceptions.RayError as exc:
            return Failed(order, _first_line(exc))
        if result[0] == "unavailable":
            engine = order.segment.engine
            self._cannot.setdefault(engine, {})[k] = result[1]
            if len(self._cannot[engine]) == len(self.pool.actors):
                return Failed(order, f"no worker can start engine {engine!r}: {result[1]}")
            log.warning("worker %d cannot start engine %r: %s; the other workers render its "
                        "segments", k + 1, engine, result[1])
            self.submit(order, attempts)  # the others carry on
            return None
        if result[0] == "failed":
            return Failed(order, result[1])
        _, audio, rate, compute, warnings, verdict = result
        audio_s = write_segment(order.path, [audio], rate)
        return Rendered(order, rate, audio_s, compute, warnings, verdict)

    def _analysed(self, order: Order) -> None:
        """``order`` is back: if its voice was being analysed, its held takes go out."""
        voice = (order.segment.engine, order.segment.voice)
        if self._voices.get(voice) != order.position:
            return
        self._voices[voice] = None
        held = [o for o in self._held if (o.segment.engine, o.segment.voice) == voice]
        self._held = [o for o in self._held if o not in held]
        for o in held:
            self.submit(o)

    def close(self) -> None:
        ray = _ray()
        self._held.clear()
        for ref in self._out:
            ray.cancel(ref)
        self._out.clear()
