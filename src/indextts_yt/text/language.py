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

from .chars import HAN_CLASS

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
