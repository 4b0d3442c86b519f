"""Subtitles (SRT and WebVTT): each narration segment cut into readable cues, timed from
the real audio.

The caller passes, for every segment, where its speech starts and ends in the output
audio. :func:`split_cues` turns each such ``(start_s, end_s, text)`` into cues that a viewer
can read; :func:`srt_text` / :func:`vtt_text` format cues; :func:`write_srt` /
:func:`write_vtt` do both and write the file atomically.

Cutting a segment (:class:`SubtitleStyle` holds the limits, all user-settable):

* Every cue is at most ``max_lines`` lines of at most ``max_line_chars`` columns and lasts
  at most ``max_cue_s``. The only exception is one unbreakable word (a long URL, a single
  character) that is wider, or takes longer to say, than the limits: it gets a line, or a
  cue, to itself.
* Cuts go at sentence ends first, then at clause marks (, ; : — and the CJK 。！？，；、：),
  then between words. The places are the text stage's own breaks (``text.sentences``,
  ``text.wrap``, ``text.chars``), so subtitles cut where the narration pauses, and "3.14",
  "Dr. Smith" or a closing quote are never split off. Chinese has no spaces: its words
  are found by jieba (loaded only for text holding Han characters), and a cut between
  two characters is made only where jieba ends a word, so "语音合成" is never shown as
  "语音合 / 成". Only a word (with its punctuation) too wide for a line, or too long to
  say in one cue, is cut inside, as a last resort. A segment that fits in one cue stays
  one cue.
* The cutting is chosen by dynamic programming over the whole segment, as the cheapest
  by a cost in which every cue counts, a cut counts more the weaker it is (sentence end,
  clause, word, between Chinese words, inside a word), uneven cues count, and a one-word (or
  one-character) cue, a cue shorter than ``min_cue_s`` and a cue that ends one sentence
  and starts the next count heavily: they are made only where the limits leave no other
  way. So a trailing word stays with the cue before it, and cues are of even length
  rather than full ones and a stub.
* Lines: a cue that fits one line is one line; otherwise it takes the fewest lines that
  fit, balanced in width (not a full line and a stub), breaking after punctuation when
  that costs at most a few columns of balance, the upper line the shorter on a tie.

Widths are display columns: a full-width character (Chinese, Japanese, full-width
punctuation; East Asian Width W or F) takes two columns, combining marks none, everything
else one. So the default 42 columns hold 42 Latin characters or 21 Chinese ones: the same
screen width whatever the script, which is what matters for mixed zh/en lines. (Netflix's
Chinese guideline is 16 characters a line; ``max_line_chars=32`` gives that.)

Timing: the cues of a segment tile its speech exactly: the first starts at the segment's
start, the last ends at its end, each starts where the one before ends. Inside the segment,
time is shared out in proportion to spoken length, estimated from the text: a Han character
counts ``language.HAN_WEIGHT`` (3; one ideograph is a syllable, an English syllable about
three letters), a digit also 3 (read as a word: "2024", 二零二四), any other letter 1,
spaces and symbols nothing, and each sentence end or clause mark 6, for the pause a reader
makes there (the segment's own last mark counts nothing: the speech ends there). Measured
on the piper voice against Whisper's word timestamps over 30 Pooh segments (900 words),
the predicted start of a word is off by 0.15 s on average (90 % within 0.32 s); counting
letters alone it was 0.25 s (0.53 s), mostly from the pauses at commas. Narration is read
at a steady pace, so this is close enough without word timings from the engine.

Where the words' times are known (``words``: proofreading heard the take, and
``audio.word_times`` matched what it heard to the script), a cue starts when its first word
does and ends when its last word ends, the cutting unchanged; a gap under ``JOIN_GAP_S``
to the next cue of the segment is closed, so the text does not blink off between words.
bench/RESULTS.md ("Word timings") measures both against Whisper.

Formatting: times are rounded to the millisecond once, so cues that touch in seconds touch
in the file. A cue with no text or no duration (after rounding) is left out: neither
format can show it. WebVTT text is escaped (``&`` ``<`` ``>``), so it is shown as written
and can never hold a ``-->``.
"""

from __future__ import annotations

import bisect
import html
import logging
import math
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import srt
import webvtt

from ..errors import InputError
from ..text.breaks import Break, Level
from ..text.chars import HAN_CLASS, can_break_between
from ..text.language import HAN_WEIGHT
from ..text.sentences import sentence_breaks
from ..text.wrap import clause_breaks
from ..atomic import write_text_atomic
from ..paths import cache_dir

__all__ = [
    "DEFAULT_STYLE",
    "LINE_CHARS",
    "SubtitleCue",
    "SubtitleStyle",
    "WordSpan",
    "display_width",
    "estimated_char_times",
    "flat_text",
    "split_cues",
    "split_segment",
    "spoken_weight",
    "srt_text",
    "vtt_text",
    "wrap_cue_text",
    "write_srt",
    "write_vtt",
]

LINE_CHARS = 42


@dataclass(frozen=True)
class SubtitleStyle:
    """How cues are cut. Defaults follow common broadcast and streaming guidelines
    (BBC, Netflix): two lines of 42 columns, at most 7 s on screen. At least 1 s
    (``min_cue_s``) is a little above Netflix's 5/6 s floor: a shorter cue flashes by
    before it can be read, so one is made only where the line limits leave no choice,
    or when the whole segment is that short."""

    max_line_chars: int = LINE_CHARS  # display columns; a Chinese character takes two
    max_lines: int = 2
    max_cue_s: float = 7.0
    min_cue_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_line_chars", "max_lines"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    f"subtitle setting {name!r} must be a whole number of at least 1, got {value!r}")
        for name in ("max_cue_s", "min_cue_s"):
            value = getattr(self, name)
            number = not isinstance(value, bool) and isinstance(value, (int, float))
            if not number or not math.isfinite(value) or value < 0:
                raise InputError(
                    f"subtitle setting {name!r} must be a number of seconds, 0 or more, got {value!r}")
        if not self.max_cue_s > 0:
            raise InputError(f"subtitle setting 'max_cue_s' must be more than 0, got {self.max_cue_s!r}")
        if self.min_cue_s > self.max_cue_s:
            raise InputError(
                f"subtitle setting 'min_cue_s' ({self.min_cue_s}) must not exceed "
                f"'max_cue_s' ({self.max_cue_s})")


    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> SubtitleStyle:
        """A style from user settings (CLI options, a JSON object): defaults for what is
        not given; an unknown name or a bad value is an :class:`InputError`."""
        settings = dict(settings or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(name) for name in settings if name not in known)
        if unknown:
            raise InputError(f"unknown subtitle setting(s) {', '.join(map(repr, unknown))}; "
                             f"known: {', '.join(known)}")
        return cls(**settings)


DEFAULT_STYLE = SubtitleStyle()


class SubtitleCue(NamedTuple):
    """One cue: its times in seconds and its text, lines separated by ``\\n``. Unpacks as
    ``(start_s, end_s, text)``, like the segment cues it is cut from."""

    start_s: float
    end_s: float
    text: str

    # Short aliases, as on audio.timeline.Cue.
    @property
    def start(self) -> float:
        return self.start_s

    @property
    def end(self) -> float:
        return self.end_s

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


# --- measuring text ---------------------------------------------------------------------

_HAN = re.compile(f"[{HAN_CLASS}]")
DIGIT_WEIGHT = HAN_WEIGHT


@lru_cache(maxsize=4096)
def _columns(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


@lru_cache(maxsize=4096)
def _weight(ch: str) -> int:
    if _HAN.match(ch):
        return HAN_WEIGHT
    if ch.isdigit():
        return DIGIT_WEIGHT
    return 1 if ch.isalpha() else 0


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: two for a full-width character, none for a mark."""
    return sum(_columns(ch) for ch in text)


def spoken_weight(text: str) -> int:
    """Estimated spoken length of ``text`` (see the module docstring): cue timing."""
    return sum(_weight(ch) for ch in text)


# The pause at a break, in letters' worth of time (measured; see the module docstring).
_PAUSE_WEIGHT = {Level.SENTENCE: 6, Level.QUOTED: 6, Level.CLAUSE: 6}


# --- a segment as atoms between break opportunities ------------------------------------

# What a cut at each kind of break costs, in the units of _choose_cuts (a cue costs 10).
_CUT_COST = {Level.SENTENCE: 0.0, Level.QUOTED: 1.0, Level.CLAUSE: 3.0, Level.WORD: 8.0}
_CHAR_CUT_COST = 10.0  # a WORD cut with no space: between two Chinese words
_INNER_CUT_COST = 20.0  # inside a Chinese word too long for a line or a cue (Level.ANY)
_CUE_COST = 10.0
_FILL_COST = 6.0  # times the square of how full a cue is: evens out the cues
_TINY_COST = 30.0  # a cue of one word (or under _TINY_WEIGHT): worse than one more cue
_TINY_WEIGHT = 2 * HAN_WEIGHT  # less than two Chinese characters, or six letters
_SHORT_COST = 20.0  # times how far below min_cue_s a cue falls
_STRADDLE_COST = 4.0  # a cue that ends one sentence and runs on into the next
# A line break between words rather than after punctuation costs as much balance as
# moving the break 4 columns off centre (sum of squared widths: 2 * 4**2); between two
# Chinese words (no space to show the break) 6 columns (3 characters); inside a word too
# wide for a line, 8 columns.
_LINE_WORD_COST = 32.0
_LINE_CHAR_COST = 72.0
_LINE_INNER_COST = 128.0
_LINE_TIE = 0.01  # on a tie, the last line the longer


class _Atoms:
    """``text`` as unbreakable runs ("atoms") between the places where it may be cut.

    Atom ``k`` is ``text[starts[k]:ends[k]]``; between atoms ``k-1`` and ``k`` lie
    ``gaps[k]`` spaces (0 between Chinese characters), and ``levels[k]`` says how good a
    cut there is. :func:`_atoms` builds them.
    """

    def __init__(self, text: str, breaks: list[Break]) -> None:
        self.text = text
        self.starts = [0] + [b.start for b in breaks]
        self.ends = [b.end for b in breaks] + [len(text)]
        self.levels = [Level.SENTENCE] + [b.level for b in breaks]  # [0] is unused
        self.gaps = [0] + [b.start - b.end for b in breaks]
        self.widths = [display_width(text[s:e]) for s, e in zip(self.starts, self.ends)]
        weights = [spoken_weight(text[s:e]) for s, e in zip(self.starts, self.ends)]
        if not any(weights):  # nothing to say ("…"): share the time by characters
            weights = [e - s for s, e in zip(self.starts, self.ends)]
        else:  # the pause a reader makes at a sentence end or a comma, before the next atom
            for k in range(1, len(weights)):
                weights[k - 1] += _PAUSE_WEIGHT.get(self.levels[k], 0)
        self.cumulative = [0]
        for w in weights:
            self.cumulative.append(self.cumulative[-1] + w)

    def __len__(self) -> int:
        return len(self.widths)

    def slice(self, i: int, j: int) -> str:
        """The text of atoms ``i..j-1``."""
        return self.text[self.starts[i] : self.ends[j - 1]]


def _atoms(text: str, width: int, duration: float = 0.0, max_cue_s: float = math.inf) -> _Atoms:
    """``text`` (single-spaced, stripped) as atoms for lines of ``width`` columns and a
    segment lasting ``duration`` seconds. An atom that is wider than a line, or takes
    longer to say than ``max_cue_s``, is cut between its characters where kinsoku allows
    (:attr:`Level.ANY`): a last resort, only ever inside a Chinese word."""
    breaks, inside = _break_places(text)
    atoms = _Atoms(text, breaks)
    if not inside:
        return atoms
    total = atoms.cumulative[-1]
    seconds_per_weight = duration / total if total else 0.0

    def too_big(k: int) -> bool:
        seconds = (atoms.cumulative[k + 1] - atoms.cumulative[k]) * seconds_per_weight
        return atoms.widths[k] > width or seconds > max_cue_s

    extra = [b for b in inside if too_big(bisect.bisect_right(atoms.starts, b.end) - 1)]
    return _Atoms(text, sorted(breaks + extra)) if extra else atoms


def _break_places(text: str) -> tuple[list[Break], list[Break]]:
    """Every place ``text`` (single-spaced, stripped) may be cut, with the best reason
    to cut there: sentence ends and quoted ones, clause marks, spaces, and the gaps
    between Chinese words that the kinsoku rules allow. Second, the gaps between
    characters inside Chinese words (:attr:`Level.ANY`), to cut only as a last resort."""
    found: dict[int, Break] = {}

    def add(brk: Break) -> None:
        if 0 < brk.end and brk.start < len(text):
            old = found.get(brk.end)
            if old is None or brk.level > old.level:
                found[brk.end] = brk

    for brk in sentence_breaks(text):
        add(brk)
    for brk in clause_breaks(text, 0, len(text)):
        add(brk)
    word_ends = chinese_word_ends(text) if _HAN.search(text) else None
    inside = []
    for i in range(1, len(text)):
        left, right = text[i - 1], text[i]
        if right == " " and left != " ":
            add(Break(i, i + 1, Level.WORD))
        elif left != " " and right != " " and can_break_between(left, right):
            if word_ends is None or i in word_ends:
                add(Break(i, i, Level.WORD))
            elif i not in found:
                inside.append(Break(i, i, Level.ANY))
    return sorted(found.values()), inside


_jieba_lock = threading.Lock()
_jieba_tokenizer: Any = None


def _jieba() -> Any:
    """jieba's segmenter, loaded once on first use (about half a second, so English-only
    subtitles never pay it). A private instance: words another library adds to jieba's
    global dictionary cannot change where our subtitles break."""
    global _jieba_tokenizer
    with _jieba_lock:
        if _jieba_tokenizer is None:
            import jieba

            # jieba logs its dictionary loading to stderr at DEBUG: noise for our users.
            logging.getLogger("jieba").setLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            # Its dictionary cache in our own cache dir, not a shared /tmp file.
            tokenizer.tmp_dir = str(cache_dir())
            os.makedirs(tokenizer.tmp_dir, exist_ok=True)
            tokenizer.initialize()
            _jieba_tokenizer = tokenizer
        return _jieba_tokenizer


def chinese_word_ends(text: str) -> set[int]:
    """The offsets in ``text`` where jieba's words end (its default dictionary and HMM
    for unknown words: deterministic). Its words put back together are ``text``."""
    ends, pos = set(), 0
    for word in _jieba().cut(text):
        pos += len(word)
        ends.add(pos)
    return ends


# --- choosing the cues -------------------------------------------------------------------


def _choose_cuts(atoms: _Atoms, duration: float, style: SubtitleStyle) -> list[int]:
    """Atom indices where cues start (the first is 0), by dynamic programming: the
    cheapest cutting in which every cue fits the style (a single atom always may)."""
    n = len(atoms)
    width, max_lines = style.max_line_chars, style.max_lines
    capacity = width * max_lines
    cum = atoms.cumulative
    seconds_per_weight = duration / cum[n] if cum[n] else 0.0
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        lines = line_w = cols = 0
        sentence_inside = False
        for j in range(i + 1, n + 1):
            k = j - 1  # the atom added to the cue atoms[i:j]
            w = atoms.widths[k]
            if k == i:
                lines, line_w, cols = 1, w, w
            else:
                gap = atoms.gaps[k]
                cols += gap + w
                if line_w + gap + w <= width:
                    line_w += gap + w
                else:  # greedy filling: the fewest lines this text can take
                    lines += 1
                    line_w = w
                sentence_inside = sentence_inside or atoms.levels[k] == Level.SENTENCE
            seconds = (cum[j] - cum[i]) * seconds_per_weight
            if k > i and (lines > max_lines or seconds > style.max_cue_s + 1e-9):
                break  # longer cues from i only get worse
            cost = best[i] + _CUE_COST + _FILL_COST * max(cols / capacity, seconds / style.max_cue_s) ** 2
            if j < n:
                level = atoms.levels[j]
                if level == Level.ANY:
                    cost += _INNER_CUT_COST
                elif level == Level.WORD and not atoms.gaps[j]:
                    cost += _CHAR_CUT_COST
                else:
                    cost += _CUT_COST.get(level, 12.0)
            if not (i == 0 and j == n):  # one cue for the whole segment is never penalised
                if k == i or cum[j] - cum[i] < _TINY_WEIGHT:
                    cost += _TINY_COST
                if seconds < style.min_cue_s:
                    cost += _SHORT_COST * (1 - seconds / style.min_cue_s)
                ends_mid_sentence = j < n and atoms.levels[j] != Level.SENTENCE
                starts_mid_sentence = i > 0 and atoms.levels[i] != Level.SENTENCE
                if sentence_inside and (ends_mid_sentence or starts_mid_sentence):
                    cost += _STRADDLE_COST
            if cost < best[j]:
                best[j], back[j] = cost, i
    cuts = []
    j = n
    while j > 0:
        j = back[j]
        cuts.append(j)
    return cuts[::-1]


def _lay_out(atoms: _Atoms, i: int, j: int, width: int) -> list[str]:
    """Atoms ``i..j-1`` as the fewest lines of at most ``width`` columns, balanced.

    Dynamic programming over line ends, minimising (lines, cost) in that order: the cost
    is the sum of squared line widths (even lines), plus a charge for a line break
    between words instead of after punctuation, less a hair for width in the last line
    (on a tie the upper line is the shorter). A one-atom line may be wider than width.
    """
    m = j - i
    best: list[tuple[int, float]] = [(0, 0.0)] + [(m + 1, math.inf)] * m
    back = [0] * (m + 1)
    for b in range(1, m + 1):  # a line holding atoms a..b-1 (relative to i)
        w = 0
        for a in range(b - 1, -1, -1):
            w = atoms.widths[i + a] if a == b - 1 else w + atoms.widths[i + a] + atoms.gaps[i + a + 1]
            if a < b - 1 and w > width:
                break
            cost = best[a][1] + w * w
            if a > 0 and atoms.levels[i + a] == Level.ANY:
                cost += _LINE_INNER_COST
            elif a > 0 and atoms.levels[i + a] < Level.CLAUSE:
                cost += _LINE_WORD_COST if atoms.gaps[i + a] else _LINE_CHAR_COST
            if b == m:
                cost -= _LINE_TIE * w
            candidate = (best[a][0] + 1, cost)
            if candidate < best[b]:
                best[b], back[b] = candidate, a
    lines = []
    b = m
    while b > 0:
        a = back[b]
        lines.append(atoms.slice(i + a, i + b))
        b = a
    return lines[::-1]


def flat_text(text: str) -> str:
    """``text`` as subtitles cut it: whitespace collapsed to single spaces, stripped. Word
    positions (:class:`WordSpan`) are offsets into this."""
    return " ".join(text.split())


def estimated_char_times(start: float, end: float, text: str) -> list[tuple[float, float]]:
    """When each character of ``flat_text(text)`` is said, by the estimate cues are timed
    with when no word times are known (module docstring): ``(start_s, end_s)`` per
    character; a sentence end's or clause mark's pause falls after its last character."""
    _check_times(start, end)
    flat = flat_text(text)
    if not flat:
        return []
    atoms = _Atoms(flat, _break_places(flat)[0])
    total = atoms.cumulative[-1]
    scale = (end - start) / total if total else 0.0
    spoken = any(spoken_weight(flat[s:e]) for s, e in zip(atoms.starts, atoms.ends))
    times = []
    atom = 0
    within = 0
    for i, ch in enumerate(flat):
        while atom + 1 < len(atoms) and i >= atoms.starts[atom + 1]:
            atom, within = atom + 1, 0
        # A space between atoms is said at the next atom's start (so with no duration).
        weight = (_weight(ch) if spoken else 1) if i < atoms.ends[atom] else 0
        at = atoms.cumulative[atom] + within if i < atoms.ends[atom] \
            else atoms.cumulative[atom + 1]
        times.append((min(end, start + at * scale), min(end, start + (at + weight) * scale)))
        within += weight
    return times


class WordSpan(Protocol):
    """A word of a segment with the time it is said: ``first``/``last`` are offsets into
    the segment's :func:`flat_text` (``last`` one past its end), times in seconds."""

    @property
    def first(self) -> int: ...

    @property
    def last(self) -> int: ...

    @property
    def start_s(self) -> float: ...

    @property
    def end_s(self) -> float: ...


#: A gap shorter than this between two cues of a segment is closed (the earlier cue stays
#: up until the next): a cue blinking off and on between words only distracts.
JOIN_GAP_S = 0.5


def _word_timed(start: float, end: float, spans: list[tuple[int, int]],
                estimated: list[float], words: Sequence[WordSpan]
                ) -> list[tuple[float, float]] | None:
    """Each cue's times from its first and last words' (``spans``: the cues' character
    ranges in the flat text), inside ``start..end`` and in order; a cue holding no word
    keeps its estimated times. None (use the estimate) if that leaves a cue with no time."""
    out: list[tuple[float, float]] = []
    for k, (a, b) in enumerate(spans):
        inside = [w for w in words if w.first < b and w.last > a]
        s, e = (inside[0].start_s, inside[-1].end_s) if inside else \
            (estimated[k], estimated[k + 1])
        s = min(max(s, out[-1][1] if out else start), end)
        out.append((s, min(max(e, s), end)))
    for k in range(len(out) - 1):
        if out[k + 1][0] - out[k][1] < JOIN_GAP_S:
            out[k] = (out[k][0], out[k + 1][0])
    if out:  # the last cue stays up while the segment's speech lasts (a word's tail included)
        out[-1] = (out[-1][0], end)
    if any(e - s < 0.001 for s, e in out):
        return None
    return out


def _check_times(start: float, end: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
        raise ValueError(f"bad cue times {start!r}..{end!r}")


def split_segment(
    start: float, end: float, text: str, style: SubtitleStyle = DEFAULT_STYLE,
    words: Sequence[WordSpan] | None = None,
) -> list[SubtitleCue]:
    """The cues of one segment whose speech runs from ``start`` to ``end`` seconds.

    ``words``: when each word is said (in order, positions in :func:`flat_text`): then each
    cue starts when its first word does and ends when its last word ends (or when the next
    cue starts, when the gap is under :data:`JOIN_GAP_S`; the last cue when the segment's
    speech ends); the cutting is the same."""
    _check_times(start, end)
    flat = flat_text(text)
    if not flat:
        return []
    atoms = _atoms(flat, style.max_line_chars, end - start, style.max_cue_s)
    cuts = _choose_cuts(atoms, end - start, style) + [len(atoms)]
    total = atoms.cumulative[-1]
    # min(): start + (end - start) * 1.0 can land one ulp past end.
    times = [start] + [min(end, start + (end - start) * atoms.cumulative[c] / total) for c in cuts[1:-1]] + [end]
    spans = [(atoms.starts[cuts[k]], atoms.ends[cuts[k + 1] - 1]) for k in range(len(cuts) - 1)]
    timed = _word_timed(start, end, spans, times, words) if words else None
    if timed is None:
        timed = list(zip(times, times[1:]))
    return [
        SubtitleCue(s, e, "\n".join(_lay_out(atoms, cuts[k], cuts[k + 1], style.max_line_chars)))
        for k, (s, e) in enumerate(timed)
    ]


def split_cues(
    segment_cues: Iterable[tuple[float, float, str]], style: SubtitleStyle = DEFAULT_STYLE,
    words: Sequence[Sequence[WordSpan] | None] | None = None,
) -> list[SubtitleCue]:
    """Cut each segment ``(start_s, end_s, text)`` into readable cues (module docstring).

    ``start_s`` / ``end_s`` must be where the segment's speech starts and ends in the
    output audio; its cues tile exactly that span, or, where ``words`` (one entry per
    segment, None for a segment without) gives its word times, start and end with its words.
    Segments with no text give no cue.
    """
    out: list[SubtitleCue] = []
    for k, (start, end, text) in enumerate(segment_cues):
        timed = words[k] if words is not None and k < len(words) else None
        out.extend(split_segment(float(start), float(end), text, style, timed))
    return out


def wrap_cue_text(text: str, width: int = LINE_CHARS) -> str:
    """One cue's text, whitespace collapsed (a cue must not hold a blank line), as the
    fewest balanced lines of at most ``width`` columns (as many lines as it takes)."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    atoms = _atoms(flat, width)
    return "\n".join(_lay_out(atoms, 0, len(atoms), width))


# --- formats -----------------------------------------------------------------------------


def _shown(cues: Iterable[tuple[float, float, str]]) -> Iterator[tuple[int, int, list[str]]]:
    """(start ms, end ms, lines) of the cues that can be shown, in the order given.
    Lines are kept as given (whitespace collapsed, empty ones dropped): no re-wrapping."""
    for start, end, text in cues:
        _check_times(start, end)
        lines = [" ".join(line.split()) for line in text.splitlines()]
        lines = [line for line in lines if line]
        # srt would truncate to milliseconds; rounding keeps cues within 0.5 ms of the audio.
        begin, finish = round(start * 1000), round(end * 1000)
        if lines and finish > begin:
            yield begin, finish, lines


def srt_text(cues: Sequence[tuple[float, float, str]]) -> str:
    """The SRT document for ``(start_s, end_s, text)`` cues as given (see
    :func:`split_cues` to cut segments first)."""
    subtitles = [
        srt.Subtitle(index, timedelta(milliseconds=begin), timedelta(milliseconds=finish), "\n".join(lines))
        for index, (begin, finish, lines) in enumerate(_shown(cues), start=1)
    ]
    return srt.compose(subtitles, reindex=False)


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_text(cues: Sequence[tuple[float, float, str]]) -> str:
    """The WebVTT document for ``(start_s, end_s, text)`` cues as given."""
    captions = [
        webvtt.Caption(_vtt_time(begin), _vtt_time(finish),
                       [html.escape(line, quote=False) for line in lines])
        for begin, finish, lines in _shown(cues)
    ]
    return webvtt.WebVTT(captions=captions).content


def write_srt(
    path: Path, cues: Iterable[tuple[float, float, str]], style: SubtitleStyle = DEFAULT_STYLE,
    words: Sequence[Sequence[WordSpan] | None] | None = None,
) -> None:
    """Cut the segment cues ``(speech start_s, speech end_s, text)`` with :func:`split_cues`
    (``words``: as there) and write them as SRT to ``path`` atomically (temp, fsync, rename)."""
    write_text_atomic(Path(path), srt_text(split_cues(cues, style, words)))


def write_vtt(
    path: Path, cues: Iterable[tuple[float, float, str]], style: SubtitleStyle = DEFAULT_STYLE,
    words: Sequence[Sequence[WordSpan] | None] | None = None,
) -> None:
    """As :func:`write_srt`, in WebVTT."""
    write_text_atomic(Path(path), vtt_text(split_cues(cues, style, words)))
