"""Automatic dialogue: the quoted speech in narration, and who says it.

``quotes`` finds the quoted spans of a text: “…”, "…", ‘…’, 「…」 and 『…』, each within
one paragraph. A quote mark opens only at a word boundary and before a non-space (so the
apostrophes of "Pooh's" and "don't" never open one); ’ and a straight " close only where
no letter follows. A speech over paragraphs is written with the quote opened again at
each paragraph and closed in the last only: each paragraph's part is a span. Any other
mark without its closing mark in the paragraph is text (an unbalanced quote is read as
narration). Headings, inline code and fenced code blocks have no quotes.

``speakers`` names who says each quote: a cast name found in its attribution — "said
Pooh", "Pooh said", "asked Piglet", "Piglet asked" (and replied, answered, cried, called,
shouted, whispered), "小熊说", "说小熊" (also 问, 道, 答, 喊, 叫) — in the narration right
after the quote (to the end of that sentence), else right before it (from the start of
that sentence); names match ignoring case, also as the end of a hyphenated name
("said Winnie-the-Pooh" for Pooh). A quote without an attribution of its own, in a
paragraph whose attributed quotes all have one speaker, is that speaker's (a paragraph of
dialogue is one character's); the parts of a speech over paragraphs share its speaker.
Otherwise: None (the dialogue voice's, else the narrator's).

``split`` cuts a text into narration and quotes with their speakers, for jobs/plan.py to
give each quote its own section (and voice). Everything here is text.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass

#: Opening mark -> its closing mark.
PAIRS = {"“": "”", '"': '"', "‘": "’", "「": "」", "『": "』"}
_OPENING = re.compile("|".join(map(re.escape, PAIRS)))
_LATIN_OPEN = "“\"‘"  # open only at a word boundary
_STRICT_CLOSE = "’\""  # apostrophe-like: close only where no letter follows
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_INDENT = re.compile(r"\s*")
_BLOCKED = re.compile(r"^[ \t]{0,3}(```|~~~)[^\n]*\n.*?(^[ \t]{0,3}\1[^\n]*$|\Z)"
                      r"|^[ \t]{0,3}#{1,6}[ \t][^\n]*$|(`+)[^\n]+?\3", re.M | re.S)
_VERBS_EN = r"(?:said|says|asked|asks|replied|answered|cried|called|shouted|whispered)"
_VERBS_ZH = "说问道答喊叫"
_SENTENCE_END = re.compile(r"[.!?。！？]")
_PRONOUNS = {"he", "she", "they", "it", "i", "we", "you"}
# An attribution to someone not in the cast: "said Owl", "Christopher Robin said".
_ANYONE = re.compile(rf"(?<!\w){_VERBS_EN}\s+(?:the\s+)?([A-Z][\w-]*)"
                     rf"|(?<!\w)([A-Z][\w-]*)\s+{_VERBS_EN}(?!\w)")
#: A quote attributed to someone not in the cast (for the paragraph rule).
OTHER = "\0other"


@dataclass(frozen=True)
class Part:
    """A run of the text: narration, or a quote (marks included) with its speaker."""

    text: str
    quote: bool = False
    speaker: str | None = None  # a cast name; None: unknown (or narration)


def quotes(text: str) -> list[tuple[int, int]]:
    """The quoted spans of ``text`` as (start, end), marks included, in order."""
    return [(start, end) for start, end, _ in _spans(text)]


def _spans(text: str) -> list[tuple[int, int, bool]]:
    """The quoted spans, each with whether the quote goes on in the next paragraph: a
    quote of several paragraphs closes only in its last, each of the others ending open
    and the next one opening with the same mark (the typesetting convention)."""
    blocked = [m.span() for m in _BLOCKED.finditer(text)]
    blocked_starts = [a for a, _ in blocked]
    breaks = {m.start(): m.end() for m in _PARAGRAPH.finditer(text)}
    break_starts = list(breaks)
    out: list[tuple[int, int, bool]] = []
    found = _OPENING.search(text)
    while found:
        i = found.start()
        mark, after = text[i], i + 1  # where to look for the next mark
        b = bisect.bisect_right(blocked_starts, i)  # blocked[b - 1]: the last one from here
        if _opens(text, i) and not (b and blocked[b - 1][1] > i):
            k = bisect.bisect_right(break_starts, i)
            limit = min(break_starts[k] if k < len(break_starts) else len(text),
                        blocked_starts[b] if b < len(blocked) else len(text))
            close = _closing(text, i, limit)
            if close is not None:
                end, goes_on = close + 1, False
            elif limit in breaks and _reopens(text, breaks[limit], mark):
                end, goes_on = limit, True  # to the end of the paragraph, left open
            else:
                end = None  # unbalanced: the mark is text
            if end is not None and re.search(r"\w", text[i + 1:end]):  # (not an empty quote)
                out.append((i, end, goes_on))
                after = end
        found = _OPENING.search(text, after)
    return out


def _reopens(text: str, start: int, mark: str) -> bool:
    """Whether the paragraph at ``start`` opens a quote with ``mark``."""
    j = _INDENT.match(text, start).end()
    return text[j:j + 1] == mark and _opens(text, j)


def _opens(text: str, i: int) -> bool:
    after = text[i + 1:i + 2]
    if not after or after.isspace():
        return False
    if text[i] in _LATIN_OPEN:
        before = text[i - 1:i]
        return not before or not (before.isalnum() or before in "_.,;:!?)]}”’\"")
    return True


def _closing(text: str, i: int, limit: int) -> int | None:
    close = PAIRS[text[i]]
    j = text.find(close, i + 1, limit)
    while j != -1:
        before, after = text[j - 1:j], text[j + 1:j + 2]
        if close not in _STRICT_CLOSE or (not before.isspace() and not
                                          (after.isalnum() or after == "_")):
            return j
        j = text.find(close, j + 1, limit)
    return None


def _patterns(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(
        rf"(?<!\w){_VERBS_EN}\s+(?:the\s+)?(?:\w+-)*{n}(?!\w)"
        rf"|(?<!\w){n}\s+{_VERBS_EN}(?!\w)"
        rf"|{n}[{_VERBS_ZH}]|[说问]{n}", re.I)


def _attribution(window: str, cast: dict[str, re.Pattern[str]], last: bool) -> str | None:
    """The cast name (or OTHER) attributed in ``window``: the match nearest the quote."""
    found: list[tuple[int, str]] = []
    for name, pattern in cast.items():
        found += [(m.start() if not last else -m.end(), name) for m in pattern.finditer(window)]
    for m in _ANYONE.finditer(window):
        who = m.group(1) or m.group(2)
        if who.lower() not in _PRONOUNS and who.lower() not in _VERBS_EN:
            found.append((m.start() if not last else -m.end(), OTHER))
    if not found:
        return None
    # a cast name wins over OTHER at the same place ("said Pooh" is also "said <Name>")
    return min(found, key=lambda f: (f[0], f[1] == OTHER))[1]


def speakers(text: str, spans: list[tuple[int, int, bool]],
             cast: Collection[str]) -> list[str | None]:
    """Who says each quote of ``spans`` (as ``_spans`` gives them; see the module's
    docstring): a cast name or None."""
    patterns = {name: _patterns(name) for name in cast}
    found: list[str | None] = []
    for k, (start, end, _) in enumerate(spans):
        after_end = spans[k + 1][0] if k + 1 < len(spans) else len(text)
        after = text[end:after_end]
        after = after[:_cut(after, _PARAGRAPH)]
        stop = _SENTENCE_END.search(after)
        after = after[:stop.end()] if stop else after
        before_start = spans[k - 1][1] if k else 0
        before = text[before_start:start]
        breaks = list(_PARAGRAPH.finditer(before))
        before = before[breaks[-1].end():] if breaks else before
        ends = list(_SENTENCE_END.finditer(before))
        before = before[ends[-1].end():] if ends else before
        found.append(_attribution(after, patterns, last=False)
                     or _attribution(before, patterns, last=True))
    # A quote over several paragraphs is one speech; a paragraph of dialogue is one
    # character's (then its speech goes on in their voice in the next paragraphs).
    speech = list(itertools.accumulate(
        range(len(spans)), lambda first, k: first if spans[k - 1][2] else k))
    paragraph_starts = [m.end() for m in _PARAGRAPH.finditer(text)]
    paragraph = [bisect.bisect(paragraph_starts, start) for start, _, _ in spans]
    for groups in (speech, paragraph, speech):
        _share(found, groups)
    return [None if who == OTHER else who for who in found]


def _share(found: list[str | None], groups: list[int]) -> None:
    """Give the unattributed quotes of each group (``groups[k]``: quote k's) the group's
    speaker, where it has exactly one."""
    named: dict[int, set[str]] = {}
    for group, who in zip(groups, found):
        if who:
            named.setdefault(group, set()).add(who)
    for k, group in enumerate(groups):
        if found[k] is None and len(named.get(group, ())) == 1:
            (found[k],) = named[group]


def _cut(text: str, pattern: re.Pattern[str]) -> int:
    m = pattern.search(text)
    return m.start() if m else len(text)


def split(text: str, cast: Collection[str] = (), attribution: bool = True) -> list[Part]:
    """``text`` as narration and quotes, in order, joined they are ``text``; each quote
    with its speaker (``attribution`` off: None for all)."""
    spans = _spans(text)
    who = speakers(text, spans, cast) if attribution and cast else [None] * len(spans)
    parts: list[Part] = []
    pos = 0
    for (start, end, _), speaker in zip(spans, who):
        if start > pos:
            parts.append(Part(text[pos:start]))
        parts.append(Part(text[start:end], quote=True, speaker=speaker))
        pos = end
    if pos < len(text):
        parts.append(Part(text[pos:]))
    return parts
