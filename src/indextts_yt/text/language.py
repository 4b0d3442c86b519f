"""Decide whether a piece of text is Chinese or English, cheaply and repeatably.

The rule: count Han ideographs and other letters (digits, punctuation and symbols do
not count). Each ideograph is weighted ``HAN_WEIGHT`` because one ideograph is a whole
spoken syllable while an English syllable takes about three letters; the weights make
the comparison one of spoken length. The text is "zh" when the weighted ideographs are
at least the other letters, otherwise "en". With no letters at all the caller's
``default`` is returned (a segment of bare numbers takes the document's language).

So "我们用 Python 写代码" is zh (6×3 ≥ 6) and "It works! 好的" is en (2×3 < 7): a
Chinese sentence with an English word in it is still read by a Chinese voice.

Only zh and en are told apart: Japanese kana, Hangul, Cyrillic etc. count as "other
letters", so text in those scripts comes out "en".
"""

from __future__ import annotations

import re

from .chars import HAN_CLASS, OPENERS

HAN_WEIGHT = 3
_HAN = re.compile(f"[{HAN_CLASS}]")
# Letters: word characters that are neither digits nor the underscore.
_LETTER = re.compile(r"[^\W\d_]")


def detect_language(text: str, default: str = "en") -> str:
    han = len(_HAN.findall(text))
    other = len(_LETTER.findall(text)) - han
    if han == 0 and other == 0:
        return default
    return "zh" if han * HAN_WEIGHT >= other else "en"


# -- language runs -------------------------------------------------------------------------
# A segment goes to an engine that speaks one language, so a mixed sentence is cut where the
# language changes. Tokens: a run of ideographs (zh), a Latin word (en), an acronym
# ("AI", "OK", "GPT", "CEO": read letter by letter in either language, so it takes its
# neighbours' language instead of cutting), and everything else (spaces, digits,
# punctuation), which stays with the run on its left.
_TOKEN = re.compile(rf"(?P<han>[{HAN_CLASS}]+)|(?P<word>[^\W\d_]+(?:['’\-][^\W\d_]+)*)")
_ACRONYM = re.compile(r"[A-Z]{1,5}s?")
# Digits written right against an ideograph belong to it: "2024年", "100元".
_DIGITS_BEFORE = re.compile(r"[\d.,%]+$")


def language_runs(text: str, default: str = "en") -> list[tuple[str, str]]:
    """``text`` cut where its language changes: ``(piece, language)`` pairs whose pieces,
    joined, give ``text`` again (the whitespace at a cut stays on the left piece). A text in
    one language (or none) is one piece, in ``detect_language``'s language."""
    marks: list[tuple[int, str]] = []  # (start, language) of each strong token
    for match in _TOKEN.finditer(text):
        if match.group("han"):
            marks.append((match.start(), "zh"))
        elif not _ACRONYM.fullmatch(match.group()) and match.group().isascii():
            marks.append((match.start(), "en"))
    languages = [lang for _, lang in marks]
    if len(set(languages)) < 2:
        return [(text, detect_language(text, default))] if text else []
    cuts = [0]
    current = marks[0][1]
    for start, lang in marks[1:]:
        if lang != current:
            cuts.append(_cut_before(text, cuts[-1], start))
            current = lang
    cuts.append(len(text))
    runs: list[tuple[str, str]] = []
    for a, b in zip(cuts, cuts[1:]):
        piece = text[a:b]
        runs.append((piece, detect_language(piece, default)))
    return [r for r in runs if r[0]]


def _cut_before(text: str, floor: int, start: int) -> int:
    """Where the run that begins with the token at ``start`` starts: right before it, or
    before the acronyms, digits and opening quotes/brackets directly attached to it."""
    cut = start
    while cut > floor:
        before = text[floor:cut]
        attached = _DIGITS_BEFORE.search(before)
        if attached and attached.start() + floor < cut:
            cut = attached.start() + floor
            continue
        if before[-1] in OPENERS:
            cut -= 1
            continue
        break
    return cut
