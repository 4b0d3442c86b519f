"""The last step of a job: the publishable files, from the finished segment files, made
while the narration is rendered.

A :class:`Publisher` takes the segments in script order, each as soon as it is final (its
take chosen and checked: nothing will change it in this run), while the rest renders:
each is trimmed and brought to the loudness target (``audio.mastering``, per segment) and
laid out with the pauses the user set, appended to the job's WAV (a temp file beside it)
while a streaming BS.1770 meter measures it, and, if an encoded file is asked for, encoded
as it comes (``audio.encode.Encoder``) into a temp file without chapters. When the last
segment is in, :meth:`Publisher.finish` renames the WAV into place, gives the encoded file
its chapters and title by copying its packets into the final container (nothing is
encoded again: well under a second for a 30-minute MP3) and writes the subtitles (SRT,
WebVTT), the word timings and a YouTube chapter list from the same layout, so every time
in them is where the audio really is. Where a segment's take was heard back
(proofreading), its words and its subtitle cues are timed by the recognised words
(``audio.word_times``). What was measured and written is returned as the job's report.

Every file appears at once, complete (temp, fsync, rename); a run that stops or is killed
leaves only temp files (the next run sweeps them, ``leftovers``), never a partial file
where a published one belongs. :func:`publish` is the one way files are published: it
finishes the publisher a run fed, or, where that one failed or was fed audio that has
changed since, publishes afresh in one pass.

During the run the job's WAV also grows as a draft (untouched levels) that can be played
and streamed while the rest is made (jobs/runner.py); the published WAV replaces it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import TEMP_MARK, AtomicWriter, write_text_atomic
from ..audio import Assembler, PauseSettings
from ..audio.chapters import Chapter, youtube_chapter_list, youtube_warnings
from ..audio.encode import Encoder, output_format, place_encoded, plan_encoding
from ..audio.loudness import LoudnessMeter
from ..audio.mastering import Mastering, master_segment, trimmed_lead
from ..audio.timeline import Cue
from ..audio.subtitles import split_cues, srt_text, vtt_text
from ..audio.word_times import TimedWord, segment_words, words_document
from ..errors import InputError
from .plan import voice_terms
from .store import ORIGIN_CLI, Job, SegmentRow, TakeRow

#: The encoded file grows under this name beside its destination until it is finished.
BODY = ".body"


def _body_path(final: Path) -> Path:
    return final.with_name(f"{final.name}{BODY}{TEMP_MARK}{os.getpid()}")


def leftovers(job: Job) -> list[Path]:
    """Temp files a publisher of this job killed mid-way may have left beside its files
    (the runner removes them, holding the job's lock, before it runs the job again)."""
    found: list[Path] = []
    files = job.files
    for name in (job.output_path, files.file, job.srt_path, files.vtt, files.words,
                 files.chapters):
        if name:
            path = Path(name)
            for pattern in (f"{path.name}{TEMP_MARK}*", f"{path.name}{BODY}{TEMP_MARK}*"):
                found += path.parent.glob(pattern)
    return found


class Publisher:
    """The publishable files of one narration, made segment by segment in script order.

    :meth:`add` each segment once it is final, in order; :meth:`finish` after the last.
    ``background``: add() only queues the segment; one thread masters, writes and encodes
    them in order while the caller goes on (the runner renders the next segments). A
    failure there is kept in :attr:`error` and later segments are not worked on;
    :func:`publish` then starts afresh. :meth:`discard` stops and removes the temp files.

    ``added``: (index, audio file, pause after) of every segment given to add(), so that
    :func:`publish` can tell whether they are still the narration's.
    """

    def __init__(self, job: Job, sample_rate: int, pauses: PauseSettings, *,
                 background: bool = False) -> None:
        self.job, self.sample_rate, self.pauses = job, sample_rate, pauses
        output = job.settings.output
        self._mastering = Mastering(target_lufs=output.target_lufs, trim=output.trim)
        self.added: list[tuple[int, str | None, str]] = []
        self.error: BaseException | None = None
        self._cues: list[Cue] = []
        self._leads: list[float] = []  # seconds the trim cut from each segment's start
        self._wav: AtomicWriter | None = None
        self._body: AtomicWriter | None = None
        self._assembler: Assembler | None = None
        self._meter: LoudnessMeter | None = None
        self.encoder: Encoder | None = None
        self._pool = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish")
                      if background else None)
        self._queued: deque[Future[None]] = deque()
        self._done = False

    # -- feeding ---------------------------------------------------------------------------

    def add(self, seg: SegmentRow) -> None:
        """The next segment in script order (its chosen take's audio, its pause)."""
        if self._done:
            raise ValueError("the publisher is finished")
        if len(self.added) != seg.idx:
            raise ValueError(f"segment {seg.idx + 1} given after {len(self.added)} segments: "
                             "segments are published in script order")
        self.added.append((seg.idx, seg.audio_path, seg.pause_after))
        path = Path(str(seg.audio_path))
        if self._pool is None:
            self._add(path, seg.pause_after)
            return
        while self._queued and self._queued[0].done():
            self._queued.popleft()
        if self.error is None:
            self._queued.append(self._pool.submit(self._add_kept, path, seg.pause_after))

    def fed_with(self, segments: Sequence[SegmentRow]) -> bool:
        """Whether what was added is still the start of ``segments`` (same audio files, same
        pauses): a retake chosen or an edit since would make it wrong."""
        return len(self.added) <= len(segments) and all(
            added == (s.idx, s.audio_path, s.pause_after)
            for added, s in zip(self.added, segments))

    def wait(self) -> None:
        """Until every queued segment is worked on (or one failed: ``error``)."""
        while self._queued:
            self._queued.popleft().result()

    def _add_kept(self, path: Path, pause: str) -> None:
        if self.error is not None:
            return
        try:
            self._add(path, pause)
        except BaseException as exc:  # noqa: BLE001 - kept for publish(), which starts afresh
            self.error = exc

    def _add(self, path: Path, pause: str) -> None:
        if self._assembler is None:
            self._open()
        assert self._assembler is not None
        self._cues.append(self._assembler.add(path, pause))  # type: ignore[arg-type]

    def _open(self) -> None:
        """The temp files, the meter and the encoder: every check of the destinations first."""
        job, output = self.job, self.job.settings.output
        try:
            if job.files.file:
                final = Path(job.files.file)
                spec = output_format(final, output.format, output.bitrate)
                plan = plan_encoding(final, spec, self.sample_rate, {"title": job.title})
                self._body = AtomicWriter(final, _body_path(final))
                self.encoder = Encoder(plan, self._body.file)
            self._wav = AtomicWriter(Path(job.output_path))
            self._meter = LoudnessMeter(self.sample_rate)
            self._assembler = Assembler(
                self._wav.file, self.sample_rate, self.pauses, meter=self,
                transform=self._master if self._mastering.active else None)
        except BaseException:
            self._drop()
            raise

    def _master(self, audio: np.ndarray, rate: int) -> np.ndarray:
        self._leads.append(trimmed_lead(audio, rate, self._mastering) / rate)
        return master_segment(audio, rate, self._mastering)

    def push(self, block: np.ndarray) -> None:
        """Every sample the assembler writes (it takes the publisher for its meter): it is
        measured, and encoded as the WAV holds it."""
        assert self._meter is not None
        self._meter.push(block)
        if self.encoder is not None:
            self.encoder.push(block)

    # -- the end -----------------------------------------------------------------------------

    def finish(self, segments: Sequence[SegmentRow], takes: Sequence[TakeRow] = ()
               ) -> tuple[dict[str, Any], list[float]]:
        """Every segment added (``segments``, the narration's rows as published, in order):
        write the job's WAV, its encoded file, subtitles, word timings and chapters; return
        the report (measured loudness, files, warnings) and where each segment starts in it.
        ``takes``: the job's takes (``Store.takes``), whose checks' recognised words time
        the words and the cues."""
        try:
            self.wait()
            if self.error is not None:
                raise self.error
            if len(self.added) != len(segments) or not self.fed_with(segments):
                raise ValueError("finish() needs exactly the segments that were added")
            if self._assembler is None:
                self._open()
            return self._finish(segments, takes)
        finally:
            self.discard()

    def _finish(self, segments: Sequence[SegmentRow], takes: Sequence[TakeRow]
                ) -> tuple[dict[str, Any], list[float]]:
        assert self._assembler is not None and self._meter is not None and self._wav
        job, output, files = self.job, self.job.settings.output, self.job.files
        self._assembler.close()
        frames = self._assembler.frames
        loudness = self._meter.result()
        placed, leads = self._cues, self._leads
        total = placed[-1].end if placed else 0.0
        cues = [(c.start, c.end, s.text) for c, s in zip(placed, segments)]
        chapters = _chapters(segments, placed, total)
        heard = [_heard(s, takes) for s in segments]
        # Each word's time: for the words file, and for the cues of a segment that was heard.
        words = [segment_words(s.text, s.language, c.start, c.end, heard[k],
                               leads[k] if k < len(leads) else 0.0)
                 if files.words or heard[k] else None
                 for k, (c, s) in enumerate(zip(placed, segments))]
        # Only a segment some of whose words were heard has its cues timed by them.
        timed: list[Sequence[TimedWord] | None] = [
            ws if ws and any(w.heard for w in ws) else None for ws in words]

        self._wav.commit()
        report: dict[str, Any] = {"loudness": loudness.as_dict(),
                                  "target_lufs": output.target_lufs,
                                  "duration_s": round(total, 3), "files": [job.output_path]}
        if files.file:
            assert self.encoder is not None and self._body is not None
            if not frames:
                raise InputError(f"{job.output_path}: the WAV has no audio")
            self.encoder.close()
            self._body.close()
            place_encoded(self._body.tmp, Path(files.file), self.encoder.plan.spec, chapters,
                          {"title": job.title}, frames / self.sample_rate)
            report["files"].append(files.file)
            report["format"] = self.encoder.plan.spec.summary
        subtitles = split_cues(cues, output.style, timed) if job.srt_path or files.vtt else []
        if job.srt_path:
            write_text_atomic(Path(job.srt_path), srt_text(subtitles))
            report["files"].append(job.srt_path)
        if files.vtt:
            write_text_atomic(Path(files.vtt), vtt_text(subtitles))
            report["files"].append(files.vtt)
        if files.words:
            write_text_atomic(Path(files.words), words_document(
                [(s.idx, ws or []) for s, ws in zip(segments, words)]))
            report["files"].append(files.words)
        if chapters:
            report["chapters"] = [asdict(c) for c in chapters]
            warnings = youtube_warnings(chapters)
            if files.chapters:
                write_text_atomic(Path(files.chapters), youtube_chapter_list(chapters, total))
                report["files"].append(files.chapters)
        else:
            warnings = ["no chapters: the script has no headings or [chapter: ...] lines"] \
                if files.chapters and job.origin == ORIGIN_CLI else []  # asked for by name
        # What the engine reported about a segment's audio (a runaway, a scaled piece): the
        # segments API has them per segment; the report lists them for the whole narration.
        warnings += [f"segment {s.idx + 1}: {w}" for s in segments for w in s.warnings]
        if warnings:
            report["warnings"] = warnings
        if job.notes:
            report["notes"] = list(job.notes)
        terms = voice_terms(segments)  # the voices as rendered (an edit may have changed them)
        if terms:
            report["terms"] = terms
        return report, [c.start for c in placed]

    def discard(self) -> None:
        """Stop (a segment being worked on is finished first) and remove the temp files;
        what was published stays. Idempotent; finish() ends with it."""
        self._done = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._queued.clear()
        self._drop()

    def _drop(self) -> None:
        if self._assembler is not None:
            try:
                self._assembler.close()  # its WAV writer is done with the file
            except Exception:  # noqa: BLE001 - the file is removed anyway
                pass
        if self.encoder is not None:
            self.encoder.abort()
        for writer in (self._body, self._wav):
            if writer is not None:
                writer.discard()


def publish(job: Job, segments: Sequence[SegmentRow], sample_rate: int,
            pauses: PauseSettings, takes: Sequence[TakeRow] = (),
            publisher: Publisher | None = None) -> tuple[dict[str, Any], list[float]]:
    """Write the job's final WAV, its encoded file, subtitles, word timings and chapters;
    return the report (measured loudness, files, warnings) and where each segment starts
    in it (see :meth:`Publisher.finish`).

    ``publisher``: the one the run fed while rendering; it is given the segments it lacks
    and finished. Where it failed, or was fed audio that is no longer the narration's (a
    take changed after it was added), it is dropped and the narration is published afresh,
    in one pass, by a new one."""
    if publisher is not None:
        publisher.wait()
        if publisher.error is None and publisher.fed_with(segments):
            for seg in segments[len(publisher.added):]:
                publisher.add(seg)
            return publisher.finish(segments, takes)
        publisher.discard()
    fresh = Publisher(job, sample_rate, pauses)
    try:
        for seg in segments:
            fresh.add(seg)
    except BaseException:
        fresh.discard()
        raise
    return fresh.finish(segments, takes)


def _heard(seg: SegmentRow, takes: Sequence[TakeRow]) -> list[dict[str, Any]] | None:
    """The recognised words of the segment's chosen take (the audio that was published), or
    None where it was not heard back (checks off, no recogniser for its language)."""
    take = next((t for t in takes if t.idx == seg.idx and t.take == seg.take
                 and t.audio_path == seg.audio_path), None)
    transcript = (take.check or {}).get("transcript") if take else None
    return list(transcript.get("words") or ()) if transcript else None


def _chapters(segments: Sequence[SegmentRow], placed: Sequence[Any], total: float
              ) -> list[Chapter]:
    """A chapter per heading, from where its heading is spoken to the next heading."""
    starts = [(cue.start, seg.chapter) for cue, seg in zip(placed, segments) if seg.chapter]
    chapters = []
    for k, (start, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else total
        if end > start:
            chapters.append(Chapter(title, start, end))
    if chapters and chapters[0].start_s > 0:  # the intro before the first heading
        chapters[0] = Chapter(chapters[0].title, 0.0, chapters[0].end_s)
    return chapters
