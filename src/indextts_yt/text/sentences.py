"""Find sentence ends in English, Chinese and mixed text.

The rules, in the order they are applied to each run of terminators (. ! ? 。 ！ ？ ；
… and friends), with any closing quotes/brackets right after it attached:

* ASCII ``. ! ?`` end a sentence only before a space, the end, or an ideograph
  (``It works!好的``): so "3.14", "$2.50", "v1.2.3", "example.com/a.b?c=d" and
  "x@y.org" are never cut. Chinese stops ``。！？；`` and ``…`` need no space.
* A single ``.`` after a title or Latin abbreviation (Dr. Mr. St. e.g. i.e. vs. ...)
  never ends a sentence; after a number prefix (No. Fig. p. Jan. ...) it does not when
  a digit follows; after an initial or a dotted acronym (J. R. R. Tolkien, U.S. Army)
  it does not when a capital follows; after a bare number with no space ("1.第一步")
  it does not either.
* An ellipsis (``...``, ``…``, ``……``) or any ASCII terminator followed by a lowercase
  letter or by more punctuation does not end the sentence ("Wait... what?",
  "etc. and so on"); it is kept as a clause-level pause for wrapping long sentences.
* After a closing quote: a lowercase word ("... you?” she asked."), "I said", or (in
  Chinese) a short clause with a verb of saying (“你好吗？”她问。) is a speech tag and
  continues the sentence. After ``说：“……。”`` the sentence ends.
* A sentence end strictly inside a closed quote or bracket pair does not end the
  narrator's sentence; it is kept as a ``QUOTED`` break, the best place to cut if the
  quotation is too long for one segment.

Sentence ends are only cut when the text before them has a letter or digit, so a
stray "…" never becomes a segment on its own.
"""

from __future__ import annotations

import re

from .breaks import Break, Level
from .chars import CLOSERS, OPENERS, QUOTE_CLOSERS, is_punct, is_wide
from .quotes import Span, enclosed_spans, inside_mask

_TERMINATORS = re.compile(r"[.!?‼⁇⁈⁉．。！？；｡…]+")
# Chinese/Japanese full stops: a sentence end wherever they appear, no space needed.
_WIDE_STOPS = frozenset("。！？；｡")
_ELLIPSIS = frozenset(".．…")

# Always followed by more of the same sentence (a name, an example, the other party).
NEVER_FINAL = frozenset(
    "mr mrs ms messrs mme mlle dr prof rev hon gov sen rep pres gen col capt lt maj sgt "
    "cpl cmdr adm supt insp mt st e.g i.e cf vs v viz approx".split()
)
# Followed by a number they label: "No. 5", "Fig. 3", "p. 12", "Jan. 5".
NUMBER_LABELS = frozenset(
    "no nos nr fig figs vol vols pp p pg ch chap art sec sect eq ref op pt para tab "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Z]\.)+[A-Z]$")
# Verbs of saying that make a short clause after a Chinese quotation a speech tag.
_SPEECH_VERBS = frozenset("说道问答叫喊嚷笑哭叹想骂吼")
_TAG_CHARS = 8


def sentence_breaks(text: str) -> list[Break]:
    """Sentence-level breaks (``SENTENCE``, ``QUOTED``, ``CLAUSE``) in one run of text
    with no line breaks, in order."""
    spans = enclosed_spans(text)
    inside = inside_mask(len(text), spans)
    closing_quote_at = {span.end - 1: span for span in spans}
    breaks: list[Break] = []
    # Whether the sentence under way has a letter or digit yet, tracked incrementally
    # so a long run of bare ". . . ." is scanned once, not once per dot.
    has_content = False
    scanned = 0
    n = len(text)
    for match in _TERMINATORS.finditer(text):
        run = match.group()
        cut = match.end()
        # Closing marks after the terminator belong to the sentence. A straight quote
        # counts only if the pairing pass saw it close something (else it may open).
        while cut < n and text[cut] in CLOSERS and (
            text[cut] not in "\"'＂＇" or cut in closing_quote_at
        ):
            cut += 1
        after = cut
        while after < n and text[after] == " ":
            after += 1
        if after >= n:
            continue  # the end of the text is not a break
        if not has_content:
            has_content = any(ch.isalnum() for ch in text[scanned : match.start()])
            scanned = match.start()
            if not has_content:
                continue  # nothing worth saying before it
        spaced = after > cut
        nxt = text[after]
        needs_space = not (_WIDE_STOPS.intersection(run) or "…" in run)
        if needs_space and not spaced and not is_wide(nxt):
            continue  # "3.14", "example.com", "v1.2.3", "?c=d"
        level = _judge(text, match.start(), run, cut, after, spaced, closing_quote_at)
        if level is None:
            continue
        if level == Level.SENTENCE and inside[cut]:
            level = Level.QUOTED
        breaks.append(Break(cut, after, level))
        has_content = False
        scanned = after
    return breaks


def split_sentences(text: str) -> list[str]:
    """``text`` cut at its sentence ends (a convenience for callers and tests)."""
    out = []
    start = 0
    for brk in sentence_breaks(text):
        if brk.level == Level.SENTENCE:
            out.append(text[start : brk.end])
            start = brk.start
    out.append(text[start:])
    return [s for s in out if s]


def _judge(
    text: str,
    at: int,
    run: str,
    cut: int,
    after: int,
    spaced: bool,
    closing_quote_at: dict[int, Span],
) -> Level | None:
    """What the terminator ``run`` at ``text[at]`` is, given what follows it."""
    nxt = text[after]
    continues = nxt.islower() or (is_punct(nxt) and nxt not in OPENERS)

    if run in (".", "．"):
        word = _word_before(text, at)
        lower = word.lower()
        if lower in NEVER_FINAL:
            return None
        if lower in NUMBER_LABELS and nxt.isdigit():
            return None
        if word.isdigit() and not spaced:
            return None  # "1.第一步": a numbered item, not a sentence
        if (len(word) == 1 and word.isupper() or _DOTTED_ACRONYM.match(word)) and nxt.isupper():
            return None  # J. R. R. Tolkien, the U.S. Army

    if set(run) <= _ELLIPSIS and (len(run) > 1 or run == "…"):
        return Level.CLAUSE if continues else Level.SENTENCE

    closing_quotes = [i for i in range(at + len(run), cut) if text[i] in QUOTE_CLOSERS]
    if closing_quotes:
        if is_wide(nxt) and not is_punct(nxt):
            # Chinese has no capitals to tell a speech tag (“你好吗？”她问。) from a new
            # sentence (“我来了！”小明推开门走了进来。). A quote introduced by a colon
            # (他说：“走吧。”) completes its sentence; otherwise a short clause with a
            # verb of saying is a tag.
            span = closing_quote_at.get(closing_quotes[-1])
            if span and _after_colon(text, span.start):
                return Level.SENTENCE
            return Level.CLAUSE if _is_chinese_speech_tag(text, after) else Level.SENTENCE
        if continues or _is_i_said(text, after):
            return Level.CLAUSE
        return Level.SENTENCE

    if _WIDE_STOPS.intersection(run):
        return Level.SENTENCE
    return Level.CLAUSE if continues else Level.SENTENCE


def _word_before(text: str, end: int) -> str:
    # Chinese needs no space before a Latin word ("。Dr. Li"), so an ideograph ends it too.
    start = end
    while start > 0 and not text[start - 1].isspace() and not is_wide(text[start - 1]):
        start -= 1
    word = text[start:end]
    while word and word[0] in OPENERS:
        word = word[1:]
    return word


def _after_colon(text: str, index: int) -> bool:
    index -= 1
    while index >= 0 and text[index] == " ":
        index -= 1
    return index >= 0 and text[index] in "：:"


def _is_chinese_speech_tag(text: str, index: int) -> bool:
    """'她问', '他笑着说', '小猪叫道': a clause of at most ``_TAG_CHARS`` characters up to
    the next punctuation, holding a verb of saying."""
    end = index
    while end < len(text) and end - index <= _TAG_CHARS and not is_punct(text[end]):
        end += 1
    clause = text[index:end]
    return len(clause) <= _TAG_CHARS and any(ch in _SPEECH_VERBS for ch in clause)


def _is_i_said(text: str, index: int) -> bool:
    """'"Yes?" I said.': the capital I of a speech tag, not a new sentence."""
    return text[index : index + 2] == "I " and index + 2 < len(text) and text[index + 2].islower()
