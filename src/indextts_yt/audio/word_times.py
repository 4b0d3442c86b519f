"""When each word of the script is said in the narration: from what the recogniser heard
where a take was proofread, else estimated from the text.

A proofread take carries Whisper's words with their times in the take's own audio
(``checks``). Here the script's words are matched to them, and placed on the narration:

* Both sides are cut into the units proofreading compares (``checks.compare.units``: the
  same normalisation, so "1926" matches "nineteen twenty six" and "don't" matches "dont";
  Chinese and Japanese per character, compared by toneless pinyin). A heard word of several
  units (Whisper's Chinese words are often two or three characters; "1926" is three words)
  has its time shared evenly between them.
* The two unit sequences are aligned by ``difflib.SequenceMatcher``. Equal units take the
  heard times; so does a stretch heard as as many other units (a name misheard is still
  said where Whisper heard it) or as the same letters spaced otherwise ("to-day" /
  "today"). A script word whose units all got a time is "heard".
* Every other word ("estimated") gets a time between its timed neighbours, shared in
  proportion to spoken length. A segment in which nothing matched, or that has no
  transcript at all, is timed by the text estimate the subtitles have always used
  (``subtitles.estimated_char_times``).
* Take time becomes narration time by where the segment landed (its cue) less the
  silence the trim cut from its start; everything is clamped inside the segment's cue and
  kept in order.

Script words are the script's own text ("Pooh's," with its punctuation): a run between
spaces holding something said, and in Chinese and Japanese each character (a run of Latin
letters or digits in them is one word: "Python", "12.5%"). Bare punctuation is no word.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from ..checks.compare import CHAR_LANGUAGES, units
from .subtitles import estimated_char_times, flat_text, spoken_weight

__all__ = ["WORDS_FORMAT_VERSION", "TimedWord", "segment_words", "words_document"]

WORDS_FORMAT_VERSION = 1

# In a script without spaces: a run of Latin letters and digits is one word, with the marks
# inside it ("12.5%", "3,999", "don't"); any other letter (Han, kana) is a word of its own.
_CHAR_WORD = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z.,'’%-]*[0-9A-Za-z%])?|[^\W_]")


class TimedWord(NamedTuple):
    """A script word and when it is said in the narration (seconds). ``first``/``last``:
    its place in the segment's ``flat_text`` (``last`` one past its end)."""

    text: str
    first: int
    last: int
    start_s: float
    end_s: float
    heard: bool


def _script_words(flat: str, language: str) -> list[tuple[int, int, list[str]]]:
    """``(first, last, unit keys)`` of each word of ``flat`` that holds something said."""
    pattern = _CHAR_WORD if language in CHAR_LANGUAGES else re.compile(r"\S+")
    found = []
    for m in pattern.finditer(flat):
        keys = [u.key for u in units(m.group(), language)]
        if keys:
            found.append((m.start(), m.end(), keys))
    return found


def _heard_units(heard: Sequence[Mapping[str, Any]], language: str
                 ) -> tuple[list[str], list[tuple[float, float]]]:
    """The heard words' unit keys, and each unit's time: a word's time shared evenly
    between its units (Whisper's Chinese words are often several characters)."""
    keys: list[str] = []
    times: list[tuple[float, float]] = []
    for word in heard:
        parts = [u.key for u in units(str(word.get("text", "")), language)]
        start, end = float(word["start"]), float(word["end"])
        step = (end - start) / len(parts) if parts else 0.0
        for k, key in enumerate(parts):
            keys.append(key)
            times.append((start + k * step, start + (k + 1) * step))
    return keys, times


def _match(ref: list[str], hyp: list[str], hyp_times: list[tuple[float, float]],
           weights: list[int]) -> list[tuple[float, float] | None]:
    """Each script unit's heard time, or None where the alignment gives it none."""
    out: list[tuple[float, float] | None] = [None] * len(ref)
    matcher = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                out[i1 + k] = hyp_times[j1 + k]
        elif op == "replace" and "".join(ref[i1:i2]) == "".join(hyp[j1:j2]):
            # The same letters spaced otherwise: the heard stretch shared by length.
            _share(out, range(i1, i2), hyp_times[j1][0], hyp_times[j2 - 1][1], weights)
    return out


def _share(out: list[tuple[float, float] | None], run: range, lo: float, hi: float,
           weights: list[int]) -> None:
    """Times for the units ``run`` spread over ``lo..hi`` in proportion to their weights."""
    total = sum(weights[i] for i in run) or 1
    at = 0
    for i in run:
        out[i] = (lo + (hi - lo) * at / total, lo + (hi - lo) * (at + weights[i]) / total)
        at += weights[i]


def _fill(times: list[tuple[float, float] | None], weights: list[int], lo: float,
          hi: float) -> list[tuple[float, float]]:
    """Untimed units timed between their timed neighbours (the segment's edges at the
    ends); everything kept in order and inside ``lo..hi``."""
    filled: list[tuple[float, float] | None] = list(times)
    k = 0
    while k < len(filled):
        if filled[k] is not None:
            k += 1
            continue
        j = k
        while j < len(filled) and filled[j] is None:
            j += 1
        before = filled[k - 1][1] if k else lo  # type: ignore[index]
        after = filled[j][0] if j < len(filled) else hi  # type: ignore[index]
        _share(filled, range(k, j), before, max(before, after), weights)
        k = j
    out: list[tuple[float, float]] = []
    for t in filled:
        assert t is not None
        start = min(max(t[0], out[-1][0] if out else lo), hi)
        out.append((start, min(max(t[1], start), hi)))
    return out


def segment_words(text: str, language: str, start: float, end: float,
                  heard: Sequence[Mapping[str, Any]] | None = None, lead: float = 0.0
                  ) -> list[TimedWord]:
    """The script words of a segment whose speech runs ``start..end`` in the narration.

    ``heard``: its take's recognised words (``{"text", "start", "end"}``, seconds in the
    take's audio), None if it was not heard back; ``lead``: seconds the trim cut from the
    take's start (take time ``lead`` is narration time ``start``)."""
    flat = flat_text(text)
    words = _script_words(flat, language)
    if not words:
        return []
    ref = [key for _, _, keys in words for key in keys]
    weights = [max(1, spoken_weight(key)) for key in ref]  # a unit's share of spoken length
    matched: list[tuple[float, float] | None] = [None] * len(ref)
    if heard:
        hyp, hyp_times = _heard_units(heard, language)
        shift = start - lead
        placed = [(a + shift, b + shift) for a, b in hyp_times]
        matched = _match(ref, hyp, placed, weights)
    if not any(matched):
        return _estimated(flat, words, start, end)
    times = _fill(matched, weights, start, end)
    out, i = [], 0
    for first, last, keys in words:  # a word's units are consecutive in ref
        own = range(i, i + len(keys))
        i += len(keys)
        out.append(TimedWord(flat[first:last], first, last, times[own[0]][0],
                             times[own[-1]][1], all(matched[k] for k in own)))
    return out


def _estimated(flat: str, words: list[tuple[int, int, list[str]]], start: float,
               end: float) -> list[TimedWord]:
    """The words timed by the text estimate alone (as the subtitles are without words)."""
    chars = estimated_char_times(start, end, flat)
    return [TimedWord(flat[first:last], first, last, chars[first][0], chars[last - 1][1], False)
            for first, last, _ in words]


def words_document(segments: Sequence[tuple[int, Sequence[TimedWord]]]) -> str:
    """The words file (README: "Word timings"): ``{"version": 1, "words": [{"text",
    "start", "end", "segment", "source"}, ...]}``, times in seconds to the millisecond,
    ``segment`` the segment's index, ``source`` "heard" or "estimated"."""
    listed = [{"text": w.text, "start": round(w.start_s, 3), "end": round(w.end_s, 3),
               "segment": idx, "source": "heard" if w.heard else "estimated"}
              for idx, words in segments for w in words]
    # One word a line: readable, and a diff of two versions shows the words that moved.
    lines = ",\n".join(json.dumps(w, ensure_ascii=False) for w in listed)
    return f'{{"version": {WORDS_FORMAT_VERSION}, "words": [\n{lines}\n]}}\n' if listed \
        else f'{{"version": {WORDS_FORMAT_VERSION}, "words": []}}\n'

