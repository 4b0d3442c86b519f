"""Find the quoted and bracketed stretches of a text.

A full stop inside quoted speech does not end the narrator's sentence
(“Hello. How are you?” she asked.), so the splitter needs to know which stretches are
enclosed. Only pairs that actually close count: an apostrophe, an emoticon ":)" or a
quote left open at the end of a paragraph (common in multi-paragraph dialogue) must
not silence the sentence ends after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chars import OPENERS, PAIRS, is_punct, is_wide

# Real prose never nests this deep; the cap keeps a run of stray openers ("((((...")
# from making every later closing mark search a huge stack.
_MAX_DEPTH = 32

_CLOSER_TO_OPENERS: dict[str, set[str]] = {}
for _opener, _closer in PAIRS.items():
    _CLOSER_TO_OPENERS.setdefault(_closer, set()).add(_opener)


@dataclass(frozen=True)
class Span:
    start: int  # index of the opening mark
    end: int  # index just past the closing mark
    opener: str


def enclosed_spans(text: str) -> list[Span]:
    """All matched quote/bracket pairs in ``text``, ordered by start."""
    stack: list[tuple[str, int]] = []  # (opening mark, its index)
    spans: list[Span] = []

    def close(openers: set[str], at: int) -> bool:
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] in openers:
                spans.append(Span(stack[depth][1], at + 1, stack[depth][0]))
                # Openers left inside the pair were never closed: forget them.
                del stack[depth:]
                return True
        return False

    last = len(text) - 1
    for i, ch in enumerate(text):
        prev = text[i - 1] if i > 0 else " "
        nxt = text[i + 1] if i < last else " "
        if ch in "\"＂'＇":
            _straight_quote(ch, prev, nxt, i, stack, close)
        elif ch == "’":
            # Between letters it is an apostrophe (don’t); it never opens.
            if not (prev.isalnum() and nxt.isalnum()):
                close({"‘"}, i)
        elif ch in PAIRS:
            # ‘ right after a letter is a misused apostrophe, not an opening quote.
            if not (ch == "‘" and prev.isalnum()):
                stack.append((ch, i))
        elif ch in _CLOSER_TO_OPENERS:
            close(_CLOSER_TO_OPENERS[ch], i)
        if len(stack) > _MAX_DEPTH:
            del stack[0]
    spans.sort(key=lambda span: span.start)
    return spans


def _straight_quote(ch, prev, nxt, i, stack, close) -> None:
    """ASCII quotes look the same on both sides, so guess from the neighbours:
    an opening quote follows a space or punctuation and precedes text, a closing
    quote follows text. When both readings fit, the open/closed state decides."""
    if ch in "'＇":
        if prev.isalnum() and nxt.isalnum():
            return  # can't, Pooh's
        looks_open = (prev.isspace() or prev in OPENERS or is_punct(prev)) and nxt.isalnum()
        looks_close = not prev.isspace() and not nxt.isalnum()
    else:
        looks_open = (prev.isspace() or prev in OPENERS or is_punct(prev) or is_wide(prev)) and not nxt.isspace()
        looks_close = not prev.isspace() and (nxt.isspace() or is_punct(nxt) or is_wide(nxt))
    is_open = any(mark == ch for mark, _ in stack)
    if looks_close and (is_open or not looks_open):
        close({ch}, i)
    elif looks_open:
        if is_open:
            # A new quotation starts while the last one never closed: drop the stale one.
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == ch:
                    del stack[depth]
                    break
        stack.append((ch, i))


def inside_mask(length: int, spans: list[Span]) -> list[bool]:
    """``mask[i]`` is True when position ``i`` (a cut before ``text[i]``) lies strictly
    inside some span; a cut right after a closing mark is outside."""
    diff = [0] * (length + 2)
    for span in spans:
        if span.end - span.start >= 2:
            diff[span.start + 1] += 1
            diff[span.end] -= 1
    mask = []
    depth = 0
    for i in range(length + 1):
        depth += diff[i]
        mask.append(depth > 0)
    return mask
