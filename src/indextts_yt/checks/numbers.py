"""English numbers as words, so "1926" and "nineteen twenty-six" compare equal.

Whisper writes numbers as digits or as words as it likes; the written text does too. Both
sides of the comparison go through ``numbers_to_words``. Small on purpose, and only what
narration needs: integers (commas allowed), decimals ("3.5": three point five), years
(1100-1999 and 2010-2099 read in pairs: "1926" nineteen twenty six, "1900" nineteen
hundred, "1905" nineteen oh five; 2000-2009 as cardinals), ordinals ("21st") and "%".
Currency signs, fractions and Roman numerals are left as written.
"""

from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth",
            "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(st|nd|rd|th)?(?!\w)")


def cardinal(n: int) -> str:
    """0 <= n < 10**12 in words, without "and": 1234 -> one thousand two hundred thirty four."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + cardinal(n % 100))
    for scale, word in _SCALES:
        if n >= scale:
            rest = n % scale
            return cardinal(n // scale) + f" {word}" + ("" if rest == 0 else " " + cardinal(rest))
    raise ValueError(n)  # unreachable


def year(n: int) -> str:
    high, low = divmod(n, 100)
    if low == 0:
        return cardinal(high) + " hundred"
    return cardinal(high) + (" oh " + _ONES[low] if low < 10 else " " + cardinal(low))


def ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spoken(match: re.Match[str]) -> str:
    digits, decimals, suffix = match.group(1), match.group(2), match.group(3)
    n = int(digits.replace(",", ""))
    if n >= 10**12:
        return " ".join(_ONES[int(d)] for d in digits if d.isdigit())
    if suffix:
        return ordinal(cardinal(n))
    if decimals:
        return cardinal(n) + " point " + " ".join(_ONES[int(d)] for d in decimals[1:])
    if "," not in digits and len(digits) == 4 and (1100 <= n <= 1999 or 2010 <= n <= 2099):
        return year(n)
    return cardinal(n)


def numbers_to_words(text: str) -> str:
    """``text`` with every number it holds spelled out (see the module's scope)."""
    return _NUMBER.sub(lambda m: f" {_spoken(m)} ", text.replace("%", " percent "))
