"""The runner: renders a job's pending segments in order and yields a progress event per step.

Durability rule (DESIGN.md): a segment's audio is written to a temp file, fsynced and renamed
before its row is marked done, so the store never claims audio the disk lacks, and a job
killed at any moment redoes at most the segment that was in flight.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from filelock import FileLock, Timeout

from ..atomic import link_or_copy_atomic
from ..audio import Assembler, PauseSettings, sweep_temp_files
from ..audio.segment_file import read_segment
from ..clips import ClipStore
from ..engines import registry
from ..errors import JobBusy
from . import proofread
from . import store as st
from .proofread import Checker, CheckOutcome, NotChecked, Policy
from .farm import AudioTap, Failed, Farm, LocalFarm, Order
from .publish import Publisher, leftovers, publish
from .state import Event, JobState, check, fire
from .store import SegmentRow, Store, TakeRow

PREVIEW_CHARS = 80
#: Makes the farm of a run (a jobs.cluster.WorkerPool); None: jobs.farm.LocalFarm.
FarmFactory = Callable[[ClipStore, st.Job], Farm]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a run; the CLI bar, the SSE stream and the UI log all render these."""

    #: started | segment_started | segment_done | segment_checked | finished | stopped
    kind: str
    job_id: str
    state: str  # the job's state after this step
    index: int | None  # segment index (0-based) this event is about
    total: int  # segments in the job
    done: int  # segments finished so far
    text: str  # preview of the segment's text
    segment_compute_s: float | None = None
    segment_audio_s: float | None = None
    segment_rtf: float | None = None
    cumulative_rtf: float | None = None  # compute / audio over this run's rendered segments
    elapsed_s: float = 0.0
    eta_s: float | None = None  # from characters still to speak and the measured rate
    output_path: str | None = None
    error: str | None = None
    report: dict | None = None  # finished: measured loudness, files written, warnings
    #: segment_done: what the engine reported about the segment's audio ([] when nothing:
    #: e.g. "runaway: ..." for speech cut at the token limit, "clipping: ..."); else None
    warnings: list[str] | None = None
    #: segment_started/segment_done of a retake, and segment_checked: which take (1-based)
    take: int | None = None
    #: segment_checked: ok | flagged | not_checked, and the verdicts (as dicts)
    status: str | None = None
    verdicts: list[dict] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def job_sample_rate(engine_names: Iterable[str]) -> int:
    """The output rate of a job using these engines: the highest, so nothing is downsampled.
    The assembler and the live stream both use this, so they agree."""
    return max(registry.get_engine(name).sample_rate for name in set(engine_names))


def _lock(store: Store, job_id: str) -> FileLock:
    # An OS lock dies with its process, even on SIGKILL, so a lock held means a live runner.
    return FileLock(store.job_dir(job_id) / "run.lock", timeout=0)


def sweep_stale(store: Store) -> list[str]:
    """Mark jobs left 'running' by a dead process as interrupted and clear their debris."""
    swept = []
    for job in store.list_jobs():
        if job.state != JobState.RUNNING:
            continue
        lock = _lock(store, job.id)
        try:
            lock.acquire()
        except Timeout:
            continue  # a live runner holds it
        try:
            if store.job_state(job.id) == JobState.RUNNING:
                _clear_debris(store, job)
                if fire(store, job.id, Event.INTERRUPT):
                    swept.append(job.id)
        finally:
            lock.release()
    return swept


def _clear_debris(store: Store, job: st.Job) -> None:
    store.reset_running_segments(job.id)
    sweep_temp_files(store.job_dir(job.id))
    for orphan in leftovers(job):  # a killed publisher's temp files beside the outputs
        orphan.unlink(missing_ok=True)


def _segment_path(store: Store, seg: SegmentRow) -> Path:
    # The key is in the name, so edited text or settings can never be served an old file.
    return store.job_dir(seg.job_id) / f"seg-{seg.idx:05d}-{seg.key[:16]}.wav"


def _take_path(store: Store, seg: SegmentRow, take: int) -> Path:
    """Take 1 is the segment's file; retakes lie beside it, named by their number."""
    path = _segment_path(store, seg)
    return path if take == 1 else path.with_name(f"{path.stem}.take{take}.wav")


def _reuse(store: Store, seg: SegmentRow) -> bool:
    """Take the audio of an identical finished segment (same key) from any job, if one exists."""
    source = store.find_audio_for_key(seg.key)
    if source is None:
        return False
    target = _segment_path(store, seg)
    if Path(source.audio_path) != target:
        link_or_copy_atomic(Path(source.audio_path), target)  # segment files are never rewritten
    store.mark_segment_done(seg.job_id, seg.idx, key=seg.key, audio_path=str(target),
                            sample_rate=source.sample_rate, audio_seconds=source.audio_seconds,
                            compute_seconds=0.0, reused=True, warnings=source.warnings)
    return True


def _preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def run_job(store: Store, job_id: str, *, from_states: Iterable[str] | None = None,
            tap: AudioTap | None = None, checker: Checker | None = None,
            farm: FarmFactory | None = None) -> Iterator[ProgressEvent]:
    """Render every segment still missing, then assemble the output. Yields progress events.

    Raises JobBusy if another process is running the job. Closing the generator early (or a
    KeyboardInterrupt) leaves the job 'interrupted' and every finished segment kept.
    ``from_states``: run only if the job is in one of these states when the run starts
    (else yield nothing); the server's worker passes ('queued',) so that a job paused or
    cancelled just before it starts is left alone. ``tap`` sees audio as it is made.
    ``checker`` proofreads each take (default: jobs.proofread's, by the job's settings).
    ``farm`` makes where takes are rendered (default: here, one at a time, with ``tap``;
    jobs.cluster: engine actors on Ray, in parallel, finishing in any order).

    Between segments the run stops as soon as the job is no longer 'running': paused,
    cancelled, or sent back to 'queued' by an edit (the worker then runs it again).
    """
    job = store.get_job(job_id)
    lock = _lock(store, job_id)
    try:
        lock.acquire()
    except Timeout:
        pid = store.get_job(job_id).runner_pid
        raise JobBusy(f"job {job_id} is already running in another process"
                      f"{f' (pid {pid})' if pid else ''}") from None
    try:
        job = store.get_job(job_id)  # again, now that no one else can be running it
        if from_states is not None and job.state not in tuple(from_states):
            return
        check(job_id, Event.START, job.state)  # a cancelled job: JobConflict
        _clear_debris(store, job)
        if not fire(store, job_id, Event.START, seen=job.state, runner_pid=os.getpid()):
            return  # its state changed under us (a pause, a cancel): respect it
        made = farm(ClipStore(store.data_dir), job) if farm else \
            LocalFarm(ClipStore(store.data_dir), tap)
        try:
            yield from _run_locked(store, job, made, tap if farm is None else None, checker)
        finally:
            made.close()
    except GeneratorExit:
        _stop(store, job_id)
        raise
    except KeyboardInterrupt:
        _stop(store, job_id)
        raise
    finally:
        lock.release()


def _stop(store: Store, job_id: str) -> None:
    store.reset_running_segments(job_id)
    fire(store, job_id, Event.INTERRUPT)


def _check_take(checker: Checker, path: str, seg: SegmentRow, warnings: tuple[str, ...]
                ) -> CheckOutcome:
    """In the checking thread: read the take back and check it; a check that fails says
    why and counts as not checked, never as passed."""
    try:
        audio, sample_rate = read_segment(Path(path))
        return checker(audio, sample_rate, seg, warnings)
    except Exception as exc:  # noqa: BLE001 - a broken check must not stop the narration
        return NotChecked(f"the check failed: {str(exc) or type(exc).__name__}")


class _Proofreader:
    """The takes side of a run: one thread checks finished takes while the next segment
    renders; a flagged take queues a retake, to be rendered next; when a segment's takes
    are all checked the best becomes its audio. Results are stored by the run's own thread
    (the store's connection is not shared)."""

    def __init__(self, store: Store, job: st.Job, segments: list[SegmentRow],
                 checker: Checker | None) -> None:
        self.store, self.job, self.segments = store, job, segments
        engines = {s.engine for s in segments}
        self.policies: dict[str, Policy] = {
            name: proofread.policy(job.settings.checks, registry.get_engine(name))
            for name in engines}
        self.checker = checker or proofread.asr_checker(job.settings.checks.asr_model,
                                                        registry.get_engine)
        self.active = any(p.checks for p in self.policies.values())
        self.retakes: deque[tuple[int, int]] = deque()  # (position, take number)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="check") \
            if self.active else None
        self._checking: dict[Future[CheckOutcome], tuple[int, int, str]] = {}

    def policy(self, seg: SegmentRow) -> Policy:
        return self.policies[seg.engine]

    def resume(self) -> None:
        """Takes kept from an earlier run: check those never checked, settle the rest
        (a retake that was due, or the choice of the best)."""
        for i, seg in enumerate(self.segments):
            if not seg.has_valid_audio:
                continue
            takes = self.store.takes(self.job.id, seg.idx)
            if not takes:  # audio reused from another job, or made before takes existed
                self.store.add_take(TakeRow(
                    seg.job_id, seg.idx, 1, seg.key, proofread.retake_seed(seg, 1),
                    str(seg.audio_path), int(seg.sample_rate or 0), seg.audio_seconds or 0.0,
                    seg.compute_seconds or 0.0, seg.warnings), choose=True)
                takes = self.store.takes(self.job.id, seg.idx)
                self.segments[i] = seg = self.store.segment(self.job.id, seg.idx)
            if seg.retake_asked:  # a person asked for another take: it comes first
                self.retakes.appendleft((i, takes[-1].take + 1))
            if not self.policy(seg).checks:
                continue
            unchecked = [t for t in takes if t.check is None]
            for take in unchecked:
                self.submit(i, take)
            if not unchecked and not seg.retake_asked:
                self.settle(i)

    def submit(self, i: int, take: TakeRow, checked: CheckOutcome | None = None) -> None:
        """Check ``take`` in the checking thread, unless ``checked`` (its renderer did)."""
        seg = self.segments[i]
        if self._pool is None or not self.policy(seg).checks:
            return
        if checked is not None:
            future: Future[CheckOutcome] = Future()
            future.set_result(checked)
        else:
            future = self._pool.submit(_check_take, self.checker, take.audio_path, seg,
                                       take.warnings)
        self._checking[future] = (i, take.take, take.key)

    @property
    def outstanding(self) -> bool:
        return bool(self._checking)

    def finished(self, block: bool) -> Iterator[tuple[int, int, CheckOutcome]]:
        """Store the checks that are back (waiting for one if ``block``); yields
        (position, take, result) for each, after settling its segment."""
        if not self._checking:
            return
        if block:
            wait(list(self._checking), return_when=FIRST_COMPLETED)
        for future in [f for f in self._checking if f.done()]:
            i, take, key = self._checking.pop(future)
            result = future.result()  # _check_take never raises
            if self.store.set_check(self.job.id, self.segments[i].idx, take, key,
                                    result.to_dict()):
                self.settle(i)
                yield i, take, result

    def settle(self, i: int) -> None:
        """All takes checked: queue a retake if one is due, else choose the best."""
        seg = self.store.segment(self.job.id, self.segments[i].idx)
        takes = self.store.takes(self.job.id, seg.idx)
        if not takes or any(t.check is None for t in takes) or seg.retake_asked:
            return
        if seg.approved:  # a person chose this take: it stays
            self.segments[i] = seg
            return
        if proofread.wants_retake(seg, takes, self.policy(seg)):
            self.retakes.append((i, takes[-1].take + 1))
            return
        best = proofread.best_take(takes)
        if best.take != seg.take:
            self.store.choose_take(self.job.id, seg.idx, best.take)
        self.segments[i] = self.store.segment(self.job.id, seg.idx)

    def close(self) -> None:
        """Stop: checks not started are dropped (a resume checks them); one in progress is
        finished and stored, so nothing is left half-stored."""
        if self._pool is None:
            return
        self._pool.shutdown(wait=True, cancel_futures=True)
        for future, (i, take, key) in list(self._checking.items()):
            if future.done() and not future.cancelled():
                self.store.set_check(self.job.id, self.segments[i].idx, take, key,
                                     future.result().to_dict())
        self._checking.clear()

    def final(self, i: int) -> SegmentRow | None:
        """The segment's row if this run will not change its audio any more: a take chosen,
        no retake asked, and, where its takes are checked, all of them checked and the best
        chosen (no retake due); else None. The runner asks between steps, never while a
        retake of it renders."""
        seg = self.store.segment(self.job.id, self.segments[i].idx)
        if not seg.has_valid_audio or seg.retake_asked:
            return None
        if self._pool is None or not self.policy(seg).checks:
            return seg
        takes = self.store.takes(self.job.id, seg.idx)
        if not takes or any(t.check is None for t in takes):
            return None
        if seg.approved:
            return seg
        if proofread.wants_retake(seg, takes, self.policy(seg)):
            return None
        return seg if proofread.best_take(takes).take == seg.take else None

    def report(self) -> dict[str, int] | None:
        if not self.active:
            return None
        return proofread.summary(self.store.segments(self.job.id),
                                 self.store.takes(self.job.id))


def _run_locked(store: Store, job: st.Job, farm: Farm, tap: AudioTap | None,
                checker: Checker | None) -> Iterator[ProgressEvent]:
    started = time.monotonic()
    segments = store.segments(job.id)
    total = len(segments)
    for seg in segments:
        if not seg.has_valid_audio:
            _reuse(store, seg)
    segments = store.segments(job.id)
    done = sum(s.has_valid_audio for s in segments)
    pauses = PauseSettings(**job.settings.pauses)
    sample_rate = job_sample_rate(s.engine for s in segments)

    def event(kind: str, state: str, seg: SegmentRow | None, **fields) -> ProgressEvent:
        return ProgressEvent(kind=kind, job_id=job.id, state=state,
                             index=seg.idx if seg else None, total=total, done=done,
                             text=_preview(seg.text) if seg else "",
                             elapsed_s=time.monotonic() - started,
                             output_path=job.output_path, **fields)

    yield event("started", JobState.RUNNING, None)

    # Streaming output: the file grows (and stays playable) as each next segment is finished.
    streamer = Assembler(Path(job.output_path), sample_rate, pauses) if job.streaming else None
    next_to_stream = 0
    # The publishable files are made meanwhile (in their own thread): each next segment in
    # order as soon as it is final, so that little is left to do after the last one.
    publisher = Publisher(job, sample_rate, pauses, background=True)

    def stream_ready() -> None:
        nonlocal next_to_stream
        while streamer and next_to_stream < total and segments[next_to_stream].has_valid_audio:
            s = segments[next_to_stream]
            streamer.add(Path(s.audio_path), s.pause_after)
            next_to_stream += 1
        while len(publisher.added) < total and (ready := proof.final(len(publisher.added))):
            publisher.add(ready)

    remaining_chars = sum(len(s.text) for s in segments if not s.has_valid_audio)
    spoken_chars = 0
    run_compute = run_audio = 0.0
    rendering_since: float | None = None  # the first take handed out
    pending = deque(i for i, s in enumerate(segments) if not s.has_valid_audio)
    proof = _Proofreader(store, job, segments, checker)
    out: dict[int, Order] = {}  # takes handed out, by segment position

    def checked(block: bool) -> Iterator[ProgressEvent]:
        for i, take, result in proof.finished(block):
            yield event("segment_checked", JobState.RUNNING, segments[i], take=take,
                        status=result.status, verdicts=[v.to_dict() for v in result.verdicts])
            stream_ready()  # a segment its check made final is published

    try:
        if streamer:
            streamer.__enter__()
        proof.resume()
        stream_ready()
        stopped: str | None = None  # the job's state once it is no longer running
        while True:
            yield from checked(block=False)
            # Hand out takes while the farm has room: a flagged segment's next take comes
            # before the next segment. A segment is out at most once at a time.
            while stopped is None and farm.room() and (
                    pending or any(i not in out for i, _ in proof.retakes)):
                state = store.job_state(job.id)
                if state != JobState.RUNNING:  # paused, cancelled, or re-queued by an edit
                    stopped = state
                    break
                retakes = [r for r in proof.retakes if r[0] not in out]
                if retakes:
                    proof.retakes.remove(retakes[0])
                    i, take = retakes[0]
                else:
                    i, take = pending.popleft(), 1
                seg = segments[i]
                retake = take > 1
                if not retake:
                    store.mark_segment_running(job.id, seg.idx)
                yield event("segment_started", JobState.RUNNING, seg,
                            take=take if retake else None)
                if rendering_since is None:
                    rendering_since = time.monotonic()
                # The live stream plays a segment's first take at once; retakes are not
                # streamed.
                out[i] = Order(i, seg, take, {"seed": proofread.retake_seed(seg, take)}
                               if retake else None, _take_path(store, seg, take),
                               live=tap is not None and not retake)
                farm.submit(out[i])
            if not out:
                if stopped is not None:
                    yield event("stopped", stopped, None)
                    return
                if proof.outstanding:  # nothing left to render: wait for the checks
                    yield from checked(block=True)
                    continue
                break
            for outcome in farm.outcomes():
                order = out.pop(outcome.order.position)
                i, take, seg = order.position, order.take, order.segment
                retake = take > 1
                if isinstance(outcome, Failed):  # keep everything finished, say why
                    message = f"segment {seg.idx + 1}{f' take {take}' if retake else ''} " \
                              f"failed: {outcome.why}"
                    if not retake:  # a failed retake leaves the segment its finished audio
                        store.mark_segment_failed(job.id, seg.idx, outcome.why)
                    fire(store, job.id, Event.FAIL, error=message)
                    yield event("stopped", JobState.FAILED, seg, error=message)
                    return
                path, compute = order.path, outcome.compute_s
                row = TakeRow(job.id, seg.idx, take, seg.key,
                              proofread.retake_seed(seg, take), str(path), outcome.sample_rate,
                              outcome.audio_s, compute, outcome.warnings)
                # Take 1 becomes the segment's audio at once (the draft and the live stream
                # use it), as does a take a person asked for; another retake only when its
                # check makes it the best.
                recorded = store.add_take(row, choose=not retake or seg.retake_asked)
                if order.live and tap is not None:
                    tap.segment_ended(job.id, seg.idx, recorded)
                if not recorded:
                    # Edited while it was being made: this audio is of the old text. Drop it;
                    # the edit re-queued the job, so the next hand-out stops this run.
                    path.unlink(missing_ok=True)
                    continue
                if not retake and seg.audio_path and seg.audio_path != str(path):
                    Path(seg.audio_path).unlink(missing_ok=True)  # an edited segment's old audio
                segments[i] = store.segment(job.id, seg.idx)
                proof.submit(i, row, outcome.check)
                run_compute += compute
                run_audio += outcome.audio_s
                if not retake:
                    done += 1
                    spoken_chars += len(seg.text)
                    remaining_chars -= len(seg.text)
                stream_ready()
                # Wall-clock since the first take went out (writing, assembly and parallel
                # renderers included), so the ETA is honest.
                chars_per_s = spoken_chars / max(time.monotonic() - rendering_since, 1e-9)
                yield event("segment_done", JobState.RUNNING, seg, segment_compute_s=compute,
                            segment_audio_s=outcome.audio_s,
                            segment_rtf=compute / max(outcome.audio_s, 1e-9),
                            cumulative_rtf=run_compute / max(run_audio, 1e-9),
                            eta_s=remaining_chars / chars_per_s if chars_per_s else None,
                            warnings=list(outcome.warnings), take=take if retake else None)

        state = store.job_state(job.id)
        if state != JobState.RUNNING:  # paused or cancelled during the last segment, or edited
            yield event("stopped", state, None)
            return
        if streamer:
            streamer.__exit__(None, None, None)
            streamer = None
        segments = store.segments(job.id)  # each with its chosen take
        # The publishable files replace the draft: mastered WAV, encoded file, subtitles.
        try:
            report, starts = publish(job, segments, sample_rate, pauses, store.takes(job.id),
                                     publisher)
        except Exception as exc:  # e.g. a full disk: every segment is kept; resume retries
            message = f"writing the output failed: {exc}"
            fire(store, job.id, Event.FAIL, error=message)
            yield event("stopped", JobState.FAILED, None, error=message)
            return
        store.set_starts(job.id, zip((s.idx for s in segments), starts))
        checks = proof.report()
        if checks is not None:
            report["checks"] = checks
        store.set_report(job.id, report)
    finally:
        proof.close()
        if streamer:
            streamer.__exit__(None, None, None)
        publisher.discard()  # a run stopped early: its temp files go (finished: nothing)
    if not fire(store, job.id, Event.FINISH):
        yield event("stopped", store.job_state(job.id), None)  # changed at the last moment
        return
    yield event("finished", JobState.DONE, None,
                cumulative_rtf=(run_compute / run_audio) if run_audio else None, eta_s=0.0,
                report=report)
