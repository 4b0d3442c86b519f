"""The last step of a job: the publishable files, from the finished segment files.

One pass over the segments lays out the final narration (segments trimmed and brought to
the loudness target, the pauses the user set between them), written atomically as the job's
WAV while a streaming BS.1770 meter measures it; then, if asked, the WAV is encoded into the
requested format with its chapters and title embedded; subtitles (SRT, WebVTT) and a
YouTube chapter list are written from the same layout, so every time in them is where the
audio really is. What was measured and written is returned as the job's report.

During the run the job's WAV grows as a draft (untouched levels) that can be played and
streamed while the rest is made; this pass replaces it when everything is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..audio import PauseSettings, assemble
from ..audio.chapters import Chapter, youtube_chapter_list, youtube_warnings
from ..audio.encode import encode_wav, output_format
from ..audio.loudness import DEFAULT_TARGET_LUFS, LoudnessMeter, parse_target
from ..audio.mastering import Mastering, master_segment
from ..audio.subtitles import SubtitleStyle, write_srt, write_vtt
from ..atomic import write_text_atomic
from ..errors import InputError
from .store import ORIGIN_CLI, Job, SegmentRow


@dataclass(frozen=True)
class OutputOptions:
    """What the user wants out of a job besides its WAV (stored in its settings)."""

    file: str | None = None  # the encoded file (mp3, m4a, ...); None: the WAV is the output
    format: str = "wav"
    bitrate: int | None = None
    loudness: float | None = DEFAULT_TARGET_LUFS  # LUFS; None: levels as the engine made them
    trim: bool = True
    vtt: str | None = None
    chapters: str | None = None  # the YouTube chapter list (text)
    subtitles: Mapping[str, Any] | None = None  # SubtitleStyle fields

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> OutputOptions:
        given = dict(settings.get("output") or {})
        if not given:  # a job from before outputs could be chosen: as it was made then
            return cls(loudness=None, trim=False)
        return cls(**given)

    def to_settings(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(self).items()}

    @property
    def mastering(self) -> Mastering:
        return Mastering(target_lufs=self.loudness, trim=self.trim)

    @property
    def style(self) -> SubtitleStyle:
        return SubtitleStyle.from_settings(self.subtitles)


def check_output_options(file: Path | None, fmt: str | None, bitrate: str | int | None,
                         loudness: str | float | None, trim: bool,
                         subtitles: Mapping[str, Any] | None = None,
                         vtt: Path | None = None, chapters: Path | None = None) -> OutputOptions:
    """Every output choice checked before any work (InputError naming the problem)."""
    target = parse_target(loudness)  # None (not given) is the default target
    # Without a file (a server job), the format alone decides; the file is named for it.
    spec = output_format(file if file is not None else Path("narration"), fmt or (
        None if file is not None else "wav"), bitrate)
    if subtitles is not None:
        if not isinstance(subtitles, Mapping):
            raise InputError("subtitles must be an object of style settings")
        SubtitleStyle.from_settings(subtitles)
    return OutputOptions(
        file=str(file) if file is not None and spec.name != "wav" else None, format=spec.name,
        bitrate=spec.bitrate if spec.bitrate_given else None, loudness=target, trim=bool(trim),
        vtt=str(vtt) if vtt else None, chapters=str(chapters) if chapters else None,
        subtitles=dict(subtitles) if subtitles else None)


def publish(job: Job, segments: Sequence[SegmentRow], sample_rate: int,
            pauses: PauseSettings) -> dict[str, Any]:
    """Write the job's final WAV, its encoded file, subtitles and chapters; return the
    report (measured loudness, files, warnings)."""
    options = OutputOptions.from_settings(job.settings)
    mastering = options.mastering
    meter = LoudnessMeter(sample_rate)
    placed = assemble(
        Path(job.output_path), ((Path(s.audio_path), s.pause_after) for s in segments),
        sample_rate, pauses, meter=meter,
        transform=(lambda audio, rate: master_segment(audio, rate, mastering))
        if mastering.active else None)
    loudness = meter.result()
    total = placed[-1].end if placed else 0.0
    cues = [(c.start, c.end, s.text) for c, s in zip(placed, segments)]
    chapters = _chapters(segments, placed, total)

    report: dict[str, Any] = {"loudness": loudness.as_dict(), "target_lufs": options.loudness,
                              "duration_s": round(total, 3), "files": [job.output_path]}
    if options.file:
        spec = output_format(Path(options.file), options.format, options.bitrate)
        encode_wav(Path(job.output_path), Path(options.file), spec, chapters,
                   {"title": job.title})
        report["files"].append(options.file)
        report["format"] = spec.summary
    style = options.style
    if job.srt_path:
        write_srt(Path(job.srt_path), cues, style)
        report["files"].append(job.srt_path)
    if options.vtt:
        write_vtt(Path(options.vtt), cues, style)
        report["files"].append(options.vtt)
    if chapters:
        report["chapters"] = [asdict(c) for c in chapters]
        warnings = youtube_warnings(chapters)
        if options.chapters:
            write_text_atomic(Path(options.chapters), youtube_chapter_list(chapters, total))
            report["files"].append(options.chapters)
    else:
        warnings = ["no chapters: the script has no headings or [chapter: ...] lines"] \
            if options.chapters and job.origin == ORIGIN_CLI else []  # asked for by name
    # What the engine reported about a segment's audio (a runaway, a scaled piece): the
    # segments API has them per segment; the report lists them for the whole narration.
    warnings += [f"segment {s.idx + 1}: {w}" for s in segments for w in s.warnings]
    if warnings:
        report["warnings"] = warnings
    return report


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
