"""The last step of a job: the publishable files, from the finished segment files.

One pass over the segments lays out the final narration (segments trimmed and brought to
the loudness target, the pauses the user set between them), written atomically as the job's
WAV while a streaming BS.1770 meter measures it; then, if asked, the WAV is encoded into the
requested format with its chapters and title embedded; subtitles (SRT, WebVTT), the word
timings and a YouTube chapter list are written from the same layout, so every time in them
is where the audio really is. Where a segment's take was heard back (proofreading), its
words and its subtitle cues are timed by the recognised words (``audio.word_times``).
What was measured and written is returned as the job's report.

During the run the job's WAV grows as a draft (untouched levels) that can be played and
streamed while the rest is made; this pass replaces it when everything is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..audio import PauseSettings, assemble
from ..audio.chapters import Chapter, youtube_chapter_list, youtube_warnings
from ..audio.encode import encode_wav, output_format
from ..audio.loudness import LoudnessMeter
from ..audio.mastering import Mastering, master_segment, trimmed_lead
from ..audio.word_times import TimedWord, segment_words, words_document
from ..atomic import write_text_atomic
from ..audio.subtitles import write_srt, write_vtt
from .plan import voice_terms
from .store import ORIGIN_CLI, Job, SegmentRow, TakeRow


def publish(job: Job, segments: Sequence[SegmentRow], sample_rate: int,
            pauses: PauseSettings, takes: Sequence[TakeRow] = ()
            ) -> tuple[dict[str, Any], list[float]]:
    """Write the job's final WAV, its encoded file, subtitles, word timings and chapters;
    return the report (measured loudness, files, warnings) and where each segment starts
    in it. ``takes``: the job's takes (``Store.takes``), whose checks' recognised words
    time the words and the cues."""
    output, files = job.settings.output, job.files
    mastering = Mastering(target_lufs=output.target_lufs, trim=output.trim)
    meter = LoudnessMeter(sample_rate)
    leads: list[float] = []  # seconds the trim cut from each segment's start

    def transform(audio: Any, rate: int) -> Any:
        leads.append(trimmed_lead(audio, rate, mastering) / rate)
        return master_segment(audio, rate, mastering)

    placed = assemble(
        Path(job.output_path), ((Path(s.audio_path), s.pause_after) for s in segments),
        sample_rate, pauses, meter=meter, transform=transform if mastering.active else None)
    loudness = meter.result()
    total = placed[-1].end if placed else 0.0
    cues = [(c.start, c.end, s.text) for c, s in zip(placed, segments)]
    chapters = _chapters(segments, placed, total)
    words = [segment_words(s.text, s.language, c.start, c.end, _heard(s, takes),
                           leads[k] if k < len(leads) else 0.0)
             for k, (c, s) in enumerate(zip(placed, segments))]
    # Only a segment some of whose words were heard has its cues timed by them.
    timed: list[Sequence[TimedWord] | None] = [
        ws if any(w.heard for w in ws) else None for ws in words]

    report: dict[str, Any] = {"loudness": loudness.as_dict(), "target_lufs": output.target_lufs,
                              "duration_s": round(total, 3), "files": [job.output_path]}
    if files.file:
        spec = output_format(Path(files.file), output.format, output.bitrate)
        encode_wav(Path(job.output_path), Path(files.file), spec, chapters,
                   {"title": job.title})
        report["files"].append(files.file)
        report["format"] = spec.summary
    style = output.style
    if job.srt_path:
        write_srt(Path(job.srt_path), cues, style, timed)
        report["files"].append(job.srt_path)
    if files.vtt:
        write_vtt(Path(files.vtt), cues, style, timed)
        report["files"].append(files.vtt)
    if files.words:
        write_text_atomic(Path(files.words),
                          words_document([(s.idx, ws) for s, ws in zip(segments, words)]))
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
