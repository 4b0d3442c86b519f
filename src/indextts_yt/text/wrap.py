"""Cut a sentence that is longer than the segment limit into pieces that fit.

Each cut takes the best-ranked break (see ``breaks.Level``) in a window, preferring
the position closest to an even share of the remaining text: a 310-character sentence
becomes two halves of about 155, not 300 + 10, because a stranded fragment sounds
clipped. The window spans from half an even share up to the limit, so a good clause
boundary is preferred to a word boundary only when it leaves no tiny fragment.

When a window has no clause or word boundary (one unbroken token longer than the
limit, such as a long URL), the cut goes after URL punctuation, and as a last resort
at the limit itself: segments never exceed the limit, and no character is lost.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata

from .breaks import Break, Level
from .chars import CLOSERS, can_break_between, is_wide

# Clause punctuation: full-width marks anywhere, ASCII ones only before a space or an
# ideograph (so "1,000", "10:30" and "a;b" stay whole; checked below), and dashes
# (—, –, and the typewriter's "--").
_CLAUSE_MARK = re.compile(r"[，、；：]|[,;:]|—+|–+|-{2,}|[⸺⸻]+")
_INTRA_WORD = frozenset("/\\.-_?&=#+~:;,@|")


def clause_breaks(text: str, start: int, end: int) -> list[Break]:
    """Clause-level breaks after punctuation inside ``text[start:end]``."""
    found = []
    for match in _CLAUSE_MARK.finditer(text, start, end):
        mark = match.group()
        cut = match.end()
        if mark in ",;:" and not (cut >= end or text[cut] == " " or is_wide(text[cut])):
            continue
        while cut < end and text[cut] in CLOSERS:
            cut += 1
        after = cut
        while after < end and text[after] == " ":
            after += 1
        if match.start() > start and after < end:
            found.append(Break(cut, after, Level.CLAUSE))
    return found


def wrap(text: str, start: int, end: int, max_chars: int, hints: list[Break] = ()) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into ``(start, end)`` pieces of at most ``max_chars``.

    ``hints`` are breaks already known inside the span (quoted sentence ends, clause
    pauses from the sentence splitter); clause punctuation is found here.
    """
    candidates = sorted(
        {b for b in hints if start < b.end and b.start < end} | set(clause_breaks(text, start, end))
    )
    ends = [b.end for b in candidates]
    pieces = []
    cur = start
    while end - cur > max_chars:
        remaining = end - cur
        share = remaining / math.ceil(remaining / max_chars)
        ideal = cur + share
        hi = cur + max_chars
        brk = _best(text, candidates, ends, cur, cur + max(1, math.ceil(share / 2)), hi, end, ideal)
        if brk is None:
            brk = _best(text, candidates, ends, cur, cur + 1, hi, end, ideal)
        if brk is None:
            brk = _anywhere(text, cur, hi)
        pieces.append((cur, brk.end))
        cur = brk.start
    pieces.append((cur, end))
    return pieces


def _best(text, candidates, ends, cur, lo, hi, end, ideal) -> Break | None:
    """The best break whose left piece ends within [lo, hi], else None.
    ``candidates`` are sorted by end; ``ends`` lists their ends for bisection (a long
    sentence may hold thousands of commas, and the window holds only a few)."""

    def closest(breaks):
        # Nearest to the even share; on a tie, the longer piece.
        return min(breaks, key=lambda b: (abs(b.end - ideal), -b.end))

    first, last = bisect.bisect_left(ends, lo), bisect.bisect_right(ends, hi)
    window = [b for b in candidates[first:last] if cur < b.start < end]
    for level in (Level.QUOTED, Level.CLAUSE):
        ranked = [b for b in window if b.level == level]
        if ranked:
            return closest(ranked)
    words = _word_breaks(text, lo, hi, end)
    if words:
        return closest(words)
    inner = [
        Break(i, i, Level.INTRA_WORD)
        for i in range(lo, min(hi, end - 1) + 1)
        if text[i - 1] in _INTRA_WORD and text[i] not in _INTRA_WORD and text[i] != " "
    ]
    return closest(inner) if inner else None


def _word_breaks(text: str, lo: int, hi: int, end: int) -> list[Break]:
    found = []
    for i in range(lo, min(hi, end - 1) + 1):
        left, right = text[i - 1], text[i]
        if right == " " and left != " ":
            after = i
            while after < end and text[after] == " ":
                after += 1
            if after < end:
                found.append(Break(i, after, Level.WORD))
        elif left != " " and right != " " and can_break_between(left, right):
            found.append(Break(i, i, Level.WORD))
    return found


def _anywhere(text: str, cur: int, hi: int) -> Break:
    """Cut at the limit, but never between a letter and its combining accent."""
    cut = hi
    while cut > cur + 1 and unicodedata.combining(text[cut]):
        cut -= 1
    return Break(cut, cut, Level.ANY)
