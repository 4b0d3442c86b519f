"""Character classes shared by the text stage.

Chinese and English differ in the two things the splitter cares about: where a word
ends (a space in English, any character boundary between ideographs in Chinese) and
which punctuation may start or end a line. Everything that needs those answers asks
this module, so the rules live in one place.
"""

from __future__ import annotations

import unicodedata

# Han ideographs: the unified blocks, extension A, the compatibility block and the
# supplementary-plane extensions B..H, plus 〇 (the ideographic zero, a numeral).
_HAN_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
    (0x30000, 0x323AF),
)

# Scripts and symbols written without spaces between words: kana, bopomofo, CJK
# punctuation and the full-width forms. Hangul is deliberately absent: Korean puts
# spaces between words, so it wraps like English.
_WIDE_RANGES = _HAN_RANGES + (
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation (。、「」…)
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31A0, 0x31FF),  # bopomofo extended, katakana phonetic extensions
    (0xFE30, 0xFE4F),  # CJK compatibility forms (vertical punctuation)
    (0xFF00, 0xFF60),  # full-width ASCII variants (，！？：；（）)
    (0xFF61, 0xFF9F),  # half-width CJK punctuation and katakana
)

# Pairs of brackets and quotes whose contents belong together. ASCII " and ' are not
# here: they are the same character on both sides and need guessing (see quotes.py).
PAIRS: dict[str, str] = {
    "“": "”",
    "‘": "’",
    "「": "」",
    "『": "』",
    "（": "）",
    "(": ")",
    "[": "]",
    "{": "}",
    "【": "】",
    "《": "》",
    "〈": "〉",
    "«": "»",
    "‹": "›",
    "［": "］",
    "｛": "｝",
    "〔": "〕",
    "〖": "〗",
    "｢": "｣",
}
OPENERS = frozenset(PAIRS) | {'"', "'", "＂", "＇"}
CLOSERS = frozenset(PAIRS.values()) | {'"', "'", "＂", "＇"}
# The closers that end quoted speech (as opposed to a parenthesis).
QUOTE_CLOSERS = frozenset('"\'”’」』»›＂＇｣')

# Characters that must not begin a piece of text when we cut inside a sentence
# (the Chinese/Japanese "kinsoku" rule, plus their ASCII cousins): a reader would
# otherwise hear a comma or a closing quote stranded at the start of a segment.
NO_BREAK_BEFORE = frozenset("，。、；：！？…‥）」』”’》〉】］｝〕〗｣·・ー々ゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ.,;:!?)]}\"'％%")
# Characters that must not end a piece: an opening bracket belongs with what follows.
NO_BREAK_AFTER = frozenset("（「『“‘《〈【［｛〔〖｢([{\"'＄$￥£€#@")

# The Han ranges as a regex character class, for counting ideographs in bulk.
HAN_CLASS = "〇" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _HAN_RANGES)


def is_wide(ch: str) -> bool:
    """A character from a script that is written without spaces between words."""
    code = ord(ch)
    if code < 0x2E80:  # fast path: everything before the CJK blocks (all of Latin)
        return False
    return any(lo <= code <= hi for lo, hi in _WIDE_RANGES)


def is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def joiner(left: str, right: str) -> str:
    """The separator to put between two runs of text that a line break separated.

    A hard-wrapped Chinese paragraph has no spaces, so joining its lines with a space
    would invent a pause (and a wrong token) mid-sentence; every other script gets one.
    """
    if left and right and is_wide(left[-1]) and is_wide(right[0]):
        return ""
    return " "


def can_break_between(left: str, right: str) -> bool:
    """Whether a cut between these two adjacent non-space characters splits no word.

    Between two ideographs (or an ideograph and Latin text) there is no word to split;
    between two Latin letters there is. Kinsoku punctuation stays with its neighbour.
    """
    if not (is_wide(left) or is_wide(right)):
        return False
    if right in NO_BREAK_BEFORE or left in NO_BREAK_AFTER:
        return False
    return not unicodedata.combining(right)


SENTENCE_FINAL = frozenset(".!?…;。！？；")


def ends_sentence(text: str) -> bool:
    """Whether text ends a sentence, looking past closing quotes and brackets."""
    i = len(text) - 1
    while i >= 0 and (text[i].isspace() or text[i] in CLOSERS):
        i -= 1
    return i >= 0 and text[i] in SENTENCE_FINAL


def ends_with_punctuation(text: str) -> bool:
    """Whether text ends in punctuation, looking past closing quotes and brackets.

    A piece that ends without punctuation (a list item, a hard-wrapped fragment) gives
    the engine no cue for a pause, so it must not be run together with what follows.
    """
    i = len(text) - 1
    while i >= 0 and (text[i].isspace() or text[i] in CLOSERS):
        i -= 1
    return i >= 0 and is_punct(text[i]) and text[i] not in OPENERS
