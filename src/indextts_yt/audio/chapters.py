"""Chapters of a narration: checked once, embedded in the audio file, listed for YouTube.

A :class:`Chapter` is a title and a span of the output in seconds. ``encode.encode_wav``
embeds chapters in the formats whose FFmpeg muxer can carry them; :func:`youtube_chapter_list`
writes the lines YouTube turns into chapters when they are pasted into a video's description,
and :func:`youtube_warnings` says which of YouTube's rules a list breaks (YouTube then shows
no chapters at all, silently).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError

__all__ = [
    "Chapter",
    "check_chapters",
    "youtube_chapter_list",
    "youtube_timestamp",
    "youtube_warnings",
]

# YouTube's rules for chapters in a description (support.google.com/youtube/answer/9884579).
YOUTUBE_MIN_CHAPTERS = 3
YOUTUBE_MIN_SECONDS = 10

# Chapter times may come rounded (to ms, or a frame); an end this much past the audio is
# taken as its end rather than refused.
_END_SLACK_S = 0.05
_FLOAT_SLACK_S = 0.001


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``title`` spans ``start_s`` to ``end_s`` seconds of the output audio."""

    title: str
    start_s: float
    end_s: float


def _clean_title(title: str) -> str:
    return " ".join(str(title).split())


def check_chapters(chapters: Sequence[Chapter], total_s: float) -> list[Chapter]:
    """Chapters as they will be written; raise InputError (one line) if any is unusable.

    Titles are trimmed and their whitespace (newlines included) collapsed to single spaces.
    Chapters must have a title, lie within ``0 .. total_s``, not be empty, and come in order
    without overlapping (gaps are allowed). An end up to 50 ms past ``total_s`` (rounding)
    is pulled back to ``total_s``; a start up to 1 ms before the previous end is float noise.
    """
    result: list[Chapter] = []
    previous: Chapter | None = None
    for number, chapter in enumerate(chapters, start=1):
        if not isinstance(chapter, Chapter):
            raise InputError(f"chapter {number}: expected a Chapter, got {type(chapter).__name__}")
        title = _clean_title(chapter.title)
        what = f"chapter {number} ({title!r})" if title else f"chapter {number}"
        if not title:
            raise InputError(f"{what} has no title")
        try:
            start, end = float(chapter.start_s), float(chapter.end_s)
        except (TypeError, ValueError):
            raise InputError(f"{what}: start and end must be numbers of seconds") from None
        if not (math.isfinite(start) and math.isfinite(end)):
            raise InputError(f"{what}: start and end must be finite numbers of seconds")
        if start < 0:
            raise InputError(f"{what} starts before the audio ({start:.3f} s)")
        if end > total_s + _END_SLACK_S:
            raise InputError(f"{what} ends at {end:.3f} s, after the audio ({total_s:.3f} s)")
        end = min(end, total_s)
        if end <= start:
            raise InputError(f"{what} is empty or backwards ({start:.3f} s to {end:.3f} s)")
        if previous is not None and start < previous.end_s - _FLOAT_SLACK_S:
            raise InputError(f"{what} starts at {start:.3f} s, before chapter {number - 1} "
                             f"ends ({previous.end_s:.3f} s); chapters must be in order and "
                             "must not overlap")
        previous = Chapter(title, start, end)
        result.append(previous)
    return result


def youtube_timestamp(seconds: float, hours: bool = False) -> str:
    """``MM:SS`` (or ``H:MM:SS`` with ``hours``), whole seconds rounded down.

    Rounding down makes a chapter link land just before its first word, never after it.
    """
    total = max(0, int(math.floor(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if hours:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{h * 60 + m:02d}:{s:02d}"


def youtube_chapter_list(chapters: Sequence[Chapter], total_s: float) -> str:
    """The chapter lines for a YouTube description: ``00:00 Introduction``, one per line.

    The first chapter is listed at 00:00 whatever its start (YouTube requires it). When the
    audio is an hour or longer every line uses ``H:MM:SS`` so the column lines up. Ends with
    a newline; empty for no chapters. Raises InputError for chapters :func:`check_chapters`
    refuses. Check the result with :func:`youtube_warnings`.
    """
    checked = check_chapters(chapters, total_s)
    hours = total_s >= 3600
    lines = [f"{youtube_timestamp(0 if i == 0 else c.start_s, hours)} {c.title}"
             for i, c in enumerate(checked)]
    return "\n".join(lines) + "\n" if lines else ""


def youtube_warnings(chapters: Sequence[Chapter]) -> list[str]:
    """Why YouTube would ignore :func:`youtube_chapter_list`'s lines; empty if it would not.

    YouTube's rules: at least three chapters, the first at 0:00, each at least ten seconds
    long (measured between the listed whole-second timestamps, the last one to its end).
    """
    warnings: list[str] = []
    n = len(chapters)
    if n < YOUTUBE_MIN_CHAPTERS:
        warnings.append(f"{n} chapter{'s' if n != 1 else ''}; YouTube shows chapters only "
                        f"when there are at least {YOUTUBE_MIN_CHAPTERS}")
    if not n:
        return warnings
    first = chapters[0]
    if first.start_s >= 1:
        warnings.append(f"the first chapter ({_clean_title(first.title)!r}) starts at "
                        f"{youtube_timestamp(first.start_s)}; YouTube needs the first at 0:00, "
                        "so the list puts it at 00:00")
    starts = [0] + [math.floor(c.start_s) for c in chapters[1:]]
    ends = starts[1:] + [chapters[-1].end_s]
    for number, (chapter, start, end) in enumerate(zip(chapters, starts, ends), start=1):
        length = end - start
        if length < YOUTUBE_MIN_SECONDS:
            shown = math.floor(max(length, 0) * 10) / 10  # 9.96 s is not "10 s"
            warnings.append(f"chapter {number} ({_clean_title(chapter.title)!r}) is "
                            f"{shown:g} s long; YouTube needs at least "
                            f"{YOUTUBE_MIN_SECONDS} s per chapter")
    return warnings
