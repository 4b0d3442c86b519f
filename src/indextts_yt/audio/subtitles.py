"""SRT subtitles from the assembled timeline: one cue per segment, at its real audio times.

Line layout: a cue's text is wrapped at about 42 characters (the usual broadcast limit);
text that fits in two such lines is balanced over two lines. Longer text stays ONE cue of
three or more lines: splitting a long segment into several timed cues needs word timings
and is a later issue. Cues with no text or no duration are left out (SRT cannot show them).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import srt

from .atomic import write_text_atomic

__all__ = ["LINE_CHARS", "srt_text", "wrap_cue_text", "write_srt"]

LINE_CHARS = 42


def wrap_cue_text(text: str, width: int = LINE_CHARS) -> str:
    """Whitespace collapsed (an SRT cue must not contain a blank line), then wrapped."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lines = textwrap.wrap(flat, width, break_long_words=False, break_on_hyphens=False)
    if len(lines) == 2:
        # Balanced lines read better than one full line and a stub: find the narrowest
        # width that still gives two lines.
        for w in range(math.ceil(len(flat) / 2), width):
            balanced = textwrap.wrap(flat, w, break_long_words=False, break_on_hyphens=False)
            if len(balanced) == 2:
                return "\n".join(balanced)
    return "\n".join(lines)


def _timestamp(seconds: float) -> timedelta:
    # srt truncates to milliseconds; rounding here keeps cues within 0.5 ms of the audio.
    return timedelta(milliseconds=round(seconds * 1000))


def srt_text(cues: Sequence[tuple[float, float, str]]) -> str:
    """The SRT document for ``(start_s, end_s, text)`` cues, in the order given."""
    subtitles = []
    for start, end, text in cues:
        if start < 0 or end < start:
            raise ValueError(f"bad cue times {start!r}..{end!r}")
        content = wrap_cue_text(text)
        begin, finish = _timestamp(start), _timestamp(end)
        if not content or finish <= begin:
            continue
        subtitles.append(srt.Subtitle(len(subtitles) + 1, begin, finish, content))
    return srt.compose(subtitles, reindex=False)


def write_srt(path: Path, cues: Sequence[tuple[float, float, str]]) -> None:
    """Write :func:`srt_text` to ``path`` atomically (temp, fsync, rename)."""
    write_text_atomic(Path(path), srt_text(cues))
